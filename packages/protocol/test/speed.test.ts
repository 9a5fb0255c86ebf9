import { describe, expect, it } from "vitest";
import {
  RUN_PRESETS,
  defaultRoomDocument,
  defaultScalePlan,
  estimateRunSeconds,
  formatEstimate,
  levelOfIteration,
  presetChanges,
  rateAt,
  referenceRate,
  pixelGrowth,
  runSecondsLeft,
  speedBandOf,
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
    expect(plan).toEqual({ sizes: [128, 181, 256, 362, 512], iterations: [32, 22, 14, 10, 22] });
    const expected = plan.sizes.reduce((ms, s, i) => ms + s * s * plan.iterations[i]! * 0.02, 0) / 1000;
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

describe("runSecondsLeft: the one time function", () => {
  const banded = {
    msPerPixelIteration: 0.01,
    bands: [
      { upTo: 256, msPerPixelIteration: 0.02, runs: 3 },
      { upTo: 512, msPerPixelIteration: 0.01, runs: 5 },
    ],
  };
  it("each level at its size band's learned rate; sizes without a band at the overall figure", () => {
    expect(speedBandOf(128)).toBe(256);
    expect(speedBandOf(257)).toBe(512);
    expect(rateAt(banded, 200)).toBe(0.02);
    expect(rateAt(banded, 400)).toBe(0.01);
    expect(rateAt(banded, 900)).toBe(0.01);
    const plan = defaultScalePlan(512, 100, true);
    const expected =
      plan.sizes.reduce((ms, s, i) => ms + s * s * plan.iterations[i]! * (s <= 256 ? 0.02 : 0.01), 0) / 1000;
    expect(runSecondsLeft({ size: 512, iterations: 100, multiscale: true }, banded)).toBeCloseTo(expected, 9);
    expect(estimateRunSeconds({ size: 512, iterations: 100, multiscale: true }, banded)).toBeCloseTo(expected, 9);
  });
  it("adds the wait for the jobs ahead in the queue", () => {
    const settings = { size: 256, iterations: 60, multiscale: true };
    expect(runSecondsLeft(settings, rate, { queueWaitSeconds: 42 })).toBeCloseTo(
      estimateRunSeconds(settings, rate) + 42,
      9,
    );
  });
  it("while running: measured levels at their own speed, later levels scaled from the latest measured one", () => {
    const settings = { size: 512, iterations: 100, multiscale: true };
    // levels 128/181/256/362/512 px with 32/22/14/10/22 iterations
    // the machine turned out 3× slower than the model at the first two levels
    const levelMs = [128 * 128 * 0.06, 181 * 181 * 0.06, null, null, null];
    const left = runSecondsLeft(settings, rate, { progress: { iteration: 54, levelMs } });
    const laterLevels = [
      [256, 14],
      [362, 10],
      [512, 22],
    ] as const;
    expect(left).toBeCloseTo(laterLevels.reduce((ms, [s, n]) => ms + s * s * n * 0.06, 0) / 1000, 6);
    // half-way through level 2 (7 of its 14 done), measured: its own figure for its 7 iterations left
    const mid = runSecondsLeft(settings, rate, { progress: { iteration: 61, levelMs: [1, 2, 3000, null, null] } });
    const later = laterLevels.slice(1).reduce((ms, [s, n]) => ms + s * s * n * (3000 / (256 * 256)), 0);
    expect(mid).toBeCloseTo((7 * 3000 + later) / 1000, 6);
  });
  it("converges: with a constant true speed the figure falls to 0 in step with the time spent", () => {
    const settings = { size: 384, iterations: 90, multiscale: true };
    const plan = defaultScalePlan(384, 90, true);
    const trueRate = 0.05; // the model says 0.02: 2.5× off before the run
    const levelMs: (number | null)[] = plan.sizes.map(() => null);
    let spent = 0;
    const total = plan.sizes.reduce((ms, s, i) => ms + s * s * plan.iterations[i]! * trueRate, 0) / 1000;
    for (let it = 1; it <= 90; it++) {
      const level = levelOfIteration(settings, it);
      const side = plan.sizes[level]!;
      levelMs[level] = side * side * trueRate;
      spent += (side * side * trueRate) / 1000;
      expect(runSecondsLeft(settings, rate, { progress: { iteration: it, levelMs } })).toBeCloseTo(total - spent, 6);
    }
  });
  it("a level ahead grows with the pixels as this run's measured levels grew, between √ and proportional", () => {
    const settings = { size: 192, iterations: 48, multiscale: true };
    const levels = [
      { width: 96, height: 72, iterations: 16 },
      { width: 136, height: 102, iterations: 16 },
      { width: 192, height: 144, iterations: 16 },
    ];
    const px = levels.map((l) => l.width * l.height);
    // fixed costs per iteration: ×2 the pixels cost ×1.5 the time (g = log 1.5 / log 2)
    const g = Math.log(1.5) / Math.log(2);
    const l0 = 300;
    const l1 = l0 * (px[1]! / px[0]!) ** g;
    const left = runSecondsLeft(settings, rate, { levels, progress: { iteration: 24, levelMs: [l0, l1] } });
    expect(left).toBeCloseTo((8 * l1 + 16 * l1 * (px[2]! / px[1]!) ** g) / 1000, 6);
    // one level measured: proportional
    expect(runSecondsLeft(settings, rate, { levels, progress: { iteration: 8, levelMs: [l0] } })).toBeCloseTo(
      (8 * l0 + 16 * l0 * (px[1]! / px[0]!) + 16 * l0 * (px[2]! / px[0]!)) / 1000,
      6,
    );
    // a level that came out faster than the one before (load eased): never below √ the pixels
    expect(
      pixelGrowth([
        { ms: 300, pixels: 100 },
        { ms: 200, pixels: 200 },
      ]),
    ).toBe(0.5);
    // slower than proportional (load rose): proportional
    expect(
      pixelGrowth([
        { ms: 100, pixels: 100 },
        { ms: 500, pixels: 200 },
      ]),
    ).toBe(1);
  });
  it("over the levels the engine said it runs: a continued run's two top levels, not the settings' five", () => {
    const settings = { size: 512, iterations: 100, multiscale: true };
    // the engine runs 362 and 512 px (4:3 content) with 50 iterations each, as continueLevels gives
    const levels = [
      { width: 362, height: 272, iterations: 50 },
      { width: 512, height: 384, iterations: 50 },
    ];
    const before = runSecondsLeft(settings, rate, { levels });
    expect(before).toBeCloseTo(((362 * 272 + 512 * 384) * 50 * 0.02) / 1000, 6);
    // half-way: level 0 measured at 2× the model; the 512 px level ahead at that speed × its pixels
    const perPixel = 0.04;
    const half = runSecondsLeft(settings, rate, {
      levels,
      progress: { iteration: 50, levelMs: [362 * 272 * perPixel] },
    });
    const truth = (512 * 384 * 50 * perPixel) / 1000;
    expect(half).toBeCloseTo(truth, 6);
    // the settings' own five-level plan counted from iteration 50 says far less (two levels left, at 256 and 362 px square)
    const rebuilt = runSecondsLeft(settings, rate, { progress: { iteration: 50, levelMs: [362 * 272 * perPixel] } });
    expect(Math.abs(rebuilt - truth) / truth).toBeGreaterThan(0.5);
  });
  it("a single level: the measured speed × the iterations left, whatever the model said", () => {
    const levels = [{ width: 192, height: 144, iterations: 60 }];
    const settings = { size: 192, iterations: 60, multiscale: false };
    expect(runSecondsLeft(settings, rate, { levels, progress: { iteration: 30, levelMs: [250] } })).toBeCloseTo(7.5, 9);
    expect(runSecondsLeft(settings, rate, { levels, progress: { iteration: 60, levelMs: [250] } })).toBe(0);
    // an empty list is no plan: the settings' own levels serve
    expect(runSecondsLeft(settings, rate, { levels: [] })).toBeCloseTo(
      runSecondsLeft(settings, rate, { aspect: 1 }),
      9,
    );
  });
  it("reference figures per backend: onnx several times faster than wasm", () => {
    expect(referenceRate("wasm") / referenceRate("onnx")).toBeGreaterThan(4);
    expect(referenceRate("some-new-backend")).toBe(referenceRate("wasm"));
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
