/**
 * VGG-19 feature extractor, built in code from the conv weights: 16 3×3 stride-1 'same'
 * convs with ReLU, 2×2 stride-2 pooling (max or avg) after each block. The input is RGB
 * 0–255; the network wants BGR minus the ImageNet mean. The forward pass stops at the
 * deepest layer asked for.
 */
import * as tf from "@tensorflow/tfjs-core";
import { conv2dBiasReluAutodiff, conv2dBiasReluSame, flipKernel } from "./conv-grad.ts";
import { EngineError } from "./errors.ts";
import { VGG19_CONVS, type VggWeights } from "./weights.ts";

export type Pooling = "max" | "avg";

/** "relu1_1" … "relu5_4", in network order. */
export const VGG_LAYER_NAMES: readonly string[] = VGG19_CONVS.map((c) => c.name.replace("conv", "relu"));

/** ImageNet mean in BGR order, as the Caffe/Keras VGG weights expect. */
export const VGG_MEAN_BGR: readonly [number, number, number] = [103.939, 116.779, 123.68];

/** Index 0–15 of a relu layer; throws a bad_options EngineError for anything else. */
export function layerIndex(name: string): number {
  const i = VGG_LAYER_NAMES.indexOf(name);
  if (i < 0) {
    throw new EngineError("bad_options", `unknown VGG-19 layer "${name}"; use one of ${VGG_LAYER_NAMES.join(", ")}`);
  }
  return i;
}

/** How many convs a set of layers needs (1 + the deepest index). */
export function convsNeeded(layers: readonly string[]): number {
  return layers.reduce((n, name) => Math.max(n, layerIndex(name) + 1), 0);
}

export interface VggOptions {
  pooling: Pooling;
  /**
   * "flipped": input gradients via a forward conv with the flipped kernel (fast on wasm);
   * "autodiff": tfjs's own conv gradients.
   */
  gradient: "flipped" | "autodiff";
}

/**
 * One forward pass kept for back-propagation (see VggFeatures.trace). Owns its tensors,
 * including `features`.
 */
export interface VggTrace {
  /** the requested activations */
  readonly features: Record<string, tf.Tensor4D>;
  /**
   * ∂L/∂rgb. Walks the network from the deepest layer down; at each requested layer it asks
   * `featureGrad(layer, activation)` for ∂L/∂activation (returned tensor is consumed), so a
   * loss's own tape only ever covers one layer. Frees the trace's activations layer by layer:
   * afterwards the trace is spent. `between` is awaited after each block: a yield and
   * cancellation point.
   */
  backward(
    featureGrad: (layer: string, activation: tf.Tensor4D) => tf.Tensor4D,
    between?: () => Promise<void>,
  ): Promise<tf.Tensor4D>;
  /** Frees whatever the trace still holds (idempotent). */
  dispose(): void;
}

export class VggFeatures {
  private flipped: (tf.Tensor4D | null)[];
  private readonly mean: tf.Tensor1D;

  constructor(
    private readonly weights: VggWeights,
    private readonly options: VggOptions,
  ) {
    this.flipped = weights.convs.map((c) => (options.gradient === "flipped" ? flipKernel(c.kernel) : null));
    this.mean = tf.tensor1d([...VGG_MEAN_BGR]);
  }

  private flippedKernel(i: number): tf.Tensor4D {
    let f = this.flipped[i];
    if (!f) {
      f = flipKernel(this.weights.convs[i]!.kernel);
      this.flipped[i] = f;
    }
    return f;
  }

  /** Number of conv layers available. */
  get depth(): number {
    return this.weights.convs.length;
  }

