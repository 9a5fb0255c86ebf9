/**
 * The objective seam: an Objective maps the current image (flat RGB 0–255 floats) to its
 * loss terms and the gradient of the total with respect to the pixels. Optimisers,
 * multi-scale, previews and cancellation only ever talk to this interface.
 *
 * VggObjective is the Gatys objective on TensorFlow.js: targets (content activations, each
 * style's Gram matrices) are computed once per scale and kept; the gradient comes from
 * autodiff (tf.valueAndGrad). Weights may change between evaluations; a blend change only
 * recombines the per-style Grams already computed.
 */
import * as tf from "@tensorflow/tfjs-core";
import { blendGrams, contentLoss, gram, normaliseBlend, styleLoss, tvLoss } from "./losses.ts";
import type { VggFeatures } from "./vgg.ts";

export interface LossTerms {
  /** content + Σ style + tv */
  total: number;
  /** content_weight · Σ content losses */
  content: number;
  /** style_weight · layer_weight · style loss, per style layer */
  style: Record<string, number>;
  /** tv_weight · TV */
  tv: number;
}

export interface Evaluation extends LossTerms {
  /** ∂total/∂pixels, same layout as the input */
  grad: Float32Array;
}

export interface ObjectiveWeights {
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  /** one per style image; normalised to sum 1 internally */
  styleBlendWeights: number[];
  /** one per style layer */
  styleLayerWeights: number[];
}

export interface Objective {
  readonly width: number;
  readonly height: number;
  /** Loss terms and gradient at `pixels` (H·W·3 interleaved RGB, 0–255). */
  evaluate(pixels: Float32Array): Promise<Evaluation>;
  /** Changes weights for the following evaluations. */
  setWeights(weights: Partial<ObjectiveWeights>): void;
  /** Frees every tensor the objective holds. */
  dispose(): void;
}

/** A float RGB image: interleaved, 0–255. */
export interface FloatImage {
  width: number;
  height: number;
  pixels: Float32Array;
}

export interface VggObjectiveSetup {
  net: VggFeatures;
  /** the content image at this scale's size (the output size) */
  content: FloatImage;
  /** the style images at this scale's style size */
  styles: FloatImage[];
  contentLayers: readonly string[];
  styleLayers: readonly string[];
  weights: ObjectiveWeights;
}

function imageTensor(image: FloatImage): tf.Tensor4D {
  return tf.tensor4d(image.pixels, [1, image.height, image.width, 3]);
}

export class VggObjective implements Objective {
  readonly width: number;
  readonly height: number;
  private readonly net: VggFeatures;
  private readonly contentLayers: readonly string[];
  private readonly styleLayers: readonly string[];
  private readonly allLayers: string[];
  private readonly contentTargets: Record<string, tf.Tensor4D>;
  /** grams[s][l]: Gram of style image s at style layer l */
  private readonly grams: tf.Tensor2D[][];
  /** blended target Gram per style layer */
  private blended: tf.Tensor2D[];
  private weights: ObjectiveWeights;
  private disposed = false;

  constructor(setup: VggObjectiveSetup) {
    const { net, content, styles, contentLayers, styleLayers, weights } = setup;
    checkWeights(weights, styles.length, styleLayers.length);
    this.net = net;
    this.width = content.width;
    this.height = content.height;
    this.contentLayers = [...contentLayers];
    this.styleLayers = [...styleLayers];
    this.allLayers = [...new Set([...contentLayers, ...styleLayers])];
    this.weights = { ...weights, styleBlendWeights: [...weights.styleBlendWeights], styleLayerWeights: [...weights.styleLayerWeights] };

    this.contentTargets = tf.tidy(() => {
      const features = net.extract(imageTensor(content), contentLayers);
      return Object.fromEntries(contentLayers.map((l) => [l, features[l]!]));
    }) as Record<string, tf.Tensor4D>;
    this.grams = styles.map((style) =>
      tf.tidy(() => {
        const features = net.extract(imageTensor(style), styleLayers);
        return styleLayers.map((l) => gram(features[l]!));
      }),
    );
    this.blended = this.blend();
  }

  private blend(): tf.Tensor2D[] {
    const w = normaliseBlend(this.weights.styleBlendWeights);
    return this.styleLayers.map((_, l) => blendGrams(this.grams.map((perStyle) => perStyle[l]!), w));
  }

