/**
 * Winograd convolution F(m×m, 3×3) (Lavin & Gray 2015) for the 3×3 stride-1 'same' convs of
 * the ONNX graphs: the forward convs and the conv input gradients (forward convs with the
 * flipped kernel). Fewer multiplies per output than the direct conv: F(2×2,3×3) 16 per 4
 * outputs (2.25× fewer), F(4×4,3×3) 36 per 16 (4× fewer), paid for with transforms that are
 * O(H·W·C) instead of O(H·W·C·C').
 *
 * In ONNX ops, for x [1, C, H, W] → y [1, C', H, W] with α = m + 2 and T = ⌈H/m⌉·⌈W/m⌉ tiles:
 * - input transform Bᵀ d B of every α×α tile (stride m): x padded, reshaped to [C, 1, Hp, Wp]
 *   (channels as the batch) and one Conv with the α² fixed α×α kernels Bᵀ[a]⊗Bᵀ[b], stride m
 *   → [C, α², T] → transposed to [α², C, T];
 * - α² independent channel mixes: one batched MatMul U [α², C', C] × V [α², C, T], U = G g Gᵀ
 *   of every (c', c) kernel (a MatMul of constants that the session folds: once per session);
 * - output transform Aᵀ M A: one MatMul of [m², α²] with M as [α², C'·T], then the m×m
 *   blocks back into the image (reshape, transpose) and the padding cut off.
 * The conv is cross-correlation as ONNX Conv's; the tests compare against Conv itself.
 */
import type { Builder } from "./onnx-builder.ts";
import { VGG19_CONVS } from "./weights-manifest.ts";

export type ConvAlgorithm = "direct" | "winograd2" | "winograd4";

/** How each conv (index into VGG19_CONVS) and each conv input gradient is computed. */
export interface ConvAlgorithms {
  forward: readonly ConvAlgorithm[];
  gradient: readonly ConvAlgorithm[];
}

interface Transform {
  m: number;
  bt: number[][];
  g: number[][];
  at: number[][];
}

const F2: Transform = {
  m: 2,
  bt: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  g: [
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ],
  at: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
};

/** Lavin & Gray's F(4×4, 3×3), points 0, ±1, ±2. */
const F4: Transform = {
  m: 4,
  bt: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  g: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  at: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
};

function transformOf(algorithm: Exclude<ConvAlgorithm, "direct">): Transform {
  return algorithm === "winograd2" ? F2 : F4;
}

/**
 * U = G w Gᵀ of every (o, i) kernel as graph nodes: the taps of OIHW 3×3 kernels laid out
 * [9, cout·cin] (an initialiser no larger than the direct conv's) times G⊗G [α², 9] — one
 * MatMul of constants, which ONNX Runtime folds when it builds the session, so the transform
 * runs once per session, in C++. Computing U in JavaScript and storing it made the graph 4×
 * the weights (F(4×4): 36 values per kernel instead of 9): at 256×192 with the per-layer plan
 * the objective graph took 5.4–6.1 s to build (330 MB) against 0.8–1.6 s (104 MB) direct.
 */
function transformedKernels(
  b: Builder,
  oihw: Float32Array,
  cout: number,
  cin: number,
  algorithm: Exclude<ConvAlgorithm, "direct">,
): string {
  const { g } = transformOf(algorithm);
  const alpha = g.length;
  const taps = new Float32Array(9 * cout * cin);
  for (let oi = 0; oi < cout * cin; oi++) for (let t = 0; t < 9; t++) taps[t * cout * cin + oi] = oihw[oi * 9 + t]!;
  const kron = new Float32Array(alpha * alpha * 9);
  for (let a = 0; a < alpha; a++)
    for (let c = 0; c < alpha; c++)
      for (let r = 0; r < 3; r++)
        for (let q = 0; q < 3; q++) kron[(a * alpha + c) * 9 + r * 3 + q] = g[a]![r]! * g[c]![q]!;
  const u = b.op("MatMul", [b.floats(kron, [alpha * alpha, 9]), b.floats(taps, [9, cout * cin])]);
  return b.op("Reshape", [u, b.ints([alpha * alpha, cout, cin])]);
}