  /** RGB 0–255 → BGR minus mean. */
  preprocess(rgb: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.sub(tf.reverse(rgb, 3), this.mean));
  }

  /**
   * The activations of `layers` for an RGB 0–255 batch [N, H, W, 3]. Call inside tf.tidy (or
   * dispose the returned tensors yourself).
   */
  extract(rgb: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor4D> {
    const wanted = new Set(layers);
    const last = this.checkDepth(layers);
    const out: Record<string, tf.Tensor4D> = {};
    let x = this.preprocess(rgb);
    for (let i = 0; i < last; i++) {
      const conv = this.weights.convs[i]!;
      const flipped = this.flipped[i];
      x = flipped
        ? conv2dBiasReluSame(x, conv.kernel, conv.bias, flipped)
        : conv2dBiasReluAutodiff(x, conv.kernel, conv.bias);
      const name = VGG_LAYER_NAMES[i]!;
      if (wanted.has(name)) out[name] = x;
      if (this.poolsAfter(i, last)) x = this.pool(x);
    }
    return out;
  }

  /**
   * The activations of `layers`, computing nothing for a gradient: every other activation is
   * freed as soon as the next layer has read it (peak ≈ the kept features + two layers).
   * The caller owns the returned tensors.
   */
  features(rgb: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor4D> {
    const wanted = new Set(layers);
    const last = this.checkDepth(layers);
    const out: Record<string, tf.Tensor4D> = {};
    let x = this.preprocess(rgb);
    let ownX = true; // x is ours to free (not a returned feature)
    try {
      for (let i = 0; i < last; i++) {
        const y = this.convRelu(x, i);
        if (ownX) x.dispose();
        const isWanted = wanted.has(VGG_LAYER_NAMES[i]!);
        if (isWanted) out[VGG_LAYER_NAMES[i]!] = y;
        if (this.poolsAfter(i, last)) {
          x = this.pool(y);
          if (!isWanted) y.dispose();
          ownX = true;
        } else {
          x = y;
          ownX = !isWanted;
        }
      }
      if (ownX) x.dispose();
      return out;
    } catch (error) {
      if (ownX && !x.isDisposed) x.dispose();
      for (const t of Object.values(out)) t.dispose();
      throw error;
    }
  }

  private checkDepth(layers: readonly string[]): number {
    const last = convsNeeded(layers);
    if (last > this.depth) {
      throw new EngineError(
        "bad_options",
        `layer ${layers.find((l) => layerIndex(l) >= this.depth)} needs weights that were not loaded`,
      );
    }
    return last;
  }

  /** relu(conv_i(x) + b_i) as one fused op (outside a gradient tape). */
  private convRelu(x: tf.Tensor4D, i: number): tf.Tensor4D {
    const conv = this.weights.convs[i]!;
    return tf.fused.conv2d({ x, filter: conv.kernel, strides: 1, pad: "same", bias: conv.bias, activation: "relu" });
  }

  /** Whether a 2×2 pool follows conv i (end of a block, and a deeper layer is needed). */
  private poolsAfter(i: number, last: number): boolean {
    return i + 1 < last && VGG19_CONVS[i + 1]!.block !== VGG19_CONVS[i]!.block;
  }

  private pool(y: tf.Tensor4D): tf.Tensor4D {
    return this.options.pooling === "max" ? tf.maxPool(y, 2, 2, "valid") : tf.avgPool(y, 2, 2, "valid");
  }

  /**
   * Forward pass for a hand-written chain-rule backward pass, instead of tfjs's tape.
   *
   * Why: tfjs's autodiff keeps every forward activation AND every intermediate gradient
   * until the whole backward pass ends (backpropagateGradients never frees a dy), about
   * 2.5× the activations at peak (1.0 GB of tensors for VGG-19 through conv5_1 at 512×384).
   * VGG is a plain chain conv→ReLU→(pool), so its backward pass is a loop that frees each
   * activation once its gradient has gone through: peak ≈ activations + two gradients.
   * The losses on top of the features still use autodiff. Must not be called while a
   * gradient tape is recording.
   */
  trace(rgb: tf.Tensor4D, layers: readonly string[]): VggTrace {
    const wanted = new Set(layers);
    const last = this.checkDepth(layers);
    const outputs: (tf.Tensor4D | null)[] = []; // relu output of conv i
    const pooled: (tf.Tensor4D | null)[] = []; // pool output after conv i, if any
    const release = () => {
      for (const t of [...outputs, ...pooled]) if (t && !t.isDisposed) t.dispose();
    };
    try {
      let x = this.preprocess(rgb);
      for (let i = 0; i < last; i++) {
        const y = this.convRelu(x, i);
        if (i === 0) x.dispose(); // the preprocessed input is not needed for the backward pass
        outputs.push(y);
        if (this.poolsAfter(i, last)) {
          const p = this.pool(y);
          pooled.push(p);
          x = p;
        } else {
          pooled.push(null);
          x = y;
        }
      }
    } catch (error) {
      release();
      throw error;
    }
    const features: Record<string, tf.Tensor4D> = {};
    for (let i = 0; i < last; i++) {
      const name = VGG_LAYER_NAMES[i]!;
      if (wanted.has(name)) features[name] = outputs[i]!;
    }

    const backward = async (
      featureGrad: (layer: string, activation: tf.Tensor4D) => tf.Tensor4D,
      between?: () => Promise<void>,
    ): Promise<tf.Tensor4D> => {
      let g: tf.Tensor4D | null = null; // ∂L/∂(output of the current stage)
      try {
        for (let i = last - 1; i >= 0; i--) {
          const y = outputs[i]!;
          const p = pooled[i];
          if (p) {
            // g is ∂L/∂pool output → ∂L/∂y
            const through: tf.Tensor4D | null = g ? this.poolGrad(g, y, p) : null;
            g?.dispose();
            p.dispose();
            pooled[i] = null;
            g = through;
          }
          const name = VGG_LAYER_NAMES[i]!;
          if (wanted.has(name)) {
            const own = featureGrad(name, y);
            const sum: tf.Tensor4D = g ? tf.add<tf.Tensor4D>(g, own) : own;
            if (g) {
              g.dispose();
              own.dispose();
            }
            g = sum;
          }
          if (!g) throw new Error(`VggTrace.backward: no gradient reaches ${VGG_LAYER_NAMES[i]}`);
          const current: tf.Tensor4D = g;
          const masked = tf.tidy(() => tf.mul<tf.Tensor4D>(current, tf.step(y))); // ReLU
          current.dispose();
          y.dispose();
          outputs[i] = null;
          g = null;
          g = tf.conv2d(masked, this.flippedKernel(i), 1, "same"); // conv input gradient
          masked.dispose();
          if (p && between) await between();
        }
        // ∂L/∂(BGR − mean) → ∂L/∂RGB: subtracting the mean passes it through, the channel flip flips it back.
        const bgr: tf.Tensor4D = g!;
        const rgbGrad = tf.reverse(bgr, 3);
        bgr.dispose();
        g = null;
        return rgbGrad;
      } finally {
        g?.dispose();
        release();
      }
    };

    return { features, backward, dispose: release };
  }

  private poolGrad(dy: tf.Tensor4D, input: tf.Tensor4D, output: tf.Tensor4D): tf.Tensor4D {
    if (this.options.pooling === "max") {
      const attrs = { filterSize: [2, 2], strides: [2, 2], pad: "valid" } as unknown as tf.NamedAttrMap;
      return tf.engine().runKernel<tf.Tensor4D>(tf.MaxPoolGrad, { dy, input, output }, attrs);
    }
    const attrs = { filterSize: [2, 2], strides: [2, 2], pad: "valid" } as unknown as tf.NamedAttrMap;
    return tf.engine().runKernel<tf.Tensor4D>(tf.AvgPoolGrad, { dy, input }, attrs);
  }

  /** Frees the flipped kernels (the weights themselves are shared and cached). */
  dispose(): void {
    for (const f of this.flipped) f?.dispose();
    this.mean.dispose();
  }
}
