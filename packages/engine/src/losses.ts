/**
 * The Gatys loss terms, normalised as jcjohnson/neural-style does, because its defaults
 * (content 5, style 100, TV 1e-3, L-BFGS from noise) are known to give good images with
 * exactly this scaling:
 *
 *   content_l = mean over elements of (F_l − P_l)²                          (nn.MSECriterion)
 *   G_l       = F_lᵀ F_l / (C·H·W)    with F_l reshaped to [H·W, C]           (GramMatrix / nElement)
 *   style_l   = mean over the C×C entries of (G_l − A_l)²,  A_l = Σ_i w_i G_l(style_i)
 *   tv        = ½ Σ over channels and neighbouring pixel pairs (horizontal and vertical)
 *               of the squared difference, in 0–255 pixel units            (TVLoss's gradient)
 *
 *   total = content_weight · Σ content_l + style_weight · Σ layer_weight_l · style_l
 *           + tv_weight · tv
 *
 * Dividing the Gram by C·H·W makes the style term independent of image size and channel
 * count (so one style weight works at every scale of a multiscale run), and the MSE means make
 * content and style comparable per element. jcjohnson's TVLoss only defines a gradient,
 * strength·(∂/∂x of ½ Σ d²); tv above is the energy with exactly that gradient.
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Gram matrix of a [1, H, W, C] activation, divided by C·H·W → [C, C].
 *
 * With F = features as [H·W, C]: G = FᵀF / N, and for an upstream dG the input gradient is
 * F·(dG + dGᵀ) / N. Both are computed with plain (non-transposed) matMuls: tfjs's matMul with
 * transposeA — which autodiff would use — is 2.5–7× slower on wasm than transposing first.
 */
export function gram(features: tf.Tensor4D): tf.Tensor2D {
  const [n, h, w, c] = features.shape;
  if (n !== 1) throw new Error(`gram: batch size must be 1, got ${n}`);
  return weightedGram(features, null, c * h * w);
}

/**
 * (diag(m) F)ᵀ F / norm for F = features as [H·W, C] and an optional per-position weight column
 * m ([H·W, 1], a region mask; null: all ones), with the gradient diag(m) F (dG + dGᵀ) / norm
 * written out as in gram(). gram() and the masked Gram of style-masks.ts are this with their norms.
 */
export function weightedGram(features: tf.Tensor4D, column: tf.Tensor2D | null, norm: number): tf.Tensor2D {
  const [, h, w, c] = features.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const flat = tf.reshape<tf.Rank.R2>(input, [h * w, c]);
    const weighted = column ? tf.mul<tf.Tensor2D>(flat, column) : flat;
    const value = tf.tidy(() => tf.div<tf.Tensor2D>(tf.matMul(tf.transpose(weighted), flat), norm));
    save([weighted]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const dG = dy as tf.Tensor2D;
          const sym = tf.div<tf.Tensor2D>(tf.add(dG, tf.transpose(dG)), norm);
          return tf.reshape(tf.matMul(saved[0] as tf.Tensor2D, sym), [1, h, w, c]);
        }),
    };
  });
  return op(features);
}

/** mean((a − b)²) as a scalar. */
export function meanSquaredError(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(tf.squaredDifference(a, b)));
}

/** Unweighted content loss: mean((F − P)²). */
export function contentLoss(features: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar {
  return meanSquaredError(features, target);
}

/** Unweighted style loss of one layer: mean((gram(F) − A)²) against a target Gram A. */
export function styleLoss(features: tf.Tensor4D, targetGram: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => meanSquaredError(gram(features), targetGram));
}

/** Unweighted TV energy of an image [1, H, W, C]: ½ Σ (Δx² + Δy²). */
export function tvLoss(image: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const [, h, w, c] = image.shape;
    const parts: tf.Scalar[] = [];
    if (w > 1) {
      const dx = tf.sub(
        tf.slice(image, [0, 0, 1, 0], [1, h, w - 1, c]),
        tf.slice(image, [0, 0, 0, 0], [1, h, w - 1, c]),
      );
      parts.push(tf.sum(tf.square(dx)));
    }
    if (h > 1) {
      const dy = tf.sub(
        tf.slice(image, [0, 1, 0, 0], [1, h - 1, w, c]),
        tf.slice(image, [0, 0, 0, 0], [1, h - 1, w, c]),
      );
      parts.push(tf.sum(tf.square(dy)));
    }
    if (parts.length === 0) return tf.scalar(0);
    return tf.mul<tf.Scalar>(tf.addN(parts), 0.5);
  });
}

/**
 * Normalised blend weights (sum 1). Negative, non-finite or all-zero weights are rejected
 * by the caller's validation; this only divides.
 */
export function normaliseBlend(weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new Error("style blend weights must have a positive sum");
  return weights.map((w) => w / sum);
}

/** A = Σ_i w_i G_i over the styles' Grams of one layer (weights already normalised). */
export function blendGrams(grams: readonly tf.Tensor2D[], weights: readonly number[]): tf.Tensor2D {
  if (grams.length !== weights.length || grams.length === 0) {
    throw new Error(`blendGrams: ${grams.length} Grams but ${weights.length} weights`);
  }
  return tf.tidy(() => tf.addN(grams.map((g, i) => tf.mul(g, weights[i]!))) as tf.Tensor2D);
}