/**
 * Bᵀ d B of every α×α tile d (stride m) of `padded` [1, C, Hp, Wp] → [α², C, T]: one Conv with
 * the α² fixed α×α kernels Bᵀ[a]⊗Bᵀ[b], stride m, over the channels as the batch (Cin = 1).
 * Tried instead (2026-12-05, shared 2-core box, load ≈ 8, single convs interleaved): cutting
 * the image into 2×2 blocks (reshape + transpose), (α/2)² strided Slices + Concat of the raw
 * tiles and one α²×α² MatMul — as fast or slower on 6 of 8 convs (ONNX Runtime's Concat and
 * Transpose are slow memory passes here), and more nodes; and the separable form (Bᵀ down the
 * columns as an α×1 Conv, then B across as a 1×α Conv: α⁴ → ~α²(α+m) multiplies per tile) —
 * F(2×2) slower on 7 of 8 convs, F(4×4) faster on 4 of 8 and slower on 4 (load ≈ 9: a draw),
 * so the one-Conv form stays.
 */
function inputTransform(
  b: Builder,
  padded: string,
  dims: { cin: number; th: number; tw: number; hp: number; wp: number },
  bt: number[][],
  m: number,
): string {
  const { cin, th, tw, hp, wp } = dims;
  const alpha = m + 2;
  const channels = b.op("Reshape", [padded, b.ints([cin, 1, hp, wp])]);
  const inputKernels = new Float32Array(alpha ** 4);
  for (let a = 0; a < alpha; a++)
    for (let bb = 0; bb < alpha; bb++)
      for (let i = 0; i < alpha; i++)
        for (let j = 0; j < alpha; j++)
          inputKernels[((a * alpha + bb) * alpha + i) * alpha + j] = bt[a]![i]! * bt[bb]![j]!;
  const tiles = b.op("Conv", [channels, b.floats(inputKernels, [alpha * alpha, 1, alpha, alpha])], {
    kernel_shape: [alpha, alpha],
    strides: [m, m],
  });
  return b.op("Transpose", [b.op("Reshape", [tiles, b.ints([cin, alpha * alpha, th * tw])])], { perm: [1, 0, 2] });
}

/**
 * y = conv(x, w, pads 1) (+ bias) for x [1, cin, h, w] and OIHW 3×3 weights, by Winograd.
 * `weights`: OIHW [cout, cin, 3, 3].
 */
export function winogradConv(
  b: Builder,
  x: string,
  weights: Float32Array,
  shape: { cin: number; cout: number; h: number; w: number },
  algorithm: Exclude<ConvAlgorithm, "direct">,
  bias?: string,
): string {
  const { bt, at, m } = transformOf(algorithm);
  const alpha = m + 2;
  const { cin, cout, h, w } = shape;
  const th = Math.ceil(h / m);
  const tw = Math.ceil(w / m);
  const hp = th * m + 2;
  const wp = tw * m + 2;
  const padded = b.op("Pad", [x, b.ints([0, 0, 1, 1, 0, 0, hp - h - 1, wp - w - 1])]);
  const v = inputTransform(b, padded, { cin, th, tw, hp, wp }, bt, m);
  const mixed = b.op("MatMul", [transformedKernels(b, weights, cout, cin, algorithm), v]); // [α², cout, T]
  const outputMatrix = new Float32Array(m * m * alpha * alpha);
  for (let p = 0; p < m; p++)
    for (let q = 0; q < m; q++)
      for (let a = 0; a < alpha; a++)
        for (let bb = 0; bb < alpha; bb++)
          outputMatrix[(p * m + q) * alpha * alpha + a * alpha + bb] = at[p]![a]! * at[q]![bb]!;
  const blocks = b.op("MatMul", [
    b.floats(outputMatrix, [m * m, alpha * alpha]),
    b.op("Reshape", [mixed, b.ints([alpha * alpha, cout * th * tw])]),
  ]);
  const image = b.op("Reshape", [
    b.op("Transpose", [b.op("Reshape", [blocks, b.ints([m, m, cout, th, tw])])], { perm: [2, 3, 0, 4, 1] }),
    b.ints([1, cout, th * m, tw * m]),
  ]);
  const y =
    th * m === h && tw * m === w ? image : b.op("Slice", [image, b.ints([0, 0]), b.ints([h, w]), b.ints([2, 3])]);
  return bias ? b.op("Add", [y, b.op("Reshape", [bias, b.ints([1, cout, 1, 1])])]) : y;
}

