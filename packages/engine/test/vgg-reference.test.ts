/**
 * VGG-19 against an independent implementation: the activations of a fixed synthetic input
 * at relu1_1, relu2_1 and relu3_1 equal those computed once by a numpy script (float64,
 * im2col convolutions, its own reading of the .bin files and of the weights' documented
 * preprocessing: BGR minus the ImageNet mean). The script and how to rerun it are in
 * test/fixtures/vgg19-reference.py; its output is test/fixtures/vgg19-reference.json.
 * A wrong channel order or mean in the engine's preprocessing, a wrong kernel layout or a
 * wrong padding moves these values far outside float32 rounding.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend.ts";
import { VggFeatures } from "../src/vgg.ts";
import { loadVggWeights, type VggWeights } from "../src/weights.ts";

interface LayerReference {
  shape: [number, number, number];
  mean: number;
  std: number;
  channelMeans: number[];
  samples: [number, number, number, number][];
}
const reference = JSON.parse(readFileSync(new URL("./fixtures/vgg19-reference.json", import.meta.url), "utf8")) as {
  input: { width: number; height: number };
  layers: Record<string, LayerReference>;
};
const LAYERS = Object.keys(reference.layers);

/** The script's input, byte for byte: R=(37x+11y)%256, G=(13xy+50)%256, B=(255-5x-9y)%256. */
function pattern(): tf.Tensor4D {
  const { width, height } = reference.input;
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = (37 * x + 11 * y) % 256;
      data[p + 1] = (13 * x * y + 50) % 256;
      data[p + 2] = (((255 - 5 * x - 9 * y) % 256) + 256) % 256;
    }
  }
  return tf.tensor4d(data, [1, height, width, 3]);
}

/** Every value the fixture holds for a layer, against the engine's activation. */
function compare(layer: string, activation: tf.Tensor4D): void {
  const ref = reference.layers[layer]!;
  expect(activation.shape, layer).toEqual([1, ...ref.shape]);
  const [h, w, c] = ref.shape;
  const values = activation.dataSync();
  // float32 sums of up to 9×128 products against float64: far below this, while a channel swap
  // or a wrong mean moves relu1_1 by tens and deeper layers by hundreds.
  const tolerance = 1e-4 * ref.std + 1e-3;
  let sum = 0;
  const channelSums = new Float64Array(c);
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    channelSums[i % c]! += values[i]!;
  }
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  expect(Math.abs(mean - ref.mean), `${layer} mean`).toBeLessThan(tolerance);
  expect(Math.abs(Math.sqrt(squares / values.length) - ref.std), `${layer} std`).toBeLessThan(tolerance);
  ref.channelMeans.forEach((m, k) => {
    expect(Math.abs(channelSums[k]! / (h * w) - m), `${layer} channel ${k} mean`).toBeLessThan(tolerance);
  });
  for (const [y, x, k, value] of ref.samples) {
    expect(Math.abs(values[(y * w + x) * c + k]! - value), `${layer}[${y},${x},${k}]`).toBeLessThan(tolerance);
  }
}

let weights: VggWeights;

beforeAll(async () => {
  await initBackend();
  weights = await loadVggWeights(5);
});

describe("VGG-19 activations against the numpy reference", () => {
  for (const gradient of ["flipped", "autodiff"] as const) {
    it(`features(), extract() and trace() match at ${LAYERS.join(", ")} (${gradient} gradient)`, () => {
      const vgg = new VggFeatures(weights, { pooling: "max", gradient });
      const input = pattern();
      try {
        const features = vgg.features(input, LAYERS);
        for (const layer of LAYERS) compare(layer, features[layer]!);
        for (const t of Object.values(features)) t.dispose();

        tf.tidy(() => {
          const extracted = vgg.extract(input, LAYERS);
          for (const layer of LAYERS) compare(layer, extracted[layer]!);
        });

        const trace = vgg.trace(input, LAYERS);
        for (const layer of LAYERS) compare(layer, trace.features[layer]!);
        trace.dispose();
      } finally {
        input.dispose();
        vgg.dispose();
      }
    });
  }
});
