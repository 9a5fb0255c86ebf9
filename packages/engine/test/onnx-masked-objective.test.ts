/**
 * The masked style loss in the generated ONNX graph (onnx-style-terms.ts) against the tfjs
 * objective's MaskedStyleLoss, with the real VGG-19 weights at 41×33 (odd on purpose: VGG's
 * floor pooling drops a row or column). References as in onnx-objective.test.ts: tfjs cpu
 * (plain float32 loops, 1e-4 relative per term) and wasm (XNNPACK, 5e-4); the cpu reference at
 * 23×19 as there (its loops cost ~3× the CPU at 41×33), with the soft edge scaled to 4 px.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { STYLE_LAYERS, loadFloatImage, objectiveWeights } from "./objective-fixtures.ts";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { VggObjective, type Evaluation, type FloatImage, type ObjectiveWeights } from "../src/objective.ts";
import { OnnxObjective } from "../src/onnx-objective.ts";
import { OnnxVgg } from "../src/onnx-vgg.ts";
import { loadOnnxRuntime, type OrtModule } from "../src/onnx-runtime.ts";
import { Rng } from "../src/rng.ts";
import type { StyleMask } from "../src/style-masks.ts";
import { VggFeatures } from "../src/vgg.ts";
import { loadVggWeightArrays, loadVggWeights, type RawConvWeights } from "../src/weights.ts";

const W = 41;
const H = 33;
let ort: OrtModule;
let raw: RawConvWeights[];
/** A content image, the two style images, and the masks of two soft regions at the content's size. */
interface Fixture {
  content: FloatImage;
  starry: FloatImage;
  scream: FloatImage;
  left: StyleMask;
  right: StyleMask;
}
let full: Fixture;
/** The cpu reference's smaller images (see above). */
let small: Fixture;

/** A mask from a per-pixel function of (x, y). */
function mask(value: (x: number, y: number) => number, width = W, height = H): StyleMask {
  const values = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) values[y * width + x] = value(x, y);
  return { width, height, values };
}

/** Left and right with a soft ramp between them, from `edge` − `ramp` to `edge` px (fractional values reach every layer). */
function softHalves(width: number, height: number, edge: number, ramp: number): { left: StyleMask; right: StyleMask } {
  const left = (x: number) => Math.min(1, Math.max(0, (edge - x) / ramp));
  return { left: mask(left, width, height), right: mask((x) => 1 - left(x), width, height) };
}
/** Only the last column: VGG's first pooling drops it, so the region vanishes from relu2_1 on. */
const lastColumn = mask((x) => (x === W - 1 ? 1 : 0));

function noise(seed: number, length = W * H * 3): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => 128 + 40 * rng.normal());
}

