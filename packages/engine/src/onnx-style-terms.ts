/**
 * The style terms of the ONNX objective graph and their gradients with respect to a layer's
 * activation y ([1, C, h, w], NCHW), with F = y as [C, h·w]:
 *
 * - blended (no masks): G = F Fᵀ / (C·h·w) against one blended target A;
 *   term = sw · mean((G − A)²), ∂/∂F = 2·sw·(D + Dᵀ) F / (C²·C·h·w), D = G − A.
 * - masked (Gatys 2017 region Grams, style-masks.ts): per style s an input m̃_s = m_s / (C·Σ m_s)
 *   ([1, h·w], the mask at this layer already divided by the region's C·area), so
 *   G_s = (F ∘ m̃_s) Fᵀ, the tfjs objective's (diag(m)F)ᵀF / (C·Σm);
 *   term = Σ_s w_s · mean((G_s − A_s)²), ∂/∂F = Σ_s 2·w_s·((D_s + D_sᵀ) F) ∘ m̃_s / C².
 *   w_s (style weight × layer weight × style s's raw blend weight, 0 where the region vanishes
 *   at this layer), m̃_s and A_s are inputs: weight edits never rebuild, masks change per level.
 */
import type { Builder } from "./onnx-builder.ts";

/** Names of the style inputs of the objective graph. */
export const STYLE_IO = {
  /** blended: style weight × layer weight [1] */
  styleWeight: (layer: number) => `style_weight_${layer}`,
  /** blended: the blended target Gram [C, C] */
  gramTarget: (layer: number) => `gram_target_${layer}`,
  /** masked: style weight × layer weight × blend weight of style s [1] */
  regionWeight: (layer: number, style: number) => `style_weight_${layer}_${style}`,
  /** masked: style s's own Gram [C, C] */
  regionTarget: (layer: number, style: number) => `gram_target_${layer}_${style}`,
  /** masked: style s's mask at this layer over C·area [1, h·w] */
  regionMask: (layer: number, style: number) => `style_mask_${layer}_${style}`,
} as const;

/** F = y as [C, h·w]; G = F Fᵀ / (C·h·w). */
export function gramOf(b: Builder, y: string, c: number, h: number, w: number): { f: string; g: string } {
  const f = b.op("Reshape", [y, b.ints([c, h * w])]);
  const g = b.op("Gemm", [f, f], { transB: 1, alpha: { float: 1 / (c * h * w) } });
  return { f, g };
}

/** w · mean((G − A)²) and the symmetrised 2·w·(D + Dᵀ) (without the 1/C² of the mean). */
function gramMismatch(b: Builder, g: string, target: string, weight: string): { term: string; dSym: string } {
  const d = b.op("Sub", [g, target]);
  const mse = b.op("ReduceMean", [b.op("Mul", [d, d])], { keepdims: 0 });
  const dSym = b.op("Add", [d, b.op("Transpose", [d], { perm: [1, 0] })]);
  return { term: b.op("Mul", [mse, weight]), dSym: b.op("Mul", [dSym, weight]) };
}

/**
 * The style term of relu layer `layer` (its activation y of shape C × h × w) and ∂term/∂y:
 * blended when `maskedStyles` is 0, else the sum of `maskedStyles` region terms.
 */
export function styleTerm(
  b: Builder,
  y: string,
  layer: number,
  shape: { c: number; h: number; w: number },
  maskedStyles: number,
): { term: string; grad: string } {
  const { c, h, w } = shape;
  if (maskedStyles === 0) {
    const target = b.input(STYLE_IO.gramTarget(layer), [c, c]);
    const weight = b.input(STYLE_IO.styleWeight(layer), [1]);
    const { f, g } = gramOf(b, y, c, h, w);
    const { term, dSym } = gramMismatch(b, g, target, weight);
    // ∂L/∂G = 2·sw·D / C²; ∂L/∂F = (∂L/∂G + ∂L/∂Gᵀ)·F / N with N = C·h·w (one Gemm)
    const df = b.op("Gemm", [dSym, f], { alpha: { float: 2 / (c * c * c * h * w) } });
    return { term, grad: b.op("Reshape", [df, b.ints([1, c, h, w])]) };
  }
  const f = b.op("Reshape", [y, b.ints([c, h * w])]);
  const terms: string[] = [];
  const grads: string[] = [];
  for (let s = 0; s < maskedStyles; s++) {
    const target = b.input(STYLE_IO.regionTarget(layer, s), [c, c]);
    const weight = b.input(STYLE_IO.regionWeight(layer, s), [1]);
    const mask = b.input(STYLE_IO.regionMask(layer, s), [1, h * w]);
    const weighted = b.op("Mul", [f, mask]);
    const g = b.op("Gemm", [weighted, f], { transB: 1 });
    const { term, dSym } = gramMismatch(b, g, target, weight);
    terms.push(term);
    // ∂G/∂F through both factors: (D + Dᵀ)·(F ∘ m̃), then the mean's 1/C²
    grads.push(b.op("Gemm", [dSym, weighted], { alpha: { float: 2 / (c * c) } }));
  }
  return { term: b.sum(terms), grad: b.op("Reshape", [b.sum(grads), b.ints([1, c, h, w])]) };
}
