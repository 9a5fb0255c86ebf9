import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { blendGrams, contentLoss, gram, normaliseBlend, styleLoss, tvLoss } from "../src/losses.ts";

beforeAll(async () => {
  await initTfjsBackend();
});

/** [1, 2, 2, 2]: pixel (y, x) has channels [a, b]. */
function features(): tf.Tensor4D {
  // pixels: (0,0)=[1,2] (0,1)=[3,0] (1,0)=[0,1] (1,1)=[2,2]
  return tf.tensor4d([1, 2, 3, 0, 0, 1, 2, 2], [1, 2, 2, 2]);
}

describe("gram", () => {
  it("is FᵀF / (C·H·W)", () => {
    const g = gram(features());
    // Σ a² = 1+9+0+4 = 14, Σ ab = 2+0+0+4 = 6, Σ b² = 4+0+1+4 = 9; C·H·W = 8
    expect(Array.from(g.dataSync())).toEqual([14 / 8, 6 / 8, 6 / 8, 9 / 8].map((v) => Math.fround(v)));
    expect(g.shape).toEqual([2, 2]);
    g.dispose();
  });

  it("has the gradient of the plain formula FᵀF / N", () => {
    tf.tidy(() => {
      const f = tf.randomNormal<tf.Rank.R4>([1, 5, 7, 6], 0, 1, "float32", 11);
      const weights = tf.randomNormal([6, 6], 0, 1, "float32", 12);
      const plain = (x: tf.Tensor) => {
        const flat = tf.reshape<tf.Rank.R2>(x, [35, 6]);
        return tf.sum<tf.Scalar>(tf.mul(tf.div(tf.matMul(flat, flat, true, false), 6 * 35), weights));
      };
      const ours = tf.grad((x: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(gram(x as tf.Tensor4D), weights)))(f);
      const reference = tf.grad(plain)(f);
      expect(ours.shape).toEqual(f.shape);
      const scale = tf.max(tf.abs(reference)).dataSync()[0]!;
      expect(tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0]! / scale).toBeLessThan(1e-5);
    });
  });

  it("does not depend on image size for a repeated pattern", () => {
    const small = gram(features());
    const big = gram(tf.tile<tf.Tensor4D>(features(), [1, 3, 5, 1]));
    expect(Array.from(big.dataSync())).toEqual(Array.from(small.dataSync()));
    tf.dispose([small, big]);
  });
});

describe("content loss", () => {
  it("is the mean squared difference", () => {
    const target = tf.tensor4d([0, 2, 3, 1, 0, 1, 0, 0], [1, 2, 2, 2]);
    // differences: 1,0,0,-1,0,0,2,2 → squares 1+1+4+4 = 10, mean over 8
    expect(contentLoss(features(), target).dataSync()[0]).toBeCloseTo(10 / 8, 6);
  });
});

describe("style loss", () => {
  it("is the mean squared difference of the Gram matrices", () => {
    const target = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    // G = [[1.75, .75], [.75, 1.125]] → diffs .75, .75, .75, .125
    const expected = (0.75 ** 2 * 3 + 0.125 ** 2) / 4;
    expect(styleLoss(features(), target).dataSync()[0]).toBeCloseTo(expected, 6);
  });

  it("is zero against the image's own Gram", () => {
    expect(styleLoss(features(), gram(features())).dataSync()[0]).toBe(0);
  });
});

describe("total variation", () => {
  it("is ½ Σ (Δx² + Δy²) over channels", () => {
    // one channel, 2×3: [[0, 1, 3], [2, 2, 2]]
    const img = tf.tensor4d([0, 1, 3, 2, 2, 2], [1, 2, 3, 1]);
    // Δx: 1, 2, 0, 0 → 1 + 4 = 5; Δy: 2, 1, -1 → 4 + 1 + 1 = 6
    expect(tvLoss(img).dataSync()[0]).toBeCloseTo(5.5, 6);
    // two channels: the second a constant → no contribution
    const two = tf.tensor4d([0, 7, 1, 7, 3, 7, 2, 7, 2, 7, 2, 7], [1, 2, 3, 2]);
    expect(tvLoss(two).dataSync()[0]).toBeCloseTo(5.5, 6);
  });

  it("has the gradient of jcjohnson's TVLoss", () => {
    const img = tf.tensor4d([0, 1, 3, 2, 2, 2], [1, 2, 3, 1]);
    const g = tf
      .grad((x: tf.Tensor) => tvLoss(x as tf.Tensor4D))(img)
      .dataSync();
    // ∂/∂p of ½ Σ (neighbour differences)²: p·(#neighbours) − Σ neighbours
    // p00=0: 2·0 − (1 + 2) = −3; p01=1: 3·1 − (0 + 3 + 2) = −2; p02=3: 2·3 − (1 + 2) = 3
    // p10=2: 2·2 − (2 + 0) = 2; p11=2: 3·2 − (2 + 2 + 1) = 1; p12=2: 2·2 − (2 + 3) = −1
    expect(Array.from(g)).toEqual([-3, -2, 3, 2, 1, -1]);
  });
});

describe("style blend", () => {
  it("normalises weights and sums the weighted Grams", () => {
    expect(normaliseBlend([1, 3])).toEqual([0.25, 0.75]);
    expect(() => normaliseBlend([0, 0])).toThrow(/positive sum/);
    const a = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const b = tf.tensor2d([5, 4, 4, 5], [2, 2]);
    expect(Array.from(blendGrams([a, b], normaliseBlend([1, 3])).dataSync())).toEqual([4, 3, 3, 4]);
  });
});
