import { describe, expect, it } from "vitest";
import { styleLoss, styleVisibleIndex } from "../bench/first-preview-metrics.ts";

const at = (scale: number, ...layers: number[]) => ({
  scale,
  style: Object.fromEntries(layers.map((v, i) => [`relu${i + 1}_1`, v])),
});

describe("first-preview metrics", () => {
  it("sums the style layers", () => {
    expect(styleLoss(at(0, 1, 2, 3))).toBe(6);
  });
  it("style is visible at the first iteration at or under the fraction of the level's first loss", () => {
    const stats = [at(0, 50, 50), at(0, 40, 30), at(0, 6, 5), at(0, 5, 5), at(0, 1, 1)];
    expect(styleVisibleIndex(stats, 0.1)).toBe(3); // 10 ≤ 0.1 × 100
    expect(styleVisibleIndex(stats, 0.5)).toBe(2);
  });
  it("only counts the coarsest level: a new level's losses are on another scale", () => {
    expect(styleVisibleIndex([at(0, 100), at(0, 50), at(1, 1)], 0.1)).toBeNull();
    expect(styleVisibleIndex([], 0.1)).toBeNull();
  });
});
