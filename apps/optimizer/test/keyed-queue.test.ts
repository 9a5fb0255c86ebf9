import { describe, expect, it } from "vitest";
import { KeyedQueue } from "../src/common/keyed-queue.ts";

/** A promise settled from outside, so a test decides when each task finishes. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void; fail: (error: Error) => void } {
  let open!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets every already-settled promise's callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("keyed serial queue", () => {
  it("runs the tasks of one key one after another, in the order they were queued", async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const first = gate();
    const a = queue.run("room", async () => {
      log.push("a start");
      await first.promise;
      log.push("a end");
      return "a";
    });
    const b = queue.run("room", async () => {
      log.push("b");
      return "b";
    });
    const c = queue.run("room", async () => {
      log.push("c");
      return "c";
    });
    await settle();
    expect(log).toEqual(["a start"]);
    expect(queue.busy("room")).toBe(true);
    first.open();
    expect(await Promise.all([a, b, c])).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["a start", "a end", "b", "c"]);
  });

  it("does not make one key wait for another", async () => {
    const queue = new KeyedQueue();
    const stuck = gate();
    const slow = queue.run("room-1", () => stuck.promise);
    const other = await queue.run("room-2", async () => "done");
    expect(other).toBe("done");
    await settle();
    expect(queue.busy("room-1")).toBe(true);
    expect(queue.busy("room-2")).toBe(false);
    stuck.open();
    await slow;
  });

  it("a rejected task rejects its own caller only and the next task still runs", async () => {
    const queue = new KeyedQueue();
    const failing = gate();
    const bad = queue.run("room", () => failing.promise);
    const next = queue.run("room", async () => "next ran");
    failing.fail(new Error("boom"));
    await expect(bad).rejects.toThrow("boom");
    expect(await next).toBe("next ran");
    // a task that throws synchronously inside its async body too
    await expect(
      queue.run("room", async () => {
        throw new Error("again");
      }),
    ).rejects.toThrow("again");
    expect(await queue.run("room", async () => 42)).toBe(42);
  });

  it("forgets a key once its last task settled", async () => {
    const queue = new KeyedQueue();
    expect(queue.busy("room")).toBe(false);
    const task = queue.run("room", async () => 1);
    expect(queue.busy("room")).toBe(true);
    await task;
    await settle();
    expect(queue.busy("room")).toBe(false);
  });
});

describe("keyed serial queue, as the gateway uses it for mask strokes", () => {
  it("runs a room's operations in order, other rooms' meanwhile, and goes on after a failure", async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const op =
      (label: string, ms: number, fail = false) =>
      async () => {
        log.push(`${label}+`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        log.push(`${label}-`);
        if (fail) throw new Error(label);
        return label;
      };
    const results = await Promise.allSettled([
      queue.run("r1", op("a", 30, true)),
      queue.run("r1", op("b", 5)),
      queue.run("r2", op("c", 5)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "fulfilled"]);
    // r1's second waits for its first (failed) one; r2's runs while r1's first goes
    expect(log.indexOf("a-")).toBeLessThan(log.indexOf("b+"));
    expect(log.indexOf("c-")).toBeLessThan(log.indexOf("a-"));
  });
});
