/**
 * Where a level's optimisation starts: the content, the strongest style, noise or a given
 * image (a checkpoint to resume from) — and the previous level's result carried up a level.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { RgbImage } from "./api.ts";
import { toFloatPixels } from "./color.ts";
import { decodeImage, resizeImage } from "./image.ts";
import { Rng } from "./rng.ts";
import type { ResolvedOptions } from "./stylize-options.ts";
import { VGG_MEAN_BGR } from "./vgg.ts";

/**
 * Standard deviation of the "noise" init (Gaussian white noise around the ImageNet mean
 * colour, 0–255 units, unclipped). A compromise: strong noise lowers the loss fastest (64 px,
 * 20 L-BFGS iterations: total 2.7e7 with σ 64, 5.2e7 with σ 8, and σ 1 falls by only 78 %), but
 * σ 64 leaves per-pixel colour noise that hides the content for hundreds of iterations (128 px,
 * 60 iterations: no trace of Tübingen), while σ 16 both falls by > 90 % and shows the houses.
 */
export const NOISE_STD = 16;

/** The starting pixels of a run at width × height (float RGB, 0–255 units). */
export async function initialPixels(
  opts: Pick<ResolvedOptions, "init" | "styles" | "seed">,
  width: number,
  height: number,
  content: Float32Array,
  styles: RgbImage[],
): Promise<Float32Array> {
  const init = opts.init;
  if (init === "content") return content.slice();
  if (init === "style") {
    // The style with the largest blend weight, stretched to the output size.
    let best = 0;
    opts.styles.forEach((s, i) => {
      if (s.weight > opts.styles[best]!.weight) best = i;
    });
    return toFloatPixels(await resizeImage(styles[best]!, width, height));
  }
  if (init === "noise") {
    const rng = new Rng(opts.seed);
    const out = new Float32Array(width * height * 3);
    const meanRgb = [VGG_MEAN_BGR[2], VGG_MEAN_BGR[1], VGG_MEAN_BGR[0]];
    for (let i = 0; i < out.length; i++) out[i] = meanRgb[i % 3]! + NOISE_STD * rng.normal();
    return out;
  }
  const decoded = await decodeImage(init.image, { label: "init image" });
  return toFloatPixels(await resizeImage(decoded, width, height));
}

/** Bilinear resize of a float RGB image (keeps values unclipped between levels). */
export function upsample(
  pixels: Float32Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number,
): Float32Array {
  if (width === toWidth && height === toHeight) return pixels.slice();
  const resized = tf.tidy(() =>
    tf.image.resizeBilinear(tf.tensor4d(pixels, [1, height, width, 3]), [toHeight, toWidth], false, true),
  );
  try {
    return Float32Array.from(resized.dataSync()); // (returning a typed array from tidy walks every element)
  } finally {
    resized.dispose();
  }
}
