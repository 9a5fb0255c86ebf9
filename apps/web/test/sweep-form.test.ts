import { describe, expect, it } from "vitest";
import { cellLabel, parseSweepValues, sweepEstimateSeconds, sweepGridHeaders } from "@/lib/sweep-form";

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
