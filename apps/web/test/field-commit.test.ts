import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { decideNumberDraft, IdleCommitter, IDLE_COMMIT_MS } from "@/lib/field-commit";
import { sentenceCase } from "@/lib/sentence";

describe("decideNumberDraft", () => {
  it("sends a new valid value, nothing for the room's own value", () => {
    expect(decideNumberDraft("styleWeight", "1000", 100)).toEqual({ kind: "send", value: 1000 });
    expect(decideNumberDraft("styleWeight", " 100 ", 100)).toEqual({ kind: "unchanged" });
  });
  it("explains an empty or out-of-range text in one sentence-case sentence", () => {
    expect(decideNumberDraft("styleWeight", "", 100)).toEqual({ kind: "invalid", error: "Enter a number." });
    const tooBig = decideNumberDraft("size", "99999", 384);
    expect(tooBig.kind).toBe("invalid");
    if (tooBig.kind === "invalid") {
      expect(tooBig.error).toMatch(/^[A-Z]/);
      expect(tooBig.error).not.toMatch(/^size:/i);
      expect(tooBig.error.endsWith(".")).toBe(true);
    }
    expect(decideNumberDraft("iterations", "2.5", 200).kind).toBe("invalid");
  });
  it("sentenceCase capitalises and ends with one full stop", () => {
    expect(sentenceCase("too small")).toBe("Too small.");
    expect(sentenceCase("Done!")).toBe("Done!");
    expect(sentenceCase("password too weak: use at least 8 characters")).toBe(
      "Password too weak: use at least 8 characters.",
    );
    expect(sentenceCase("  ")).toBe("");
  });
});

describe("IdleCommitter", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("typing 1, 10, 100, 1000 commits once, the last value, after the pause", () => {
    const sent: number[] = [];
    const send = (v: number) => void sent.push(v);
    const c = new IdleCommitter<number>();
    for (const v of [1, 10, 100, 1000]) {
      c.schedule(v, send);
      vi.advanceTimersByTime(150); // keystrokes 150 ms apart
    }
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(IDLE_COMMIT_MS);
    expect(sent).toEqual([1000]);
    vi.advanceTimersByTime(10 * IDLE_COMMIT_MS);
    expect(sent).toEqual([1000]);
  });
  it("flush (Enter, blur, release) commits at once and only once", () => {
    const sent: number[] = [];
    const send = (v: number) => void sent.push(v);
    const c = new IdleCommitter<number>();
    c.schedule(5, send);
    c.flush();
    c.flush();
    vi.advanceTimersByTime(IDLE_COMMIT_MS * 2);
    expect(sent).toEqual([5]);
    expect(c.hasPending).toBe(false);
  });
  it("cancel drops the held value", () => {
    const sent: number[] = [];
    const send = (v: number) => void sent.push(v);
    const c = new IdleCommitter<number>();
    c.schedule(5, send);
    c.cancel();
    vi.advanceTimersByTime(IDLE_COMMIT_MS * 2);
    c.flush();
    expect(sent).toEqual([]);
  });
});
