/**
 * ONNX graphs of the Gatys objective, built in code (no model files): VGG-19 forward to the
 * deepest layer asked for, the loss terms, and the hand-written backward pass to the pixels,
 * as one graph per image size so an iteration is one session.run.
 *
 * Layout NCHW (ONNX's own). The graph's input is the optimiser's flat H·W·3 RGB 0–255
 * vector and its outputs are the weighted loss terms and the flat gradient in the same
 * layout, so nothing is transposed in JavaScript. Loss weights, content activations and
 * blended style Grams are inputs: live weight edits and blend changes never rebuild a graph.
 *
 * The backward pass mirrors vgg.ts: ReLU mask (1 where the ReLU output y > 0, as tf.step:
 * reluMask), conv input gradient (ConvTranspose with the forward kernel, or a forward Conv
 * with the flipped kernel: see ConvGradient), max-pool backward through MaxPool's indices
 * and MaxUnpool, avg-pool backward as a 2×2 broadcast of dy/4; Gram, content and TV
 * gradients in closed form (losses.ts has the normalisation).
 *
 * Any 3×3 conv, forward or input gradient, may instead be a Winograd F(2×2,3×3) or F(4×4,3×3)
 * (onnx-winograd.ts; GraphSpec.convAlgorithms, chosen per layer by measurement).
 */
import { Builder } from "./onnx-builder.ts";
import { STYLE_IO, gramOf, styleTerm } from "./onnx-style-terms.ts";
import { winogradConv, type ConvAlgorithms } from "./onnx-winograd.ts";
import { VGG_MEAN_BGR, type Pooling } from "./vgg.ts";
import { VGG19_CONVS } from "./weights-manifest.ts";

/**
 * How a conv's input gradient is computed. Measured at 256² on the 2-core dev box (whole
 * forward + backward graph, median of 5): see ONNX_CONV_GRADIENT in onnx-vgg.ts.
 */
export type ConvGradient = "transpose" | "flipped";

/** Which execution provider a graph is built for (GraphSpec.device). */
export type GraphDevice = "cpu" | "webgpu";

/** One conv's weights: kernel in HWIO (as the manifest stores it), bias per output channel. */
export interface RawConv {
  kernel: Float32Array;
  bias: Float32Array;
}

export interface GraphSpec {
  width: number;
  height: number;
  /** conv1_1 … the deepest conv used */
  convs: readonly RawConv[];
  pooling: Pooling;
  /** indices 0–15 of the relu layers whose content loss is taken */
  contentLayers: readonly number[];
  /** indices 0–15 of the relu layers whose style loss is taken */
  styleLayers: readonly number[];
  convGradient: ConvGradient;
  /**
   * "webgpu": only ops ONNX Runtime's WebGPU provider has kernels for, so no node of the graph
   * falls back to the CPU: Add chains for Sum, and max-pool backward as an equality mask
   * against the upsampled max instead of MaxPool's indices and MaxUnpool. Default "cpu".
   */
  device?: GraphDevice;
  /**
   * 0 (default): one blended target Gram per style layer. n > 0: masked style loss over n
   * styles' regions (onnx-style-terms.ts), masks and per-style targets as inputs.
   */
  maskedStyles?: number;
  /**
   * How each conv (index 0–15) and each conv input gradient is computed (onnx-winograd.ts);
   * absent or shorter: direct Conv. The gradient entry applies with convGradient "flipped".
   */
  convAlgorithms?: ConvAlgorithms;
}

/** Spatial size of the input of conv i (VGG's 'valid' 2×2 pooling floors). */
function convInputSize(i: number, width: number, height: number): { width: number; height: number } {
  const halvings = VGG19_CONVS[i]!.block - 1;
  let w = width;
  let h = height;
  for (let k = 0; k < halvings; k++) {
    w = Math.floor(w / 2);
    h = Math.floor(h / 2);
  }
  return { width: w, height: h };
}

/** Whether a 2×2 pool follows conv i inside a network of `last` convs. */
function poolsAfter(i: number, last: number): boolean {
  return i + 1 < last && VGG19_CONVS[i + 1]!.block !== VGG19_CONVS[i]!.block;
}

/** HWIO → OIHW (ONNX Conv and ConvTranspose weights). */
export function oihw(kernel: Float32Array, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let ky = 0; ky < 3; ky++)
    for (let kx = 0; kx < 3; kx++)
      for (let ci = 0; ci < cin; ci++)
        for (let co = 0; co < cout; co++)
          out[((co * cin + ci) * 3 + ky) * 3 + kx] = kernel[((ky * 3 + kx) * cin + ci) * cout + co]!;
  return out;
}