export type WinogradMode = "off" | "auto" | "winograd2" | "winograd4";

const D = "direct";
const W4 = "winograd4";

/**
 * The measured choice per conv, conv1_1 … conv5_4, from two runs of the bench's table (`npm
 * run bench -- --convs --sizes 512`: each conv alone at its map size in a 512×384 image,
 * direct / F(2×2) / F(4×4) interleaved, median of 5; 2026-12-05 15:16 and 15:24 UTC, the
 * shared 2-core box at load 6–9, so single figures are noisy). Milliseconds direct / F(2×2) /
 * F(4×4), run 1 then run 2. Winograd is chosen where its sum over both runs is ≥ 10 % under
 * the direct conv's and it was faster in each run (else direct):
 *
 *   conv     forward: run 1        run 2               choice   gradient: run 1      run 2                choice
 *   conv1_1  557 / 1287 / 908    1058 / 1787 / 2142  direct    79 /  106 /  136     721 /  561 /  614   direct
 *   conv1_2  471 /  679 / 646     806 /  620 /  772  direct   858 / 1471 /  911     568 /  891 / 1236   direct
 *   conv2_1  183 /  347 / 238      87 /  151 /  120  direct   119 /  313 /  172      97 /  249 /  189   direct
 *   conv2_2  391 /  487 / 355     209 /  398 /  424  direct   263 /  498 /  603     194 /  297 /  274   direct
 *   conv3_1  141 /  284 / 383     121 /  178 /  111  direct   146 /  202 /  216     142 /  140 /   92   direct
 *   conv3_2  241 /  201 / 185     338 /  298 /  225  F(4×4)   155 /  244 /  199     300 /  420 /  204   direct
 *   conv3_3  122 /  134 / 105     238 /  307 /  321  direct   170 /  176 /  122     241 /  388 /  235   F(4×4)
 *   conv3_4   94 /  101 /  79     229 /  328 /  241  direct   173 /  184 /  199     322 /  345 /  157   direct
 *   conv4_1  123 /  133 /  68     197 /  209 /  138  F(4×4)   100 /  169 /   91     198 /  235 /  198   direct
 *   conv4_2  162 /  171 / 132     374 /  325 /  258  F(4×4)   142 /  125 /   95     330 /  309 /  204   F(4×4)
 *   conv4_3  176 /  156 / 130     347 /  273 /  248  F(4×4)   224 /  149 /  167     294 /  339 /  199   F(4×4)
 *   conv4_4  219 /  222 / 142     336 /  186 /  192  F(4×4)   169 /  206 /  144     295 /  400 /  252   F(4×4)
 *   conv5_1   60 /   50 /  26      79 /   73 /   86  direct    70 /   60 /   56     111 /   98 /   62   F(4×4)
 *   conv5_2–4 not measured (the default layers stop at conv5_1): as conv5_1
 *
 * The small-channel early layers lose: at 3–128 channels the α²-fold transformed maps are
 * large and the transforms (a Conv with Cin = 1, transposes) cost more than the multiplies
 * saved; F(4×4) wins on the 256–512-channel layers of blocks 3–5; F(2×2) almost never.
 */
const WINOGRAD_PLAN: ConvAlgorithms = {
  forward: [D, D, D, D, D, W4, D, D, W4, W4, W4, W4, D, D, D, D],
  gradient: [D, D, D, D, D, D, W4, D, D, W4, W4, W4, W4, W4, W4, W4],
};

/** What the onnx backend runs when ATELIER_ONNX_WINOGRAD is not set. */
const DEFAULT_WINOGRAD: WinogradMode = "off";

/** The per-conv algorithms of a mode; undefined: every conv direct. */
export function winogradPlan(mode: WinogradMode = DEFAULT_WINOGRAD): ConvAlgorithms | undefined {
  if (mode === "off") return undefined;
  if (mode === "auto") return WINOGRAD_PLAN;
  const all = VGG19_CONVS.map(() => mode);
  return { forward: all, gradient: all };
}
