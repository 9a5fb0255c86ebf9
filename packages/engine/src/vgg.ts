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

export class VggFeatures {
  private readonly flipped: (tf.Tensor4D | null)[];
  private readonly mean: tf.Tensor1D;

  constructor(
    private readonly weights: VggWeights,
    private readonly options: VggOptions,
  ) {
    this.flipped = weights.convs.map((c) => (options.gradient === "flipped" ? flipKernel(c.kernel) : null));
    this.mean = tf.tensor1d([...VGG_MEAN_BGR]);
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
    const last = convsNeeded(layers);
    if (last > this.depth) {
      throw new EngineError("bad_options", `layer ${layers.find((l) => layerIndex(l) >= this.depth)} needs weights that were not loaded`);
    }
    const out: Record<string, tf.Tensor4D> = {};
    let x = this.preprocess(rgb);
    for (let i = 0; i < last; i++) {
      const arch = VGG19_CONVS[i]!;
      const conv = this.weights.convs[i]!;
      const flipped = this.flipped[i];
      x = flipped
        ? conv2dBiasReluSame(x, conv.kernel, conv.bias, flipped)
        : conv2dBiasReluAutodiff(x, conv.kernel, conv.bias);
      const name = VGG_LAYER_NAMES[i]!;
      if (wanted.has(name)) out[name] = x;
      const endOfBlock = VGG19_CONVS[i + 1]?.block !== arch.block;
      if (endOfBlock && i + 1 < last) {
        x = this.options.pooling === "max" ? tf.maxPool(x, 2, 2, "valid") : tf.avgPool(x, 2, 2, "valid");
      }
    }
    return out;
  }

  /** Frees the flipped kernels (the weights themselves are shared and cached). */
  dispose(): void {
    for (const f of this.flipped) f?.dispose();
    this.mean.dispose();
  }
}