/** W̃[ci][co][ky][kx] = W[co][ci][2−ky][2−kx]: the input gradient of a 'same' 3×3 conv as a forward conv. */
export function flippedOihw(kernel: Float32Array, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let ky = 0; ky < 3; ky++)
    for (let kx = 0; kx < 3; kx++)
      for (let ci = 0; ci < cin; ci++)
        for (let co = 0; co < cout; co++)
          out[((ci * cout + co) * 3 + (2 - ky)) * 3 + (2 - kx)] = kernel[((ky * 3 + kx) * cin + ci) * cout + co]!;
  return out;
}

interface Forward {
  /** relu output of each conv */
  y: string[];
  /** MaxPool indices after conv i (max pooling only, not portable) */
  indices: (string | null)[];
  /** MaxPool output after conv i (max pooling only) */
  pooled: (string | null)[];
  /** OIHW kernel of conv i as an initialiser (made on first use) */
  kernel: (i: number) => string;
}

/** image (flat H·W·3 RGB) → BGR − mean, NCHW; then conv/relu/pool through `last` convs. */
function forward(
  b: Builder,
  image: string,
  spec: Omit<GraphSpec, "contentLayers" | "styleLayers" | "convGradient">,
  last: number,
): Forward {
  const kernels = new Map<number, string>();
  const kernel = (i: number): string => {
    const { inChannels: cin, outChannels: cout } = VGG19_CONVS[i]!;
    if (!kernels.has(i)) kernels.set(i, b.floats(oihw(spec.convs[i]!.kernel, cin, cout), [cout, cin, 3, 3]));
    return kernels.get(i)!;
  };
  const { width, height } = spec;
  const nhwc = b.op("Reshape", [image, b.ints([1, height, width, 3])]);
  const nchw = b.op("Transpose", [nhwc], { perm: [0, 3, 1, 2] });
  const bgr = b.op("Gather", [nchw, b.ints([2, 1, 0])], { axis: 1 });
  let x = b.op("Sub", [bgr, b.floats([...VGG_MEAN_BGR], [1, 3, 1, 1])]);
  const y: string[] = [];
  const indices: (string | null)[] = [];
  const pooled: (string | null)[] = [];
  for (let i = 0; i < last; i++) {
    const { inChannels: cin, outChannels: cout } = VGG19_CONVS[i]!;
    const conv = spec.convs[i]!;
    const bias = b.floats(conv.bias, [cout]);
    const algorithm = spec.convAlgorithms?.forward[i] ?? "direct";
    let z: string;
    if (algorithm === "direct") {
      z = b.op("Conv", [x, kernel(i), bias], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
    } else {
      const { width: w, height: h } = convInputSize(i, width, height);
      z = winogradConv(b, x, oihw(conv.kernel, cin, cout), { cin, cout, h, w }, algorithm, bias);
    }
    const r = b.op("Relu", [z]);
    y.push(r);
    indices.push(null);
    pooled.push(null);
    if (poolsAfter(i, last)) {
      if (spec.pooling === "max") {
        const outputs = b.portable ? 1 : 2; // the mask backward needs no indices
        const [p, idx] = b.node("MaxPool", [r], { kernel_shape: [2, 2], strides: [2, 2] }, outputs);
        indices[i] = idx ?? null;
        pooled[i] = p!;
        x = p!;
      } else {
        x = b.op("AveragePool", [r], { kernel_shape: [2, 2], strides: [2, 2] });
      }
    } else {
      x = r;
    }
  }
  return { y, indices, pooled, kernel };
}

/**
 * 1 where the ReLU output y > 0, else 0 (as tf.step), as HardSigmoid(y) = min(1, 2¹²⁷·y) for
 * y ≥ 0: exact for every y ≥ 2⁻¹²⁷ (≈ 5.9e-39) and for 0; only a positive y below that — a
 * denormal a conv sum never produces in practice — would get a fractional mask. Why not Sign
 * or Where: ONNX Runtime runs those on one thread. Profiled at 256×192 (2 threads, 13 masks
 * per evaluation): Sign 14.6 ms, Greater + Where 18.1 ms, HardSigmoid 1.4 ms per evaluation.
 */
function reluMask(b: Builder, y: string): string {
  return b.op("HardSigmoid", [y], { alpha: { float: 2 ** 127 }, beta: { float: 0 } });
}

/** Shape (channels, rows, columns) of relu output i for a width × height image. */
export function layerShape(i: number, imageWidth: number, imageHeight: number): { c: number; h: number; w: number } {
  const { width, height } = convInputSize(i, imageWidth, imageHeight);
  return { c: VGG19_CONVS[i]!.outChannels, h: height, w: width };
}

/** Names of the inputs and outputs of the objective graph. */
export const OBJECTIVE_IO = {
  image: "image",
  contentWeight: "content_weight",
  tvWeight: "tv_weight",
  contentTarget: (layer: number) => `content_target_${layer}`,
  ...STYLE_IO,
  /** [content per content layer…, style per style layer…, tv], each already weighted */
  terms: "terms",
  grad: "grad",
} as const;

/**
 * The objective: inputs image [H·W·3], content_weight [1], tv_weight [1], style_weight_<i>
 * [1] (style weight × layer weight), content_target_<i> [1, C, h, w], gram_target_<i> [C, C]
 * (masked: style_weight_<i>_<s>, gram_target_<i>_<s> and style_mask_<i>_<s> per style instead,
 * see onnx-style-terms.ts); outputs terms and grad [H·W·3].
 */
export function objectiveGraph(spec: GraphSpec): Uint8Array {
  const b = new Builder(spec.device === "webgpu");
  const { width, height } = spec;
  const n = width * height * 3;
  const last = 1 + Math.max(...spec.contentLayers, ...spec.styleLayers);
  const image = b.input(OBJECTIVE_IO.image, [n]);
  const contentWeight = b.input(OBJECTIVE_IO.contentWeight, [1]);
  const tvWeight = b.input(OBJECTIVE_IO.tvWeight, [1]);
  const fwd = forward(b, image, spec, last);

  const contentTerms: string[] = [];
  const styleTerms: string[] = [];
  /** extra ∂L/∂y_i from the losses at layer i */
  const lossGrads: string[][] = Array.from({ length: last }, () => []);
  for (const i of spec.contentLayers) {
    const { c, h, w } = layerShape(i, spec.width, spec.height);
    const target = b.input(OBJECTIVE_IO.contentTarget(i), [1, c, h, w]);
    const d = b.op("Sub", [fwd.y[i]!, target]);
    const mse = b.op("ReduceMean", [b.op("Mul", [d, d])], { keepdims: 0 });
    contentTerms.push(b.op("Mul", [mse, contentWeight]));
    // ∂(cw · mean(d²))/∂y = 2·cw·d / N
    const scaled = b.op("Mul", [d, contentWeight]);
    lossGrads[i]!.push(b.op("Mul", [scaled, b.scalar(2 / (c * h * w))]));
  }
  for (const i of spec.styleLayers) {
    const shape = layerShape(i, spec.width, spec.height);
    const { term, grad } = styleTerm(b, fwd.y[i]!, i, shape, spec.maskedStyles ?? 0);
    styleTerms.push(term);
    lossGrads[i]!.push(grad);
  }

  // Backward through VGG, deepest layer first.
  let g: string | null = null; // ∂L/∂(input of the stage above conv i)
  for (let i = last - 1; i >= 0; i--) {
    const { c, h, w } = layerShape(i, spec.width, spec.height);
    if (g !== null && poolsAfter(i, last)) g = poolBackward(b, g, fwd, i, { c, h, w }, spec.pooling);
    const parts = g === null ? lossGrads[i]! : [g, ...lossGrads[i]!];
    if (parts.length === 0) throw new Error(`objectiveGraph: no gradient reaches conv ${i}`);
    const dy = b.sum(parts);
    const masked = b.op("Mul", [dy, reluMask(b, fwd.y[i]!)]);
    const { inChannels: cin, outChannels: cout } = VGG19_CONVS[i]!;
    if (spec.convGradient === "transpose") {
      g = b.op("ConvTranspose", [masked, fwd.kernel(i)], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
    } else {
      const flippedKernel = flippedOihw(spec.convs[i]!.kernel, cin, cout);
      const algorithm = spec.convAlgorithms?.gradient[i] ?? "direct";
      if (algorithm === "direct") {
        const flipped = b.floats(flippedKernel, [cin, cout, 3, 3]);
        g = b.op("Conv", [masked, flipped], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
      } else {
        // the gradient conv maps cout channels back to cin
        g = winogradConv(b, masked, flippedKernel, { cin: cout, cout: cin, h, w }, algorithm);
      }
    }
  }
  // ∂L/∂(BGR − mean) → ∂L/∂RGB: the mean passes it through, the channel flip flips it back.
  const rgb = b.op("Gather", [g!, b.ints([2, 1, 0])], { axis: 1 });
  const nhwcGrad = b.op("Reshape", [b.op("Transpose", [rgb], { perm: [0, 2, 3, 1] }), b.ints([n])]);

  const tv = tvTerm(b, image, width, height, tvWeight);
  const grad = tv ? b.op("Add", [nhwcGrad, tv.grad]) : nhwcGrad;
  const tvValue = tv ? tv.value : b.op("Mul", [b.scalar(0), tvWeight]);
  const terms = b.op(
    "Concat",
    [...contentTerms, ...styleTerms, tvValue].map((t) => b.op("Reshape", [t, b.ints([1])])),
    {
      axis: 0,
    },
  );
  b.output(OBJECTIVE_IO.terms, terms, [contentTerms.length + styleTerms.length + 1]);
  b.output(OBJECTIVE_IO.grad, grad, [n]);
  return b.encode(`gatys_${width}x${height}`);
}

/**
 * ∂L/∂(relu output i) from ∂L/∂(the 2×2 pool after it), `g` [1, C, ⌊h/2⌋, ⌊w/2⌋]; the odd last
 * row/column, which the pool drops, gets nothing.
 * - avg: each input of a window gets a quarter.
 * - max, not portable: MaxUnpool through MaxPool's indices (the first maximum of a window).
 * - max, portable: the upsampled g where the input equals the upsampled max — mask =
 *   HardSigmoid(y − max↑) with α = 2¹²⁷, β = 1: 1 where equal, 0 for any difference ≤ −2⁻¹²⁷
 *   (as reluMask). A window with tied maxima passes g to each tie, where MaxUnpool picks one;
 *   ties of ReLU outputs are zeros, which the ReLU mask below zeroes anyway, and ties of
 *   positive floats are rare enough not to show (the webgpu tests compare the gradients).
 */
function poolBackward(
  b: Builder,
  g: string,
  fwd: Forward,
  i: number,
  shape: { c: number; h: number; w: number },
  pooling: Pooling,
): string {
  const { c, h, w } = shape;
  if (pooling === "max" && !b.portable) {
    return b.op("MaxUnpool", [g, fwd.indices[i]!, b.ints([1, c, h, w])], { kernel_shape: [2, 2], strides: [2, 2] });
  }
  const h2 = Math.floor(h / 2);
  const w2 = Math.floor(w / 2);
  const up = (x: string) =>
    b.op("Reshape", [
      b.op("Expand", [b.op("Reshape", [x, b.ints([1, c, h2, 1, w2, 1])]), b.ints([1, c, h2, 2, w2, 2])]),
      b.ints([1, c, 2 * h2, 2 * w2]),
    ]);
  let spread: string;
  if (pooling === "avg") {
    spread = up(b.op("Mul", [g, b.scalar(0.25)]));
  } else {
    const odd = h % 2 || w % 2;
    const y = odd ? b.op("Slice", [fwd.y[i]!, b.ints([0, 0, 0, 0]), b.ints([1, c, 2 * h2, 2 * w2])]) : fwd.y[i]!;
    const below = b.op("Sub", [y, up(fwd.pooled[i]!)]);
    const mask = b.op("HardSigmoid", [below], { alpha: { float: 2 ** 127 }, beta: { float: 1 } });
    spread = b.op("Mul", [up(g), mask]);
  }
  return h % 2 || w % 2 ? b.op("Pad", [spread, b.ints([0, 0, 0, 0, 0, 0, h % 2, w % 2])]) : spread;
}

/**
 * tv_weight · ½ Σ (Δx² + Δy²) over the RGB image and its gradient, in the flat H·W·3 layout:
 * ∂/∂x_j of ½ Σ (x_{j+1} − x_j)² = Δ_{j−1} − Δ_j, i.e. Δ padded before minus Δ padded after.
 */
function tvTerm(
  b: Builder,
  image: string,
  width: number,
  height: number,
  weight: string,
): { value: string; grad: string } | null {
  const hwc = b.op("Reshape", [image, b.ints([height, width, 3])]);
  const sums: string[] = [];
  const grads: string[] = [];
  const along = (axis: 0 | 1, size: number) => {
    if (size < 2) return;
    const ends = axis === 0 ? [height, width, 3] : [height, width, 3];
    const hi = b.op("Slice", [hwc, b.ints(axis === 0 ? [1, 0, 0] : [0, 1, 0]), b.ints(ends)]);
    const lo = b.op("Slice", [
      hwc,
      b.ints([0, 0, 0]),
      b.ints(axis === 0 ? [height - 1, width, 3] : [height, width - 1, 3]),
    ]);
    const d = b.op("Sub", [hi, lo]);
    sums.push(b.op("ReduceSum", [b.op("Mul", [d, d])], { keepdims: 0 }));
    const before = b.op("Pad", [d, b.ints(axis === 0 ? [1, 0, 0, 0, 0, 0] : [0, 1, 0, 0, 0, 0])]);
    const after = b.op("Pad", [d, b.ints(axis === 0 ? [0, 0, 0, 1, 0, 0] : [0, 0, 0, 0, 1, 0])]);
    grads.push(b.op("Sub", [before, after]));
  };
  along(1, width);
  along(0, height);
  if (sums.length === 0) return null;
  const energy = b.op("Mul", [sums.length === 1 ? sums[0]! : b.op("Add", sums), b.scalar(0.5)]);
  const g = grads.length === 1 ? grads[0]! : b.op("Add", grads);
  return {
    value: b.op("Mul", [energy, weight]),
    grad: b.op("Mul", [b.op("Reshape", [g, b.ints([width * height * 3])]), weight]),
  };
}

/** Names of the targets graph's outputs. */
export const TARGETS_IO = {
  image: "image",
  content: (layer: number) => `content_${layer}`,
  gram: (layer: number) => `gram_${layer}`,
  /** with `regions`: the positions whose outer products are summed at a style layer [1, h·w] */
  region: (layer: number) => `region_${layer}`,
} as const;

/**
 * Forward only: the activations of `contentLayers` ([1, C, h, w]) and the Grams of
 * `styleLayers` ([C, C]) of a flat H·W·3 RGB image — the targets of the objective. With
 * `regions`, each Gram is the unnormalised (F ∘ r) Fᵀ over an input weight r per position
 * (a tiled level sums a style image's Gram over parts: tiled-level.ts's styleParts).
 */
export function targetsGraph(
  spec: Omit<GraphSpec, "convGradient" | "maskedStyles"> & { regions?: boolean },
): Uint8Array {
  const b = new Builder(spec.device === "webgpu");
  const { width, height } = spec;
  const last = 1 + Math.max(...spec.contentLayers, ...spec.styleLayers);
  const image = b.input(TARGETS_IO.image, [width * height * 3]);
  const fwd = forward(b, image, spec, last);
  for (const i of spec.contentLayers) {
    const { c, h, w } = layerShape(i, spec.width, spec.height);
    b.output(TARGETS_IO.content(i), fwd.y[i]!, [1, c, h, w]);
  }
  for (const i of spec.styleLayers) {
    const { c, h, w } = layerShape(i, spec.width, spec.height);
    if (spec.regions) {
      const f = b.op("Reshape", [fwd.y[i]!, b.ints([c, h * w])]);
      const region = b.input(TARGETS_IO.region(i), [1, h * w]);
      b.output(TARGETS_IO.gram(i), b.op("Gemm", [b.op("Mul", [f, region]), f], { transB: 1 }), [c, c]);
    } else {
      b.output(TARGETS_IO.gram(i), gramOf(b, fwd.y[i]!, c, h, w).g, [c, c]);
    }
  }
  return b.encode(`gatys_targets_${width}x${height}`);
}

/**
 * Each input `in_<k>` of shape dims[k] straight to output `names[k]`: a session of this graph
 * with its outputs on the device uploads tensors once, to be fed to other sessions from there.
 */
export function uploadGraph(tensors: readonly { name: string; dims: readonly number[] }[]): Uint8Array {
  const b = new Builder(true);
  tensors.forEach(({ name, dims }, k) => b.output(name, b.input(`in_${k}`, [...dims]), [...dims]));
  return b.encode("upload");
}

/** y = x + x over a [2] input: the smallest graph that proves the runtime can build and run one. */
export function probeGraph(): Uint8Array {
  const b = new Builder();
  const x = b.input("x", [2]);
  b.output("y", b.op("Add", [x, x]), [2]);
  return b.encode("probe");
}

/** C = A·B for n×n inputs "a" and "b": the machine's dense float32 matmul, the bench's yardstick. */
export function matmulGraph(n: number): Uint8Array {
  const b = new Builder();
  const a = b.input("a", [n, n]);
  const m = b.input("b", [n, n]);
  b.output("c", b.op("MatMul", [a, m]), [n, n]);
  return b.encode(`matmul_${n}`);
}
