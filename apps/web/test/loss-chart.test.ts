import { describe, expect, it } from "vitest";
import { levelStarts, lossSeriesLabel } from "@/lib/loss-chart";

describe("lossSeriesLabel", () => {
  it("names the series in words, not layer ids", () => {
    expect(lossSeriesLabel("total")).toBe("Total loss");
    expect(lossSeriesLabel("relu4_1")).toBe("Style: larger forms");
    expect(lossSeriesLabel("relu1_1")).toBe("Style: finest texture");
    expect(new Set(["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"].map(lossSeriesLabel)).size).toBe(5);
  });
  it("still names a layer it has no words for", () => {
    expect(lossSeriesLabel("relu3_2")).toBe("Style: layer relu3_2");
  });
});

describe("levelStarts", () => {
  it("marks each point where the run moved up a level", () => {
    expect(levelStarts([0, 0, 0, 1, 1, 2])).toEqual([
      { at: 3, level: 2 },
      { at: 5, level: 3 },
    ]);
  });
  it("marks nothing for a single-level run or an empty chart", () => {
    expect(levelStarts([0, 0, 0])).toEqual([]);
    expect(levelStarts([])).toEqual([]);
  });
  it("a run continued from a level above the first starts without a mark", () => {
    expect(levelStarts([2, 2, 2])).toEqual([]);
  });
});
