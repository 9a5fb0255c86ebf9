import { describe, expect, it } from "vitest";
import { cholesky3, colorStats, matchColors } from "../src/color-match.ts";
import { Rng } from "../src/rng.ts";

/** n pixels of correlated colours: base + mix · (3 normals), kept inside 0–255 by the choice of numbers. */
function synthetic(n: number, seed: number, base: number[], mix: number[][]): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) {
    const z = [rng.normal(), rng.normal(), rng.normal()];
    for (let c = 0; c < 3; c++) out[p * 3 + c] = base[c]! + mix[c]!.reduce((a, m, k) => a + m * z[k]!, 0);
  }
  return out;
}

describe("cholesky3", () => {
  it("factors a hand-picked matrix", () => {
    // L = [[2,0,0],[1,3,0],[0.5,-1,1]] → L Lᵀ
    const m = [4, 2, 1, 2, 10, -2.5, 1, -2.5, 2.25] as const;
    const l = cholesky3([...m] as Parameters<typeof cholesky3>[0]);
    [2, 0, 0, 1, 3, 0, 0.5, -1, 1].forEach((v, i) => expect(l[i]).toBeCloseTo(v, 10));
    expect(() => cholesky3([1, 2, 0, 2, 1, 0, 0, 0, 1])).toThrow(/not positive definite/);
  });
});

describe("matchColors", () => {
  const source = synthetic(
    4000,
    1,
    [90, 120, 60],
    [
      [12, 3, 0],
      [4, 10, 2],
      [0, 5, 8],
    ],
  );
  const reference = synthetic(
    2500,
    2,
    [160, 100, 140],
    [
      [20, -6, 4],
      [0, 15, 0],
      [5, 5, 12],
    ],
  );

  it("gives the source the reference's colour mean and covariance", () => {
    const matched = matchColors(source, reference);
    const got = colorStats(matched);
    const want = colorStats(reference);
    got.mean.forEach((v, c) => expect(Math.abs(v - want.mean[c]!)).toBeLessThan(0.05));
    got.cov.forEach((v, i) => expect(Math.abs(v - want.cov[i]!)).toBeLessThan(0.01 * want.cov[0] + 0.5));
    // and it is not a copy: the pixels stay the source's (a linear map of them)
    expect(matched.length).toBe(source.length);
  });

  it("is the identity when both images have the same statistics", () => {
    const same = matchColors(source, source);
    let worst = 0;
    for (let i = 0; i < same.length; i++) worst = Math.max(worst, Math.abs(same[i]! - source[i]!));
    expect(worst).toBeLessThan(1e-3);
  });

  it("clips to 0–255 and survives a flat image", () => {
    const flat = new Float32Array(30).fill(100);
    const toFlat = matchColors(source, flat);
    toFlat.forEach((v) => expect(Math.abs(v - 100)).toBeLessThan(1));
    const fromFlat = matchColors(flat, reference);
    fromFlat.forEach((v) => expect(v >= 0 && v <= 255).toBe(true));
    colorStats(fromFlat).mean.forEach((v, c) => expect(v).toBeCloseTo(colorStats(reference).mean[c]!, 3));
    expect(() => matchColors(new Float32Array(4), reference)).toThrow(/RGB triples/);
  });
});
