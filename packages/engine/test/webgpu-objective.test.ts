import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STYLE_LAYERS, loadFloatImage, objectiveWeights } from "./objective-fixtures.ts";
import { matchColors } from "../src/color-match.ts";
import type { Evaluation, FloatImage, ObjectiveWeights } from "../src/objective.ts";
import { OnnxObjective } from "../src/onnx-objective.ts";
import { OnnxVgg } from "../src/onnx-vgg.ts";
import { loadOnnxRuntime, probeWebgpu, type OnnxDevice, type OrtModule } from "../src/onnx-runtime.ts";
import { Rng } from "../src/rng.ts";
import type { StyleMask } from "../src/style-masks.ts";
import type { Pooling } from "../src/vgg.ts";
import { loadVggWeightArrays, type RawConvWeights } from "../src/weights.ts";

// The objective on ONNX Runtime's WebGPU provider against the same objective on its CPU
// provider, with the real VGG-19 weights, on whatever adapter this machine has (the software
// one, lavapipe, here and in CI): the webgpu graphs differ (max-pool backward as an equality
// mask, Add chains for Sum), so they are held to the CPU's numbers. Small sizes: lavapipe is a
// CPU running shaders.
//
// Original colours: of the colour controls only "match-style" changes what the objective sees
// (the style images, matched to the photo's colours before the targets are built); "luminance"
// and "match-result" act on the rendered image in JavaScript, the same for every backend. So the
// avg-pooling case takes a colour-matched style: the original-colours path at no extra cost.

let ort: OrtModule;
let raw: RawConvWeights[];
let content: FloatImage;
let starry: FloatImage;
let scream: FloatImage;
let starryInPhotoColours: FloatImage;
const W = 37;
const H = 29; // odd: the pools' dropped last row and column are covered

beforeAll(async () => {
  ort = await loadOnnxRuntime();
  await probeWebgpu(ort); // no adapter: this fails loudly, it is not skipped
  raw = (await loadVggWeightArrays(13)).convs;
  [content, starry, scream] = await Promise.all([
    loadFloatImage("tubingen.jpg", W, H),
    loadFloatImage("starry_night.jpg", 40, 32),
    loadFloatImage("the_scream.jpg", 32, 40),
  ]);
  starryInPhotoColours = { ...starry, pixels: matchColors(starry.pixels, content.pixels) };
});

const nets: OnnxVgg[] = [];
afterAll(() => {
  for (const net of nets) net.dispose();
});

function net(device: OnnxDevice, pooling: Pooling): OnnxVgg {
  const n = new OnnxVgg(ort, raw, pooling, "flipped", device);
  nets.push(n);
  return n;
}

function noise(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: W * H * 3 }, () => 128 + 40 * rng.normal());
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

function expectSame(gpu: Evaluation, cpu: Evaluation): void {
  expect(relative(gpu.total, cpu.total)).toBeLessThanOrEqual(1e-4);
  expect(relative(gpu.content, cpu.content)).toBeLessThanOrEqual(1e-4);
  expect(relative(gpu.tv, cpu.tv)).toBeLessThanOrEqual(1e-4);
  for (const layer of STYLE_LAYERS) expect(relative(gpu.style[layer]!, cpu.style[layer]!)).toBeLessThanOrEqual(1e-4);
  expect(cosine(gpu.grad, cpu.grad)).toBeGreaterThanOrEqual(0.9999);
}

interface Case {
  pooling: Pooling;
  styles: FloatImage[];
  weights: ObjectiveWeights;
  masks?: (StyleMask | null)[];
}

async function both(c: Case): Promise<{ gpu: OnnxObjective; cpu: OnnxObjective; dispose(): void }> {
  const setup = {
    content,
    styles: c.styles,
    contentLayers: ["relu4_2"],
    styleLayers: STYLE_LAYERS,
    weights: c.weights,
    ...(c.masks ? { styleMasks: c.masks } : {}),
  };
  const gpu = await OnnxObjective.create({ net: net("webgpu", c.pooling), ...setup });
  const cpu = await OnnxObjective.create({ net: net("cpu", c.pooling), ...setup });
  return {
    gpu,
    cpu,
    dispose() {
      gpu.dispose();
      cpu.dispose();
    },
  };
}

