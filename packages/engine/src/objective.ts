/**
 * The objective seam: an Objective maps the current image (flat RGB 0–255 floats) to its
 * loss terms and the gradient of the total with respect to the pixels. Optimisers,
 * multi-scale, previews and cancellation only ever talk to this interface.
 *
 * VggObjective is the Gatys objective on TensorFlow.js: targets (content activations, each
 * style's Gram matrices) are computed once per scale and kept. The gradient of the loss
 * terms with respect to the features (and of TV with respect to the image) comes from
 * autodiff (tf.valueAndGrads); through the frozen VGG it is propagated by VggTrace's
 * chain rule, which frees activations as it goes (see vgg.ts: tfjs's tape would hold ~2.5×
 * the activations). `backprop: "autodiff"` runs everything through tf.valueAndGrad instead —
 * the reference the tests compare against. Weights may change between evaluations; a blend
 * change only recombines the per-style Grams already computed.
 */
import * as tf from "@tensorflow/tfjs-core";
import { blendGrams, contentLoss, gram, normaliseBlend, styleLoss, tvLoss } from "./losses.ts";
import { abortError } from "./errors.ts";
import { MaskedStyleLoss, type StyleMask } from "./style-masks.ts";
import type { VggFeatures, VggTrace } from "./vgg.ts";

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

export interface EvaluateOptions {
  /** checked between network blocks: an aborted evaluation rejects with an AbortError */
  signal?: AbortSignal;
}

export interface Objective {
  readonly width: number;
  readonly height: number;
  /** Loss terms and gradient at `pixels` (H·W·3 interleaved RGB, 0–255). */
  evaluate(pixels: Float32Array, options?: EvaluateOptions): Promise<Evaluation>;
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
  /** "chain" (default): hand-written backward pass through VGG; "autodiff": tfjs's tape throughout */
  backprop?: "chain" | "autodiff";
  /**
   * One per style, at the output size (null: that style covers the whole image). Given, the
   * style term is the masked one of style-masks.ts (each region against its own style, weighted
   * by the style's raw blend weight) instead of the blended Gram.
   */
  styleMasks?: (StyleMask | null)[];
  /**
   * grams[s][l], the styles' Gram matrices computed elsewhere (a tiled level computes them
   * once from the whole style image for all its tiles); `styles` is then not read. Cloned:
   * the caller keeps its own.
   */
  styleGrams?: tf.Tensor2D[][];
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
  private readonly backprop: "chain" | "autodiff";
  private readonly masked: MaskedStyleLoss | null;
  private disposed = false;

  constructor(setup: VggObjectiveSetup) {
    const { net, content, contentLayers, styleLayers, weights, styleGrams } = setup;
    const styleCount = styleGrams?.length ?? setup.styles.length;
    checkWeights(weights, styleCount, styleLayers.length);
    this.net = net;
    this.width = content.width;
    this.height = content.height;
    this.contentLayers = [...contentLayers];
    this.styleLayers = [...styleLayers];
    this.allLayers = [...new Set([...contentLayers, ...styleLayers])];
    this.backprop = setup.backprop ?? "chain";
    this.weights = {
      ...weights,
      styleBlendWeights: [...weights.styleBlendWeights],
      styleLayerWeights: [...weights.styleLayerWeights],
    };
    const masks = setup.styleMasks;
    if (masks && masks.length !== styleCount) {
      throw new RangeError(`styleMasks needs ${styleCount} entries (one per style), got ${masks.length}`);
    }
    // Checked and made before any target: a bad mask throws with nothing to free.
    this.masked = masks ? new MaskedStyleLoss(masks, this.width, this.height, styleLayers) : null;

    // net.features frees each activation once read: targets never hold a full forward pass.
    this.contentTargets = tf.tidy(() => net.features(imageTensor(content), contentLayers));
    this.grams = styleGrams
      ? styleGrams.map((perStyle) => perStyle.map((g) => tf.clone(g)))
      : setup.styles.map((style) =>
          tf.tidy(() => {
            const features = net.features(imageTensor(style), styleLayers);
            return styleLayers.map((l) => gram(features[l]!));
          }),
        );
    this.blended = this.blend();
  }

