import { describe, expect, it } from "vitest";
import { toFloatPixels, toRgbImage, transferLuminance } from "../src/color.ts";
import { EngineError } from "../src/errors.ts";
import { levelSizes, splitIterations } from "@atelier/protocol";
import { STALL_WINDOW, planScales, replanIterations, shareIterations, stalled } from "../src/multiscale.ts";
import { Rng } from "../src/rng.ts";

describe("multiscale levels", () => {
  it("grows by √2 and ends exactly at the size", () => {
    expect(levelSizes(512, 128)).toEqual([128, 181, 256, 362, 512]);
    expect(levelSizes(500, 128)).toEqual([125, 177, 250, 354, 500]);
    expect(levelSizes(64, 32)).toEqual([32, 45, 64]);
    expect(levelSizes(100, 128)).toEqual([100]);
    expect(levelSizes(512, null)).toEqual([512]);
  });

  it("splits iterations mostly over the coarse levels, about a fifth at full size", () => {
    // bench:quality's 60/40/25/15/40 at 512 px (packages/engine/README.md, "Iteration schedule")
    expect(splitIterations(180, 5)).toEqual([58, 39, 26, 17, 40]);
    expect(splitIterations(1000, 5)).toEqual([324, 216, 144, 96, 220]);
    expect(splitIterations(12, 5)).toEqual([4, 2, 2, 1, 3]);
    expect(splitIterations(3, 5)).toEqual([1, 1, 1]);
    expect(splitIterations(7, 1)).toEqual([7]);
    for (const levels of [2, 3, 5, 7]) {
      for (const total of [levels, 60, 200, 2000]) {
        const split = splitIterations(total, levels);
        expect(split.reduce((a, b) => a + b, 0)).toBe(total);
        expect(split.every((n) => n >= 1)).toBe(true);
        // coarse levels never gain on the level before them
        for (let i = 1; i < levels - 1; i++) expect(split[i]).toBeLessThanOrEqual(split[i - 1]!);
      }
    }
  });

  it("plans from the options", () => {
    expect(planScales(512, 1000, false)).toEqual({ sizes: [512], iterations: [1000] });
    expect(planScales(512, 1000, true)).toEqual({
      sizes: [128, 181, 256, 362, 512],
      iterations: [324, 216, 144, 96, 220],
    });
    expect(planScales(512, 3, true)).toEqual({ sizes: [256, 362, 512], iterations: [1, 1, 1] });
    expect(planScales(256, 10, { minSize: 64, iterationsPerScale: [5, 4, 3, 2, 1] })).toEqual({
      sizes: [64, 91, 128, 181, 256],
      iterations: [5, 4, 3, 2, 1],
    });
    expect(() => planScales(256, 10, { minSize: 64, iterationsPerScale: [1] })).toThrow(EngineError);
  });

  it("shares iterations over levels in proportion, every level ≥ 1, adding up to the total", () => {
    expect(shareIterations(180, [60, 40, 25, 15, 40])).toEqual([60, 40, 25, 15, 40]);
    expect(shareIterations(500, [1, 1, 1, 1, 1])).toEqual([100, 100, 100, 100, 100]);
    // the rounding remainder by largest fraction, ties to the finer level
    expect(shareIterations(8, [1, 1, 1, 1, 1])).toEqual([1, 1, 2, 2, 2]);
    expect(shareIterations(10, [3, 1])).toEqual([7, 3]); // 7.5 : 2.5
    expect(shareIterations(5, [100, 1, 1, 1, 1])).toEqual([1, 1, 1, 1, 1]);
    const big = shareIterations(1001, [8, 4, 2, 1, 1]);
    expect(big.reduce((a, b) => a + b, 0)).toBe(1001);
    expect(big[0]).toBeGreaterThan(big[1]!);
    expect(() => shareIterations(3, [1, 1, 1, 1])).toThrow(EngineError);
    expect(() => shareIterations(10, [1, 0])).toThrow(EngineError);
  });

  it("calls a level stalled when its loss falls by less than the threshold per iteration", () => {
    const falling = Array.from({ length: 20 }, (_, i) => 100 * 0.97 ** i); // 3 % per iteration
    expect(stalled(falling, 0.01)).toBe(false);
    expect(stalled(falling, 0.05)).toBe(true);
    // never before the window is full, however flat
    expect(
      stalled(
        Array.from({ length: STALL_WINDOW }, () => 1),
        0.5,
      ),
    ).toBe(false);
    expect(
      stalled(
        Array.from({ length: STALL_WINDOW + 1 }, () => 1),
        0.001,
      ),
    ).toBe(true);
    // averaged over the window: one big drop five steps back still counts
    expect(stalled([100, 90, 90, 90, 90, 90], 0.01)).toBe(false);
    expect(stalled([100, 90, 90, 90, 90, 90, 90], 0.01)).toBe(true);
    // a rising loss (L-BFGS can overshoot) is a stall
    expect(stalled([1, 1, 1, 1, 1, 1.1], 0.001)).toBe(true);
  });

  it("replans a new total: growth to the final level, cuts from the coarse levels first", () => {
    // at level 1 after 3 of its iterations (13 done overall)
    expect(replanIterations([10, 10, 10], 1, 3, 13, 40)).toEqual([10, 10, 20]);
    expect(replanIterations([10, 10, 10], 1, 3, 13, 20)).toEqual([10, 3, 7]);
    expect(replanIterations([10, 10, 10], 1, 3, 13, 16)).toEqual([10, 3, 3]);
    expect(replanIterations([10, 10, 10], 2, 5, 25, 26)).toEqual([10, 10, 6]);
    expect(replanIterations([10, 10, 10], 1, 3, 13, 13)).toBeNull();
    expect(replanIterations([10, 10, 10], 1, 3, 13, 5)).toBeNull();
  });
});

