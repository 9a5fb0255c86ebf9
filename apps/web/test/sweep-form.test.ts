import { describe, expect, it } from "vitest";
import type { SweepInfo } from "@atelier/protocol";
import {
  canCancelSweep,
  cellLabel,
  parseSweepValues,
  sweepCancelNotice,
  sweepEstimateSeconds,
  sweepGridHeaders,
  sweepGoing,
} from "@/lib/sweep-form";

type Status = SweepInfo["cells"][number]["status"];
function sweepOf(authorId: string, ...statuses: Status[]): SweepInfo {
  return {
    sweepId: "s1",
    author: { userId: authorId, name: "Bob" },
    axes: [{ param: "styleWeight", values: statuses.map((_, i) => i + 1) }],
    size: 64,
    iterations: 4,
    queuePosition: null,
    cells: statuses.map((status, index) => ({
      index,
      values: { styleWeight: index + 1 },
      status,
      iteration: 0,
      error: null,
    })),
  };
}

describe("the sweep's Cancel button", () => {
  it("is shown to its starter and the room's owner while the sweep goes, to no one else", () => {
    const going = sweepOf("bob", "completed", "running", "queued");
    expect(sweepGoing(going)).toBe(true);
    expect(canCancelSweep(going, "bob", "editor")).toBe(true);
    expect(canCancelSweep(going, "ada", "owner")).toBe(true);
    expect(canCancelSweep(going, "cleo", "editor")).toBe(false);
    expect(canCancelSweep(going, "dan", "viewer")).toBe(false);
    expect(canCancelSweep(going, "dan", null)).toBe(false);
  });
  it("is gone once every cell ended", () => {
    const ended = sweepOf("bob", "completed", "failed", "cancelled");
    expect(sweepGoing(ended)).toBe(false);
    expect(canCancelSweep(ended, "bob", "editor")).toBe(false);
    expect(canCancelSweep(ended, "ada", "owner")).toBe(false);
  });
  it("says what the cancel left", () => {
    expect(sweepCancelNotice(sweepOf("bob", "completed", "completed", "cancelled", "cancelled"))).toBe(
      "Sweep cancelled: 2 cells done, 2 cells cancelled.",
    );
    expect(sweepCancelNotice(sweepOf("bob", "completed", "running", "cancelled"))).toBe(
      "Sweep cancelled: 1 cell done, 1 cell cancelled, 1 cell stopping.",
    );
    expect(sweepCancelNotice(sweepOf("bob", "cancelled", "cancelled"))).toBe("Sweep cancelled: 2 cells cancelled.");
  });
});

describe("parseSweepValues", () => {
  it("reads numbers separated by commas or spaces", () => {
    expect(parseSweepValues("10, 100 1e3")).toEqual({ ok: true, values: [10, 100, 1000] });
    expect(parseSweepValues(" 0.5;0.25 ")).toEqual({ ok: true, values: [0.5, 0.25] });
  });
  it("says what is wrong", () => {
    expect(parseSweepValues("10, lots")).toEqual({ ok: false, error: "“lots” is not a number." });
    expect(parseSweepValues("10")).toEqual({ ok: false, error: "Give 2 to 4 values, separated by commas." });
    expect(parseSweepValues("1,2,3,4,5").ok).toBe(false);
    expect(parseSweepValues("1, 1")).toEqual({ ok: false, error: "Each value once, please." });
  });
});

describe("cellLabel", () => {
  it("names the swept values in order", () => {
    expect(cellLabel({ styleWeight: 10, tvWeight: 0 })).toBe("Style weight 10 · TV weight 0");
    expect(cellLabel({ styleBlend: 0.25 })).toBe("Blend (first style’s share) 0.25");
  });
});

describe("sweepGridHeaders", () => {
  it("one axis: its values head the columns", () => {
    expect(sweepGridHeaders([{ param: "styleWeight", values: [10, 1000] }])).toEqual({
      columns: { label: "Style weight", values: ["10", "1000"] },
      rows: null,
    });
  });
  it("two axes: the first heads the rows, the second the columns", () => {
    expect(
      sweepGridHeaders([
        { param: "styleWeight", values: [10, 1000] },
        { param: "tvWeight", values: [0, 1, 5] },
      ]),
    ).toEqual({
      columns: { label: "TV weight", values: ["0", "1", "5"] },
      rows: { label: "Style weight", values: ["10", "1000"] },
    });
  });
});

describe("sweepEstimateSeconds", () => {
  it("is the cells' single-level runs one after another", () => {
    const speed = { msPerPixelIteration: 0.001 };
    // 4 cells × 128×96 px × 30 iterations × 1 µs
    expect(sweepEstimateSeconds(4, { size: 128, iterations: 30 }, speed, 0.75)).toBeCloseTo((4 * 128 * 96 * 30) / 1e6);
  });
});
