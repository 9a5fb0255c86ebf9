import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { conv2dBiasReluAutodiff, conv2dBiasReluSame, conv2dSame, flipKernel } from "../src/conv-grad.ts";
import { Rng } from "../src/rng.ts";

function randomTensor(shape: number[], rng: Rng, scale = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => scale * rng.normal()),
    shape,
  );
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

function maxAbs(a: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]!);
}

beforeAll(async () => {
  await initTfjsBackend();
});

describe("flipKernel", () => {
  it("flips H and W and swaps in/out channels", () => {
    const k = tf.tensor4d(
      Float32Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => i),
      [3, 3, 2, 4],
    );
    const f = flipKernel(k);
    expect(f.shape).toEqual([3, 3, 4, 2]);
    const kv = k.arraySync();
    const fv = f.arraySync();
    for (let h = 0; h < 3; h++)
      for (let w = 0; w < 3; w++)
        for (let i = 0; i < 2; i++)
          for (let o = 0; o < 4; o++) expect(fv[2 - h]![2 - w]![o]![i]).toBe(kv[h]![w]![i]![o]);
    tf.dispose([k, f]);
  });
});

describe("conv2dSame", () => {
  it("has the forward value of tf.conv2d", () => {
    const rng = new Rng(1);
    tf.tidy(() => {
      const x = randomTensor([1, 7, 6, 3], rng) as tf.Tensor4D;
      const k = randomTensor([3, 3, 3, 5], rng) as tf.Tensor4D;
      expect(maxAbsDiff(conv2dSame(x, k), tf.conv2d(x, k, 1, "same"))).toBeLessThan(1e-5);
    });
  });

  it("input gradient equals tfjs autodiff and central finite differences", () => {
    const rng = new Rng(2);
    tf.tidy(() => {
      const x = randomTensor([1, 6, 5, 3], rng) as tf.Tensor4D;
      const k = randomTensor([3, 3, 3, 4], rng) as tf.Tensor4D;
      const r = randomTensor([1, 6, 5, 4], rng);
      const ours = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(conv2dSame(v as tf.Tensor4D, k), r)))(x);
      const reference = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(v as tf.Tensor4D, k, 1, "same"), r)))(x);
      expect(ours.shape).toEqual(x.shape);
      expect(maxAbsDiff(ours, reference) / maxAbs(reference)).toBeLessThan(1e-5);

      // The loss is linear in x, so central differences are exact up to float32 rounding.
      const loss = (v: Float32Array) =>
        tf.tidy(() => tf.sum(tf.mul(tf.conv2d(tf.tensor4d(v, x.shape), k, 1, "same"), r)).dataSync()[0]!);
      const base = x.dataSync() as Float32Array;
      const grad = ours.dataSync();
      const h = 0.5;
      for (const i of [0, 7, 31, 44, 89]) {
        const plus = base.slice();
        const minus = base.slice();
        plus[i]! += h;
        minus[i]! -= h;
        const fd = (loss(plus) - loss(minus)) / (2 * h);
        expect(Math.abs(fd - grad[i]!)).toBeLessThan(2e-3 * Math.max(1, Math.abs(grad[i]!)));
      }
    });
  });

  it("refuses even kernels (the flip trick needs a centred kernel)", () => {
    tf.tidy(() => {
      expect(() => conv2dSame(tf.zeros<tf.Rank.R4>([1, 4, 4, 1]), tf.zeros<tf.Rank.R4>([2, 2, 1, 1]))).toThrow(
        /odd kernel/,
      );
    });
  });
});

describe("conv2dBiasReluSame", () => {
  it("matches relu(conv + bias) and its autodiff input gradient", () => {
    const rng = new Rng(3);
    tf.tidy(() => {
      const x = randomTensor([1, 9, 8, 6], rng) as tf.Tensor4D;
      const k = randomTensor([3, 3, 6, 7], rng, 0.3) as tf.Tensor4D;
      const b = randomTensor([7], rng) as tf.Tensor1D;
      const r = randomTensor([1, 9, 8, 7], rng);
      const flipped = flipKernel(k);
      const y = conv2dBiasReluSame(x, k, b, flipped);
      const yRef = conv2dBiasReluAutodiff(x, k, b);
      expect(maxAbsDiff(y, yRef)).toBeLessThan(1e-4);
      // Some units are clipped, so the ReLU mask matters in the gradient.
      const clipped = tf.sum(tf.cast(tf.equal(yRef, 0), "float32")).dataSync()[0]!;
      expect(clipped).toBeGreaterThan(10);

      const ours = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(conv2dBiasReluSame(v as tf.Tensor4D, k, b, flipped), r)))(x);
      const reference = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(conv2dBiasReluAutodiff(v as tf.Tensor4D, k, b), r)))(x);
      expect(maxAbsDiff(ours, reference) / maxAbs(reference)).toBeLessThan(1e-5);
    });
  });

  it("chains through two layers like autodiff does", () => {
    const rng = new Rng(4);
    tf.tidy(() => {
      const x = randomTensor([1, 8, 8, 3], rng) as tf.Tensor4D;
      const k1 = randomTensor([3, 3, 3, 4], rng, 0.5) as tf.Tensor4D;
      const b1 = randomTensor([4], rng, 0.1) as tf.Tensor1D;
      const k2 = randomTensor([3, 3, 4, 5], rng, 0.5) as tf.Tensor4D;
      const b2 = randomTensor([5], rng, 0.1) as tf.Tensor1D;
      const f1 = flipKernel(k1);
      const f2 = flipKernel(k2);
      const ours = tf.grad((v: tf.Tensor) =>
        tf.sum(
          tf.square(
            conv2dBiasReluSame(tf.maxPool(conv2dBiasReluSame(v as tf.Tensor4D, k1, b1, f1), 2, 2, "valid"), k2, b2, f2),
          ),
        ),
      )(x);
      const reference = tf.grad((v: tf.Tensor) =>
        tf.sum(
          tf.square(
            conv2dBiasReluAutodiff(tf.maxPool(conv2dBiasReluAutodiff(v as tf.Tensor4D, k1, b1), 2, 2, "valid"), k2, b2),
          ),
        ),
      )(x);
      expect(maxAbs(reference)).toBeGreaterThan(0);
      expect(maxAbsDiff(ours, reference) / maxAbs(reference)).toBeLessThan(1e-4);
    });
  });

  it("leaks no tensors through the custom gradient", () => {
    const rng = new Rng(5);
    const x = randomTensor([1, 6, 6, 2], rng) as tf.Tensor4D;
    const k = randomTensor([3, 3, 2, 3], rng) as tf.Tensor4D;
    const b = randomTensor([3], rng) as tf.Tensor1D;
    const f = flipKernel(k);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => tf.sum(conv2dBiasReluSame(v as tf.Tensor4D, k, b, f)))(
        x,
      );
      value.dispose();
      grad.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, k, b, f]);
  });
});
