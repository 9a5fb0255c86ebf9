/**
 * Spatial control of the style loss (Gatys et al. 2017, "Controlling Perceptual Factors in
 * Neural Style Transfer", §4: guided Gram matrices).
 *
 * Style s gets a mask m_s ∈ [0, 1] over the output (white = this style). At every style layer
 * the mask is brought to the layer's resolution and the region's Gram matrix is
 *
 *   G_l(F; m) = Fᵀ diag(m) F / (C · Σ m)          F reshaped to [H·W, C]
 *
 * i.e. the Gram over the region's positions only, normalised by the region's area instead
 * of H·W (with m ≡ 1 it is exactly losses.gram). It is compared with style s's ordinary,
 * unmasked Gram, and the region's term is weighted by style s's own weight:
 *
 *   style_l = Σ_s w_s · mean((G_l(F; m_s) − A_l(s))²)
 *
 * Positions no mask covers get no style term at all, so they keep only content (+ TV).
 *
 * Resizing to a layer: the mask is average-pooled 2×2/stride 2 ("valid") once per VGG pooling
 * before the layer's block. That reproduces the network's own floor(H/2) map sizes exactly,
 * and a feature position gets the fraction of its input cell the region covers — a soft
 * edge instead of nearest-neighbour's jagged one, and no bilinear overshoot outside [0, 1].
 */
import * as tf from "@tensorflow/tfjs-core";
import { meanSquaredError, weightedGram } from "./losses.ts";
import { VGG19_CONVS } from "./weights.ts";
import { layerIndex } from "./vgg.ts";

/** A grey mask over the output: one value in [0, 1] per pixel, row-major. */
export interface StyleMask {
  width: number;
  height: number;
  values: Float32Array;
}

/**
 * Region Gram of a [1, H, W, C] activation under a [H·W] mask whose sum is `area`, divided by
 * C·area → [C, C]. (The area is passed in, known when the mask was made: no sync per call.)
 * (losses.weightedGram: the gradient diag(m) F (dG + dGᵀ) / N written out, as for gram.)
 */
export function maskedGram(features: tf.Tensor4D, mask: tf.Tensor, area: number): tf.Tensor2D {
  const [n, h, w, c] = features.shape;
  if (n !== 1) throw new Error(`maskedGram: batch size must be 1, got ${n}`);
  if (mask.size !== h * w) throw new Error(`maskedGram: mask has ${mask.size} values for a ${w}×${h} map`);
  if (!(area > 0)) throw new Error("maskedGram: the mask covers no position at this layer");
  const column = tf.reshape<tf.Rank.R2>(mask, [h * w, 1]);
  try {
    return weightedGram(features, column, c * area);
  } finally {
    column.dispose();
  }
}

/** How many 2×2 poolings come before a relu layer (its block − 1). */
export function poolingsBefore(layer: string): number {
  return VGG19_CONVS[layerIndex(layer)]!.block - 1;
}

/** The mask at a layer: average-pooled 2×2/2 ("valid") `poolings` times → [H_l, W_l] values. */
export function maskAtLayer(mask: StyleMask, poolings: number): StyleMask {
  let { width, height, values } = mask;
  for (let p = 0; p < poolings; p++) {
    const w2 = Math.floor(width / 2);
    const h2 = Math.floor(height / 2);
    const next = new Float32Array(w2 * h2);
    for (let y = 0; y < h2; y++) {
      for (let x = 0; x < w2; x++) {
        const i = 2 * y * width + 2 * x;
        next[y * w2 + x] = (values[i]! + values[i + 1]! + values[i + width]! + values[i + width + 1]!) / 4;
      }
    }
    width = w2;
    height = h2;
    values = next;
  }
  return { width, height, values };
}

/** An all-white mask: a style given without a mask covers the whole output. */
export function fullMask(width: number, height: number): StyleMask {
  return { width, height, values: new Float32Array(width * height).fill(1) };
}

/** Throws a RangeError unless every mask matches the output size and lies in [0, 1]. */
export function checkMasks(masks: readonly (StyleMask | null)[], width: number, height: number): void {
  masks.forEach((m, i) => {
    if (!m) return;
    if (m.width !== width || m.height !== height || m.values.length !== width * height) {
      throw new RangeError(`style mask ${i + 1} is ${m.width}×${m.height}; the output is ${width}×${height}`);
    }
    if (m.values.some((v) => !(v >= 0 && v <= 1))) throw new RangeError(`style mask ${i + 1} has values outside 0–1`);
  });
}

/**
 * The masked style term of an objective: each style's mask at each style layer (as tensors,
 * kept for the objective's life) and the weighted sum of the regions' Gram losses.
 */
export class MaskedStyleLoss {
  /** masks[s][l]: style s's mask at style layer l and its area, or null where it covers nothing there */
  private readonly masks: ({ mask: tf.Tensor1D; area: number } | null)[][];

  constructor(masks: readonly (StyleMask | null)[], width: number, height: number, styleLayers: readonly string[]) {
    checkMasks(masks, width, height);
    this.masks = masks.map((m) =>
      styleLayers.map((layer) => {
        const resized = maskAtLayer(m ?? fullMask(width, height), poolingsBefore(layer));
        // A region that vanishes at a deep layer has no Gram there; it simply adds nothing.
        const area = resized.values.reduce((a, b) => a + b, 0);
        return area > 0 ? { mask: tf.tensor1d(resized.values), area } : null;
      }),
    );
  }

  /**
   * Σ_s blend_s · mean((G(F; m_s) − target_s)²) at style layer `layer` (unweighted by the
   * style and layer weights, like losses.styleLoss).
   */
  loss(layer: number, features: tf.Tensor4D, targets: readonly tf.Tensor2D[], blend: readonly number[]): tf.Scalar {
    return tf.tidy(() => {
      const parts: tf.Scalar[] = [];
      this.masks.forEach((perLayer, s) => {
        const region = perLayer[layer];
        if (!region || blend[s] === 0) return;
        const g = maskedGram(features, region.mask, region.area);
        parts.push(tf.mul<tf.Scalar>(meanSquaredError(g, targets[s]!), blend[s]!));
      });
      return parts.length > 0 ? tf.addN<tf.Scalar>(parts) : tf.mul<tf.Scalar>(tf.sum(features), 0);
    });
  }

  dispose(): void {
    for (const perLayer of this.masks) for (const region of perLayer) region?.mask.dispose();
  }
}
