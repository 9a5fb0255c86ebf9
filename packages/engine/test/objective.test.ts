import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { STYLE_LAYERS, loadFloatImage, objectiveWeights } from "./objective-fixtures.ts";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { VggObjective, type FloatImage, type ObjectiveWeights } from "../src/objective.ts";
import { Rng } from "../src/rng.ts";
import { VggFeatures } from "../src/vgg.ts";
import { loadVggWeights } from "../src/weights.ts";

let net: VggFeatures;
let content: FloatImage;
let starry: FloatImage;
let scream: FloatImage;

const load = loadFloatImage;
const weights = objectiveWeights;

function objective(styles: FloatImage[], w: ObjectiveWeights, backprop: "chain" | "autodiff" = "chain"): VggObjective {
  return new VggObjective({
    net,
    content,
    styles,
    contentLayers: ["relu4_2"],
    styleLayers: STYLE_LAYERS,
    weights: w,
    backprop,
  });
}

function noise(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: content.pixels.length }, () => 128 + 40 * rng.normal());
}

beforeAll(async () => {
  await initTfjsBackend();
  net = new VggFeatures(await loadVggWeights(13), { pooling: "max", gradient: "flipped" });
  content = await load("tubingen.jpg", 40, 32);
  starry = await load("starry_night.jpg", 40, 32);
  scream = await load("the_scream.jpg", 32, 40);
});

describe("VggObjective", () => {
  it("reports weighted terms that add up to the total", async () => {
    const obj = objective([starry], weights());
    const e = await obj.evaluate(noise(1));
    expect(Object.keys(e.style)).toEqual(STYLE_LAYERS);
    const sum = e.content + Object.values(e.style).reduce((a, b) => a + b, 0) + e.tv;
    expect(e.total).toBeCloseTo(sum, 6);
    expect(e.content).toBeGreaterThan(0);
    expect(e.tv).toBeGreaterThan(0);
    expect(e.grad).toHaveLength(content.pixels.length);
    obj.dispose();
  });

  it("gives zero content loss at the content image", async () => {
    const obj = objective([starry], weights());
    expect((await obj.evaluate(content.pixels.slice())).content).toBe(0);
    obj.dispose();
  });

  it("scales each term with its weight", async () => {
    const x = noise(2);
    const obj = objective([starry], weights());
    const a = await obj.evaluate(x);
    obj.setWeights({ contentWeight: 10, styleWeight: 50, tvWeight: 0, styleLayerWeights: [1, 1, 1, 2, 0] });
    const b = await obj.evaluate(x);
    expect(b.content / a.content).toBeCloseTo(2, 4);
    expect(b.style.relu1_1! / a.style.relu1_1!).toBeCloseTo(0.5, 4);
    expect(b.style.relu4_1! / a.style.relu4_1!).toBeCloseTo(1, 4);
    expect(b.style.relu5_1).toBe(0);
    expect(b.tv).toBe(0);
    obj.dispose();
  });

  it("blends styles by normalised weights, recombining the stored Grams on a blend change", async () => {
    const x = noise(3);
    const onlyStarry = objective([starry], weights());
    const onlyScream = objective([scream], weights());
    const blend = objective([starry, scream], weights({ styleBlendWeights: [2, 0] }));
    const s1 = await onlyStarry.evaluate(x);
    const s2 = await onlyScream.evaluate(x);
    const b1 = await blend.evaluate(x);
    blend.setWeights({ styleBlendWeights: [0, 7] });
    const b2 = await blend.evaluate(x);
    for (const l of STYLE_LAYERS) {
      expect(b1.style[l]! / s1.style[l]!).toBeCloseTo(1, 4);
      expect(b2.style[l]! / s2.style[l]!).toBeCloseTo(1, 4);
    }
    // an even blend targets the average Gram: its loss lies below the mean of the two
    blend.setWeights({ styleBlendWeights: [1, 1] });
    const half = await blend.evaluate(x);
    expect(half.style.relu3_1!).toBeLessThan((s1.style.relu3_1! + s2.style.relu3_1!) / 2);
    for (const o of [onlyStarry, onlyScream, blend]) o.dispose();
  });

  it("the hand-written backward pass through VGG equals tfjs autodiff, with max and avg pooling", async () => {
    for (const pooling of ["max", "avg"] as const) {
      const poolNet = new VggFeatures(await loadVggWeights(13), { pooling, gradient: "flipped" });
      const make = (backprop: "chain" | "autodiff") =>
        new VggObjective({
          net: poolNet,
          content,
          styles: [starry],
          contentLayers: ["relu4_2"],
          styleLayers: STYLE_LAYERS,
          weights: weights(),
          backprop,
        });
      const chain = make("chain");
      const tape = make("autodiff");
      const x = noise(6);
      const a = await chain.evaluate(x);
      const b = await tape.evaluate(x);
      expect(a.total / b.total).toBeCloseTo(1, 5);
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < x.length; i++) {
        scale = Math.max(scale, Math.abs(b.grad[i]!));
        diff = Math.max(diff, Math.abs(a.grad[i]! - b.grad[i]!));
      }
      expect(scale).toBeGreaterThan(0);
      expect(diff / scale).toBeLessThan(1e-4);
      chain.dispose();
      tape.dispose();
      poolNet.dispose();
    }
  });

  it("stops between blocks when its signal is aborted, freeing the activations", async () => {
    const obj = objective([starry], weights());
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    controller.abort();
    const error = await obj.evaluate(noise(7), { signal: controller.signal }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe("AbortError");
    expect(tf.memory().numTensors).toBe(before);
    obj.dispose();
  });

  it("rejects bad weights", () => {
    const obj = objective([starry], weights());
    expect(() => obj.setWeights({ styleWeight: -1 })).toThrow(/styleWeight/);
    expect(() => obj.setWeights({ styleBlendWeights: [1, 1] })).toThrow(/one per style/);
    expect(() => obj.setWeights({ styleBlendWeights: [0] })).toThrow(/positive sum/);
    obj.dispose();
  });

  it("has the gradient of its total: directional finite differences agree", async () => {
    const x = noise(4);
    const obj = objective([starry], weights());
    const { grad } = await obj.evaluate(x);
    let gmax = 0;
    for (const v of grad) gmax = Math.max(gmax, Math.abs(v));
    const rng = new Rng(5);
    // Along the gradient plus noise: a large directional derivative keeps float32 rounding of
    // a ~1e8 total out of the comparison.
    for (const noiseScale of [0, 1]) {
      const d = Float32Array.from({ length: x.length }, (_, i) => grad[i]! / gmax + noiseScale * rng.normal());
      const h = 0.3;
      const plus = x.map((v, i) => v + h * d[i]!);
      const minus = x.map((v, i) => v - h * d[i]!);
      const fd = ((await obj.evaluate(plus)).total - (await obj.evaluate(minus)).total) / (2 * h);
      let analytic = 0;
      for (let i = 0; i < x.length; i++) analytic += grad[i]! * d[i]!;
      expect(Math.abs(fd - analytic) / Math.abs(analytic)).toBeLessThan(0.015);
    }
    obj.dispose();
  });

  it("holds a fixed number of tensors and frees them all on dispose", async () => {
    const before = tf.memory().numTensors;
    const obj = objective([starry, scream], weights({ styleBlendWeights: [1, 1] }));
    const held = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await obj.evaluate(noise(i));
      obj.setWeights({ styleBlendWeights: [i + 1, 1] });
      expect(tf.memory().numTensors).toBe(held);
    }
    obj.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