  setWeights(update: Partial<ObjectiveWeights>): void {
    const next: ObjectiveWeights = {
      ...this.weights,
      ...update,
      styleBlendWeights: [...(update.styleBlendWeights ?? this.weights.styleBlendWeights)],
      styleLayerWeights: [...(update.styleLayerWeights ?? this.weights.styleLayerWeights)],
    };
    checkWeights(next, this.grams.length, this.styleLayers.length);
    const blendChanged = next.styleBlendWeights.some((w, i) => w !== this.weights.styleBlendWeights[i]);
    this.weights = next;
    if (blendChanged) {
      const old = this.blended;
      this.blended = this.blend();
      for (const t of old) t.dispose();
    }
  }

  async evaluate(pixels: Float32Array): Promise<Evaluation> {
    if (this.disposed) throw new Error("VggObjective: evaluate after dispose");
    if (pixels.length !== this.width * this.height * 3) {
      throw new RangeError(`VggObjective: expected ${this.width * this.height * 3} values, got ${pixels.length}`);
    }
    const { contentWeight, styleWeight, tvWeight, styleLayerWeights } = this.weights;
    let terms: tf.Tensor1D | null = null;
    const loss = (image: tf.Tensor): tf.Scalar => {
      const img = image as tf.Tensor4D;
      const features = this.net.extract(img, this.allLayers);
      const parts: tf.Scalar[] = [];
      let content: tf.Scalar = tf.scalar(0);
      for (const l of this.contentLayers) content = tf.add(content, contentLoss(features[l]!, this.contentTargets[l]!));
      parts.push(tf.mul(content, contentWeight));
      this.styleLayers.forEach((l, i) => {
        parts.push(tf.mul(styleLoss(features[l]!, this.blended[i]!), styleWeight * styleLayerWeights[i]!));
      });
      parts.push(tf.mul(tvLoss(img), tvWeight));
      const stacked = tf.stack(parts) as tf.Tensor1D;
      terms = tf.keep(stacked); // survives valueAndGrad's scope so we can read every term
      return tf.sum(stacked);
    };

    const input = tf.tensor4d(pixels, [1, this.height, this.width, 3]);
    let value: tf.Scalar | null = null;
    let grad: tf.Tensor | null = null;
    try {
      ({ value, grad } = tf.valueAndGrad(loss)(input));
      const kept = terms as tf.Tensor1D | null;
      if (!kept) throw new Error("VggObjective: loss terms missing");
      // The only syncs of an iteration: a few scalars and the gradient the optimiser needs.
      const [values, gradient] = await Promise.all([kept.data(), grad.data()]);
      const style: Record<string, number> = {};
      this.styleLayers.forEach((l, i) => (style[l] = values[1 + i]!));
      const contentTerm = values[0]!;
      const tvTerm = values[values.length - 1]!;
      const total = contentTerm + Object.values(style).reduce((a, b) => a + b, 0) + tvTerm;
      return { total, content: contentTerm, style, tv: tvTerm, grad: gradient as Float32Array };
    } finally {
      input.dispose();
      value?.dispose();
      grad?.dispose();
      (terms as tf.Tensor1D | null)?.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of Object.values(this.contentTargets)) t.dispose();
    for (const perStyle of this.grams) for (const t of perStyle) t.dispose();
    for (const t of this.blended) t.dispose();
  }
}

function checkWeights(w: ObjectiveWeights, styles: number, styleLayers: number): void {
  for (const key of ["contentWeight", "styleWeight", "tvWeight"] as const) {
    if (!Number.isFinite(w[key]) || w[key] < 0) throw new RangeError(`${key} must be a finite number ≥ 0, got ${w[key]}`);
  }
  if (w.styleBlendWeights.length !== styles) {
    throw new RangeError(`styleBlendWeights needs ${styles} weights (one per style), got ${w.styleBlendWeights.length}`);
  }
  if (w.styleBlendWeights.some((x) => !Number.isFinite(x) || x < 0) || !(w.styleBlendWeights.reduce((a, b) => a + b, 0) > 0)) {
    throw new RangeError("styleBlendWeights must be finite, ≥ 0, with a positive sum");
  }
  if (w.styleLayerWeights.length !== styleLayers || w.styleLayerWeights.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new RangeError(`styleLayerWeights needs ${styleLayers} finite weights ≥ 0`);
  }
}
