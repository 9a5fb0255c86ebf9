import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { gram } from "../src/losses.ts";
import { maskFromImage } from "../src/mask-images.ts";
import {
  MaskedStyleLoss,
  checkMasks,
  fullMask,
  maskAtLayer,
  maskedGram,
  poolingsBefore,
  type StyleMask,
} from "../src/style-masks.ts";

beforeAll(async () => {
  await initTfjsBackend();
});

/** [1, 2, 2, 2]: pixel (y, x) has channels [a, b]: (0,0)=[1,2] (0,1)=[3,0] (1,0)=[0,1] (1,1)=[2,2] */
function features(): tf.Tensor4D {
  return tf.tensor4d([1, 2, 3, 0, 0, 1, 2, 2], [1, 2, 2, 2]);
}

describe("maskedGram", () => {
  it("is Fᵀ diag(m) F / (C·Σm), by hand", () => {
    // mask: (0,0) 1, (0,1) 0.5, (1,0) 0, (1,1) 0 → Σm = 1.5, C·Σm = 3
    // Σ m a² = 1 + 0.5·9 = 5.5, Σ m ab = 2 + 0 = 2, Σ m b² = 4 + 0 = 4
    const g = tf.tidy(() => maskedGram(features(), tf.tensor1d([1, 0.5, 0, 0]), 1.5));
    const expected = [5.5 / 3, 2 / 3, 2 / 3, 4 / 3];
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    g.dispose();
  });

  it("equals the plain Gram under an all-white mask", () => {
    tf.tidy(() => {
      const a = maskedGram(features(), tf.ones([4]), 4).dataSync();
      const b = gram(features()).dataSync();
      expect(Array.from(a)).toEqual(Array.from(b));
    });
  });

  it("is the Gram of the region alone under a 0/1 mask", () => {
    tf.tidy(() => {
      // only the top row: pixels [1,2] and [3,0] → the Gram of a 1×2 map
      const top = tf.tensor4d([1, 2, 3, 0], [1, 1, 2, 2]);
      const a = maskedGram(features(), tf.tensor1d([1, 1, 0, 0]), 2).dataSync();
      Array.from(gram(top).dataSync()).forEach((v, i) => expect(a[i]).toBeCloseTo(v, 6));
    });
  });

  it("has the gradient of the plain formula", () => {
    tf.tidy(() => {
      const f = tf.randomNormal<tf.Rank.R4>([1, 5, 7, 6], 0, 1, "float32", 11);
      const m = tf.randomUniform([35], 0, 1, "float32", 3);
      const area = tf.sum(m).dataSync()[0]!;
      const weights = tf.randomNormal([6, 6], 0, 1, "float32", 12);
      const plain = (x: tf.Tensor) => {
        const flat = tf.reshape<tf.Rank.R2>(x, [35, 6]);
        const weighted = tf.mul(flat, tf.reshape(m, [35, 1]));
        return tf.sum<tf.Scalar>(tf.mul(tf.div(tf.matMul(weighted, flat, true, false), 6 * area), weights));
      };
      const ours = tf.grad((x: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(maskedGram(x as tf.Tensor4D, m, area), weights)))(
        f,
      );
      const reference = tf.grad(plain)(f);
      const scale = tf.max(tf.abs(reference)).dataSync()[0]!;
      expect(tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0]! / scale).toBeLessThan(1e-5);
    });
  });

  it("rejects an empty region and a mask of the wrong size", () => {
    tf.tidy(() => {
      expect(() => maskedGram(features(), tf.zeros([4]), 0)).toThrow(/covers no position/);
      expect(() => maskedGram(features(), tf.ones([3]), 3)).toThrow(/3 values for a 2×2 map/);
    });
  });
});

describe("masks per layer", () => {
  it("counts the poolings before each style layer", () => {
    expect(["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"].map(poolingsBefore)).toEqual([
      0, 1, 2, 3, 3, 4,
    ]);
  });

  it("average-pools 2×2 per pooling, with VGG's floor sizes", () => {
    // 5×3: a left column block of ones (x < 2), the rest zeros, and a 0.5 at (2, 0)
    const values = new Float32Array(15);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 2; x++) values[y * 5 + x] = 1;
    values[2] = 0.5;
    const once = maskAtLayer({ width: 5, height: 3, values }, 1);
    expect([once.width, once.height]).toEqual([2, 1]);
    expect(Array.from(once.values)).toEqual([1, 0.125]);
    const twice = maskAtLayer({ width: 5, height: 3, values }, 2);
    expect([twice.width, twice.height, twice.values.length]).toEqual([1, 0, 0]);
    expect(maskAtLayer({ width: 5, height: 3, values }, 0).values).toBe(values);
  });

  it("checks masks against the output size and range", () => {
    expect(() => checkMasks([fullMask(4, 4), null], 4, 4)).not.toThrow();
    expect(() => checkMasks([null, fullMask(4, 3)], 4, 4)).toThrow(/style mask 2 is 4×3; the output is 4×4/);
    const bad: StyleMask = { width: 2, height: 1, values: Float32Array.from([0.5, 1.5]) };
    expect(() => checkMasks([bad], 2, 1)).toThrow(/outside 0–1/);
  });

  it("reads grey values from an RGB mask image", () => {
    const mask = maskFromImage({ width: 2, height: 1, data: Uint8Array.from([255, 255, 255, 0, 51, 102]) });
    expect(Array.from(mask.values).map((v) => +v.toFixed(4))).toEqual([1, 0.2]);
  });
});

describe("MaskedStyleLoss", () => {
  it("sums each region's weighted Gram loss against its own style; uncovered styles add nothing", () => {
    tf.tidy(() => {
      const f = tf.randomNormal<tf.Rank.R4>([1, 4, 4, 3], 0, 1, "float32", 5);
      const left = new Float32Array(16);
      for (let y = 0; y < 4; y++) for (let x = 0; x < 2; x++) left[y * 4 + x] = 1;
      const right = left.map((v) => 1 - v);
      const loss = new MaskedStyleLoss(
        [
          { width: 4, height: 4, values: left },
          { width: 4, height: 4, values: right },
        ],
        4,
        4,
        ["relu1_1"],
      );
      const targets = [tf.eye(3), tf.zeros<tf.Rank.R2>([3, 3])];
      const value = loss.loss(0, f, targets, [2, 0.5]).dataSync()[0]!;
      const leftF = tf.slice(f, [0, 0, 0, 0], [1, 4, 2, 3]);
      const rightF = tf.slice(f, [0, 0, 2, 0], [1, 4, 2, 3]);
      const mse = (a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.squaredDifference(a, b)).dataSync()[0]!;
      const expected = 2 * mse(gram(leftF), targets[0]!) + 0.5 * mse(gram(rightF), targets[1]!);
      expect(value).toBeCloseTo(expected, 4);
      // a zero weight drops the region
      expect(loss.loss(0, f, targets, [0, 0.5]).dataSync()[0]!).toBeCloseTo(0.5 * mse(gram(rightF), targets[1]!), 4);
      loss.dispose();
    });
  });
});