/** Left half style 1, right half style 2 (a soft edge), as the masks of a masked run. */
function halves(): StyleMask[] {
  const left = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) left[y * W + x] = Math.min(1, Math.max(0, (W / 2 - x) / 4));
  return [
    { width: W, height: H, values: left },
    { width: W, height: H, values: left.map((v) => 1 - v) },
  ];
}

// lavapipe compiles every shader on first use: generous ceilings, not timing bounds
describe("the objective on ONNX Runtime's WebGPU provider", { timeout: 900_000 }, () => {
  it.each<[string, () => Case]>([
    ["max pooling, one style", () => ({ pooling: "max", styles: [starry], weights: objectiveWeights() })],
    [
      "avg pooling, one style in the photo's colours (original colours)",
      () => ({ pooling: "avg", styles: [starryInPhotoColours], weights: objectiveWeights() }),
    ],
    [
      "two styles blended",
      () => ({
        pooling: "max",
        styles: [starry, scream],
        weights: objectiveWeights({ styleBlendWeights: [0.3, 0.7] }),
      }),
    ],
    [
      "two styles under masks",
      () => ({
        pooling: "max",
        styles: [starry, scream],
        weights: objectiveWeights({ styleBlendWeights: [1, 2] }),
        masks: halves(),
      }),
    ],
  ])("gives the CPU provider's loss terms (≤ 1e-4) and gradient (cosine ≥ 0.9999): %s", async (_, make) => {
    const objectives = await both(make());
    try {
      const x = noise(1);
      expectSame(await objectives.gpu.evaluate(x), await objectives.cpu.evaluate(x));
      // the content image itself: content loss 0, so the style and TV terms carry it
      expectSame(await objectives.gpu.evaluate(content.pixels), await objectives.cpu.evaluate(content.pixels));
    } finally {
      objectives.dispose();
    }
  });

  it("takes live weight edits without a rebuild, as the CPU provider does", async () => {
    const objectives = await both({
      pooling: "max",
      styles: [starry, scream],
      weights: objectiveWeights({ styleBlendWeights: [1, 0] }),
    });
    try {
      const x = noise(3);
      const before = await objectives.gpu.evaluate(x);
      const edit = {
        contentWeight: 20,
        styleWeight: 10,
        tvWeight: 0.01,
        styleBlendWeights: [0, 1],
        styleLayerWeights: [1, 1, 1, 2, 0],
      };
      objectives.gpu.setWeights(edit);
      objectives.cpu.setWeights(edit);
      const after = await objectives.gpu.evaluate(x);
      expect(relative(after.content, before.content * 4)).toBeLessThanOrEqual(1e-4);
      expect(after.style.relu5_1).toBe(0); // its layer weight went to 0
      expect(before.style.relu5_1).toBeGreaterThan(0);
      expectSame(after, await objectives.cpu.evaluate(x));
    } finally {
      objectives.dispose();
    }
  });

  it("keeps the process's memory flat over many evaluations", async () => {
    // the webgpu objective alone: a CPU one beside it would only cost time
    const gpu = await OnnxObjective.create({
      net: net("webgpu", "max"),
      content,
      styles: [starry],
      contentLayers: ["relu4_2"],
      styleLayers: STYLE_LAYERS,
      weights: objectiveWeights(),
    });
    try {
      const x = noise(4);
      const rss = async (n: number) => {
        for (let i = 0; i < n; i++) {
          await gpu.evaluate(x);
          if (i % 5 === 4) gpu.setWeights({ tvWeight: 1e-3 * (1 + (i % 2)) }); // re-uploads
        }
        return process.memoryUsage().rss;
      };
      // warm: ONNX Runtime's and Dawn's pools reach their size (on lavapipe the RSS was flat from
      // the first evaluation on; a second warm-up batch of 5 cost ~4 s of CPU and saw nothing)
      const warm = await rss(5);
      const later = await rss(15);
      // a leaked device copy per edit or output per evaluation would grow with every call
      expect(later - warm).toBeLessThan(40 * 1024 * 1024);
    } finally {
      gpu.dispose();
    }
  });
});
