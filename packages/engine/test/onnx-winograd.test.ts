import { beforeAll, describe, expect, it } from "vitest";
import { STYLE_LAYERS, loadFloatImage, objectiveWeights } from "./objective-fixtures.ts";
import type { Evaluation, FloatImage } from "../src/objective.ts";
import { convGraph } from "../src/onnx-conv-graph.ts";
import { OnnxObjective } from "../src/onnx-objective.ts";
import { OnnxVgg } from "../src/onnx-vgg.ts";
import { createSession, loadOnnxRuntime, type OrtModule } from "../src/onnx-runtime.ts";
import type { ConvAlgorithm, ConvAlgorithms } from "../src/onnx-winograd.ts";
import { Rng } from "../src/rng.ts";
import { loadVggWeightArrays, type RawConvWeights } from "../src/weights.ts";
import { VGG19_CONVS } from "../src/weights-manifest.ts";

// Winograd F(2×2,3×3) and F(4×4,3×3) against ONNX Runtime's own Conv, with the real VGG-19
// weights: single convs (forward and input gradient, odd sizes so tiles overhang), then the
// whole objective with every conv by Winograd (F(2×2) and F(4×4) alternating) (the bar: ≤ 1e-4 relative on every
// loss term, gradient cosine ≥ 0.9999). Measured 2026-12-05 at 41×33: see the console lines.

let ort: OrtModule;
let raw: RawConvWeights[];
let content: FloatImage;
let starry: FloatImage;

beforeAll(async () => {
  ort = await loadOnnxRuntime();
  raw = (await loadVggWeightArrays(13)).convs;
  content = await loadFloatImage("tubingen.jpg", 41, 33);
  starry = await loadFloatImage("starry_night.jpg", 40, 32);
});

async function runConv(
  i: number,
  direction: "forward" | "gradient",
  algorithm: ConvAlgorithm,
  x: Float32Array,
  width: number,
  height: number,
): Promise<Float32Array> {
  const { inChannels, outChannels } = VGG19_CONVS[i]!;
  const cin = direction === "forward" ? inChannels : outChannels;
  const session = await createSession(ort, convGraph(raw[i]!, i, width, height, direction, algorithm), "conv");
  try {
    const out = await session.run({ x: new ort.Tensor("float32", x, [1, cin, height, width]) });
    return out.y!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function relative(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k]! * b[k]!;
    na += a[k]! ** 2;
    nb += b[k]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

describe("Winograd convs against ONNX Runtime's Conv", () => {
  // conv1_1 (3 → 64: its gradient maps 64 → 3), conv2_1 (64 → 128), conv3_2 (256 → 256); the
  // deeper ones in the objective below (a 512-channel conv alone takes seconds to set up)
  for (const i of [0, 2, 5]) {
    for (const direction of ["forward", "gradient"] as const) {
      it(`${VGG19_CONVS[i]!.name} ${direction}: max |Δ| ≤ 5e-5 of max |y| for F(2×2) and F(4×4), 13×11 and 12×8`, async () => {
        for (const [width, height] of [
          [13, 11],
          [12, 8],
        ] as const) {
          const cin = direction === "forward" ? VGG19_CONVS[i]!.inChannels : VGG19_CONVS[i]!.outChannels;
          const rng = new Rng(i * 7 + width);
          const x = Float32Array.from({ length: cin * width * height }, () => 40 * rng.normal());
          const direct = await runConv(i, direction, "direct", x, width, height);
          const scale = direct.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          expect(scale).toBeGreaterThan(0);
          for (const algorithm of ["winograd2", "winograd4"] as const) {
            const y = await runConv(i, direction, algorithm, x, width, height);
            expect(y.length).toBe(direct.length);
            const err = y.reduce((m, v, k) => Math.max(m, Math.abs(v - direct[k]!)), 0) / scale;
            expect(err, `${algorithm} ${width}×${height}`).toBeLessThanOrEqual(5e-5);
          }
        }
      });
    }
  }
});

/**
 * Every conv by Winograd, F(2×2) and F(4×4) alternating (forward conv i by one, its gradient by
 * the other): each variant of every layer in one objective. One graph, not one per variant:
 * building a session with every conv's transformed kernels (F(4×4): 4× the weights) is what
 * takes the time here, not evaluating it.
 */
const MIXED: ConvAlgorithms = {
  forward: VGG19_CONVS.map((_, i) => (i % 2 ? "winograd4" : "winograd2")),
  gradient: VGG19_CONVS.map((_, i) => (i % 2 ? "winograd2" : "winograd4")),
};

describe("the objective with every conv by Winograd", () => {
  async function evaluate(plan: ConvAlgorithms | undefined, x: Float32Array): Promise<Evaluation> {
    const started = performance.now();
    const net = new OnnxVgg(ort, raw, "max", "flipped", "cpu", plan);
    const objective = await OnnxObjective.create({
      net,
      content,
      styles: [starry],
      contentLayers: ["relu4_2"],
      styleLayers: STYLE_LAYERS,
      weights: objectiveWeights(),
    });
    console.log(`objective (${plan ? "Winograd" : "direct"}) built in ${(performance.now() - started).toFixed(0)} ms`);
    try {
      return await objective.evaluate(x);
    } finally {
      objective.dispose();
      net.dispose();
    }
  }

  it("has the direct objective's loss terms (≤ 1e-4 relative) and gradient (cosine ≥ 0.9999)", async () => {
    const rng = new Rng(3);
    const x = Float32Array.from({ length: content.pixels.length }, (_, k) => content.pixels[k]! + 20 * rng.normal());
    const direct = await evaluate(undefined, x);
    {
      const mode = "F(2×2) and F(4×4) alternating";
      const w = await evaluate(MIXED, x);
      const terms: [string, number, number][] = [
        ["total", direct.total, w.total],
        ["content", direct.content, w.content],
        ["tv", direct.tv, w.tv],
        ...STYLE_LAYERS.map((l): [string, number, number] => [l, direct.style[l]!, w.style[l]!]),
      ];
      const worst = Math.max(...terms.map(([, a, b]) => relative(a, b)));
      const cos = cosine(direct.grad, w.grad);
      console.log(
        `${mode} vs direct at 41×33: worst term rel ${worst.toExponential(2)}, grad cosine ${cos.toFixed(8)}`,
      );
      for (const [name, a, b] of terms) expect(relative(a, b), `${mode} ${name}`).toBeLessThanOrEqual(1e-4);
      expect(cos, mode).toBeGreaterThanOrEqual(0.9999);
    }
  });
});