describe("Rng", () => {
  it("is reproducible per seed and differs between seeds", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seqA = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it("gives standard normals", () => {
    const rng = new Rng(0);
    const n = 20000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.normal();
      sum += v;
      sq += v * v;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
    const u = Array.from({ length: 1000 }, () => new Rng(7).next());
    expect(new Set(u).size).toBe(1);
    expect(u[0]).toBeGreaterThanOrEqual(0);
    expect(u[0]).toBeLessThan(1);
  });
});

describe("colour", () => {
  it("luminance transfer of an image onto itself changes nothing", () => {
    const rng = new Rng(1);
    const data = Uint8Array.from({ length: 8 * 6 * 3 }, () => rng.nextUint32() & 255);
    expect(Array.from(transferLuminance(data, data, 8, 6))).toEqual(Array.from(data));
  });

  it("keeps the content's chroma and the styled image's luminance", () => {
    // styled: grey 120; content: a muted red (150, 100, 100), Y ≈ 115
    const styled = Float32Array.from([120, 120, 120]);
    const content = Float32Array.from([150, 100, 100]);
    const [r, g, b] = transferLuminance(styled, content, 1, 1);
    expect(Math.abs(0.299 * r! + 0.587 * g! + 0.114 * b! - 120)).toBeLessThan(1);
    expect(Math.abs(r! - g! - 50)).toBeLessThanOrEqual(2); // the same red tint
    expect(Math.abs(g! - b!)).toBeLessThanOrEqual(1);
    expect(() => transferLuminance(styled, content, 2, 1)).toThrow(RangeError);
  });

  it("converts float pixels to clipped, rounded bytes and back", () => {
    expect(Array.from(toRgbImage([-5, 12.4, 12.6, 300, 0, 255], 2, 1).data)).toEqual([0, 12, 13, 255, 0, 255]);
    expect(Array.from(toFloatPixels({ width: 1, height: 1, data: Uint8Array.from([1, 2, 3]) }))).toEqual([1, 2, 3]);
  });
});
