import { describe, expect, it } from "vitest";
import {
  RUN_PRESETS,
  defaultRoomDocument,
  defaultScalePlan,
  estimateRunSeconds,
  formatEstimate,
  presetChanges,
  presetWithinLimits,
} from "../src/index.ts";

const rate = { msPerPixelIteration: 0.02 };

describe("estimateRunSeconds", () => {
  it("single scale: pixels × iterations × rate", () => {
    // 100 × 100 px, 50 iterations, 0.02 ms → 10 s
    expect(estimateRunSeconds({ size: 100, iterations: 50, multiscale: false }, rate)).toBeCloseTo(10, 9);
  });
  it("uses the content's aspect: a 4:3 photo costs 3/4 of a square", () => {
    const square = estimateRunSeconds({ size: 400, iterations: 10, multiscale: false }, rate);
    expect(estimateRunSeconds({ size: 400, iterations: 10, multiscale: false }, rate, 0.75)).toBeCloseTo(
      square * 0.75,
      9,
    );
  });
  it("coarse to fine counts every level the engine runs, each with its share of the iterations", () => {
    const plan = defaultScalePlan(512, 100, true);
    expect(plan).toEqual({ sizes: [128, 181, 256, 362, 512], iterations: [20, 20, 20, 20, 20] });
    const expected = plan.sizes.reduce((ms, s) => ms + s * s * 20 * 0.02, 0) / 1000;
    expect(estimateRunSeconds({ size: 512, iterations: 100, multiscale: true }, rate)).toBeCloseTo(expected, 9);
    // far cheaper than the same iterations all at full size
    expect(expected).toBeLessThan(estimateRunSeconds({ size: 512, iterations: 100, multiscale: false }, rate) / 2);
  });
  it("scales linearly with the speed figure", () => {
    const settings = { size: 256, iterations: 60, multiscale: true };
    expect(estimateRunSeconds(settings, { msPerPixelIteration: 0.04 })).toBeCloseTo(
      2 * estimateRunSeconds(settings, rate),
      9,
    );
  });
});

describe("formatEstimate", () => {
  it("rounds to what an estimate can promise", () => {
    expect(formatEstimate(0.2)).toBe("about 1 s");
    expect(formatEstimate(7.4)).toBe("about 7 s");
    expect(formatEstimate(33)).toBe("about 35 s");
    expect(formatEstimate(170)).toBe("about 3 min");
    expect(formatEstimate(4000)).toBe("about 1 h 7 min");
    expect(formatEstimate(3590)).toBe("about 1 h");
    expect(formatEstimate(7200)).toBe("about 2 h");
  });
});

describe("presets", () => {
  it("the room's default is the Balanced preset", () => {
    const balanced = RUN_PRESETS.find((p) => p.id === "balanced")!;
    const d = defaultRoomDocument();
    expect(
      presetChanges({ size: d.size, iterations: d.iterations, multiscale: d.multiscale }, balanced.settings),
    ).toEqual({});
  });
  it("are ordered by cost at the reference speed", () => {
    const costs = RUN_PRESETS.map((p) => estimateRunSeconds(p.settings, rate));
    expect([...costs].sort((a, b) => a - b)).toEqual(costs);
  });
  it("stay inside the operator's caps", () => {
    const full = RUN_PRESETS.find((p) => p.id === "full")!;
    expect(presetWithinLimits(full, { maxSize: 512, maxIterations: 100 })).toEqual({
      size: 512,
      iterations: 100,
      multiscale: true,
    });
    expect(presetWithinLimits(full, null)).toEqual(full.settings);
  });
  it("presetChanges lists only the fields that differ", () => {
    expect(
      presetChanges({ size: 384, iterations: 200, multiscale: false }, { size: 384, iterations: 90, multiscale: true }),
    ).toEqual({ iterations: 90, multiscale: true });
  });
});