function relative(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Every term within `tolerance` relative, the gradients at cosine ≥ 0.9999; returns the worst term. */
function expectSame(a: Evaluation, b: Evaluation, tolerance: number): number {
  const pairs: [string, number, number][] = [
    ["content", a.content, b.content],
    ["tv", a.tv, b.tv],
    ["total", a.total, b.total],
    ...STYLE_LAYERS.map((l): [string, number, number] => [l, a.style[l]!, b.style[l]!]),
  ];
  for (const [name, x, y] of pairs) expect(relative(x, y), name).toBeLessThanOrEqual(tolerance);
  expect(cosine(a.grad, b.grad)).toBeGreaterThanOrEqual(0.9999);
  return Math.max(...pairs.map(([, x, y]) => relative(x, y)));
}

async function objectives(
  reference: "cpu" | "wasm",
  masks: (StyleMask | null)[],
  w: ObjectiveWeights,
  { content, starry, scream } = full,
) {
  await tf.setBackend(reference);
  (tf.backend() as { firstUse?: boolean }).firstUse = false; // cpu's tfjs-node banner
  const net = new VggFeatures(await loadVggWeights(13), { pooling: "max", gradient: "flipped" });
  const onnxNet = new OnnxVgg(ort, raw, "max");
  const setup = {
    content,
    styles: [starry, scream],
    contentLayers: ["relu4_2"],
    styleLayers: STYLE_LAYERS,
    weights: w,
    styleMasks: masks,
  };
  const tfjs = new VggObjective({ net, ...setup });
  const onnx = await OnnxObjective.create({ net: onnxNet, ...setup });
  return {
    tfjs,
    onnx,
    dispose() {
      tfjs.dispose();
      onnx.dispose();
      onnxNet.dispose();
      net.dispose();
    },
  };
}

beforeAll(async () => {
  await initTfjsBackend();
  await import("@tensorflow/tfjs-backend-cpu");
  ort = await loadOnnxRuntime();
  raw = (await loadVggWeightArrays(13)).convs;
  full = {
    content: await loadFloatImage("tubingen.jpg", W, H),
    starry: await loadFloatImage("starry_night.jpg", 40, 32),
    scream: await loadFloatImage("the_scream.jpg", 33, 42),
    ...softHalves(W, H, 24, 8),
  };
  small = {
    content: await loadFloatImage("tubingen.jpg", 23, 19),
    starry: await loadFloatImage("starry_night.jpg", 24, 19),
    scream: await loadFloatImage("the_scream.jpg", 19, 25),
    ...softHalves(23, 19, 13, 4),
  };
});

describe("masked style loss on onnx against tfjs", () => {
  const w = objectiveWeights({ styleBlendWeights: [1, 2], styleLayerWeights: [1, 0.5, 2, 1, 3] });
  for (const [reference, tolerance] of [
    ["cpu", 1e-4],
    ["wasm", 5e-4],
  ] as const) {
    it(`two soft regions vs tfjs ${reference}: every term ≤ ${tolerance} relative, gradient cosine ≥ 0.9999`, async () => {
      const f = reference === "cpu" ? small : full;
      const p = await objectives(reference, [f.left, f.right], w, f);
      const x = noise(1, f.content.pixels.length);
      const worst = expectSame(await p.tfjs.evaluate(x), await p.onnx.evaluate(x), tolerance);
      console.log(`masked onnx vs tfjs ${reference}: worst term rel ${worst.toExponential(2)}`);
      p.dispose();
    });
  }

  it("a region that vanishes at deeper layers, a style without a mask, and live weight edits (wasm)", async () => {
    const p = await objectives("wasm", [null, lastColumn], w);
    const x = noise(2);
    const first = await p.onnx.evaluate(x);
    expectSame(await p.tfjs.evaluate(x), first, 5e-4);
    for (const edit of [{ styleBlendWeights: [0, 3] }, { styleWeight: 20, styleLayerWeights: [2, 1, 1, 1, 0] }]) {
      p.tfjs.setWeights(edit);
      p.onnx.setWeights(edit);
      expectSame(await p.tfjs.evaluate(x), await p.onnx.evaluate(x), 5e-4);
    }
    // blend [0, 3]: only the last column's region is left, and it exists at relu1_1 alone
    const only = await p.onnx.evaluate(x);
    expect(only.style.relu1_1).toBeGreaterThan(0);
    expect(only.style.relu2_1).toBe(0);
    expect(only.style.relu3_1).toBe(0);
    expect(first.style.relu3_1).toBeGreaterThan(0);
    p.dispose();
  });

  it("has the gradient of its total: finite differences at single pixels agree", async () => {
    const { content, starry, scream, left, right } = full;
    const net = new OnnxVgg(ort, raw, "max");
    const onnx = await OnnxObjective.create({
      net,
      content,
      styles: [starry, scream],
      contentLayers: ["relu4_2"],
      styleLayers: STYLE_LAYERS,
      // small weights keep the float32 total near 1e5, so ±0.5 grey levels move it well above rounding
      weights: objectiveWeights({ styleWeight: 1e-3, contentWeight: 1e-2, tvWeight: 1e-2, styleBlendWeights: [1, 1] }),
      styleMasks: [left, right],
    });
    const x = noise(3);
    const { grad } = await onnx.evaluate(x);
    // per masked region: the strongest gradients where only the left mask is on, where only the
    // right one is, and where both are partly on (the soft boundary)
    const region = (test: (l: number, r: number) => boolean) =>
      Array.from(grad.keys())
        .filter((i) => test(left.values[Math.floor(i / 3)]!, right.values[Math.floor(i / 3)]!))
        .sort((i, j) => Math.abs(grad[j]!) - Math.abs(grad[i]!));
    const regions = [
      region((l, r) => l === 1 && r === 0),
      region((l, r) => l === 0 && r === 1),
      region((l, r) => l > 0 && l < 1 && r > 0),
    ];
    for (const pixels of regions) expect(pixels.length).toBeGreaterThan(3);
    for (const i of regions.flatMap((pixels) => [pixels[0]!, pixels[Math.floor(pixels.length / 4)]!])) {
      const plus = x.slice();
      const minus = x.slice();
      plus[i] = x[i]! + 0.5;
      minus[i] = x[i]! - 0.5;
      const fd = (await onnx.evaluate(plus)).total - (await onnx.evaluate(minus)).total;
      expect(Math.abs(fd - grad[i]!) / Math.abs(grad[i]!), `pixel value ${i}`).toBeLessThan(0.02);
    }
    onnx.dispose();
    net.dispose();
  });
});