  private blend(): tf.Tensor2D[] {
    const w = normaliseBlend(this.weights.styleBlendWeights);
    return this.styleLayers.map((_, l) =>
      blendGrams(
        this.grams.map((perStyle) => perStyle[l]!),
        w,
      ),
    );
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

  /** content_weight · Σ content losses at `layer` (null when it is not a content layer). */
  private contentTerm(layer: string, feature: tf.Tensor4D): tf.Scalar | null {
    if (!this.contentLayers.includes(layer)) return null;
    return tf.mul<tf.Scalar>(contentLoss(feature, this.contentTargets[layer]!), this.weights.contentWeight);
  }

  /** style_weight · layer_weight · style loss at `layer` (null when it is not a style layer). */
  private styleTerm(layer: string, feature: tf.Tensor4D): tf.Scalar | null {
    const i = this.styleLayers.indexOf(layer);
    if (i < 0) return null;
    const loss = this.masked
      ? this.masked.loss(
          i,
          feature,
          this.grams.map((perStyle) => perStyle[i]!),
          this.weights.styleBlendWeights,
        )
      : styleLoss(feature, this.blended[i]!);
    return tf.mul<tf.Scalar>(loss, this.weights.styleWeight * this.weights.styleLayerWeights[i]!);
  }

  private tvTerm(image: tf.Tensor4D): tf.Scalar {
    return tf.mul<tf.Scalar>(tvLoss(image), this.weights.tvWeight);
  }

  async evaluate(pixels: Float32Array, options: EvaluateOptions = {}): Promise<Evaluation> {
    if (this.disposed) throw new Error("VggObjective: evaluate after dispose");
    if (pixels.length !== this.width * this.height * 3) {
      throw new RangeError(`VggObjective: expected ${this.width * this.height * 3} values, got ${pixels.length}`);
    }
    const { signal } = options;
    const between = async () => {
      // Let timers and sockets run (an abort arrives this way) and stop if asked to.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw abortError(signal);
    };

    const input = tf.tensor4d(pixels, [1, this.height, this.width, 3]);
    const owned: tf.Tensor[] = [input];
    let trace: VggTrace | null = null;
    const contentValues = new Map<string, tf.Scalar>();
    const styleValues = new Map<string, tf.Scalar>();
    let tvValue: tf.Scalar | null = null;
    try {
      let grad: tf.Tensor;
      if (this.backprop === "autodiff") {
        const { value, grad: g } = tf.valueAndGrad((image: tf.Tensor) => {
          const img = image as tf.Tensor4D;
          const features = this.net.extract(img, this.allLayers);
          const parts: tf.Scalar[] = [];
          for (const l of this.allLayers) {
            const c = this.contentTerm(l, features[l]!);
            const st = this.styleTerm(l, features[l]!);
            // keep: the scalars survive the gradient scope so every term can be read
            if (c) parts.push((contentValues.set(l, tf.keep(c)), c));
            if (st) parts.push((styleValues.set(l, tf.keep(st)), st));
          }
          tvValue = tf.keep(this.tvTerm(img));
          return tf.addN<tf.Scalar>([...parts, tvValue]);
        })(input);
        owned.push(value, g);
        grad = g;
      } else {
        trace = this.net.trace(input, this.allLayers);
        await between();
        // Each layer's loss is differentiated on its own, when the backward pass reaches it.
        const throughNet = await trace.backward((layer, feature) => {
          const { value, grad: g } = tf.valueAndGrad((f: tf.Tensor) => {
            const parts: tf.Scalar[] = [];
            const c = this.contentTerm(layer, f as tf.Tensor4D);
            const st = this.styleTerm(layer, f as tf.Tensor4D);
            if (c) parts.push((contentValues.set(layer, tf.keep(c)), c));
            if (st) parts.push((styleValues.set(layer, tf.keep(st)), st));
            return tf.addN<tf.Scalar>(parts);
          })(feature);
          value.dispose();
          return g as tf.Tensor4D;
        }, between);
        owned.push(throughNet);
        const tv = tf.valueAndGrad((image: tf.Tensor) => {
          tvValue = tf.keep(this.tvTerm(image as tf.Tensor4D));
          return tvValue;
        })(input);
        owned.push(tv.value, tv.grad);
        grad = tf.add(throughNet, tv.grad);
        owned.push(grad);
      }
      // The only syncs of an iteration: a few scalars and the gradient the optimiser needs.
      const ordered = [
        ...this.contentLayers.map((l) => contentValues.get(l)),
        ...this.styleLayers.map((l) => styleValues.get(l)),
        tvValue as tf.Scalar | null,
      ];
      if (ordered.some((t) => !t)) throw new Error("VggObjective: a loss term is missing");
      const stacked = tf.stack(ordered as tf.Scalar[]);
      owned.push(stacked);
      const [values, gradient] = await Promise.all([stacked.data(), grad.data()]);
      const nContent = this.contentLayers.length;
      let contentTotal = 0;
      for (let i = 0; i < nContent; i++) contentTotal += values[i]!;
      const style: Record<string, number> = {};
      this.styleLayers.forEach((l, i) => (style[l] = values[nContent + i]!));
      const tvTotal = values[values.length - 1]!;
      const total = contentTotal + Object.values(style).reduce((a, b) => a + b, 0) + tvTotal;
      return { total, content: contentTotal, style, tv: tvTotal, grad: gradient as Float32Array };
    } finally {
      trace?.dispose();
      for (const t of owned) t.dispose();
      for (const t of [...contentValues.values(), ...styleValues.values()]) t.dispose();
      (tvValue as tf.Scalar | null)?.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of Object.values(this.contentTargets)) t.dispose();
    for (const perStyle of this.grams) for (const t of perStyle) t.dispose();
    for (const t of this.blended) t.dispose();
    this.masked?.dispose();
  }
}

/** Throws a RangeError for weights an objective cannot use (shared by every backend's objective). */
export function checkWeights(w: ObjectiveWeights, styles: number, styleLayers: number): void {
  for (const key of ["contentWeight", "styleWeight", "tvWeight"] as const) {
    if (!Number.isFinite(w[key]) || w[key] < 0)
      throw new RangeError(`${key} must be a finite number ≥ 0, got ${w[key]}`);
  }
  if (w.styleBlendWeights.length !== styles) {
    throw new RangeError(
      `styleBlendWeights needs ${styles} weights (one per style), got ${w.styleBlendWeights.length}`,
    );
  }
  if (
    w.styleBlendWeights.some((x) => !Number.isFinite(x) || x < 0) ||
    !(w.styleBlendWeights.reduce((a, b) => a + b, 0) > 0)
  ) {
    throw new RangeError("styleBlendWeights must be finite, ≥ 0, with a positive sum");
  }
  if (w.styleLayerWeights.length !== styleLayers || w.styleLayerWeights.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new RangeError(`styleLayerWeights needs ${styleLayers} finite weights ≥ 0`);
  }
}
