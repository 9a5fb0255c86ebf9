/**
 * Style masks as images: decoding a mask file and bringing it to a level's size. A mask is a
 * grey image (white = this style, black = not); colour masks count by their mean channel.
 */
import type { ImageSource, RgbImage } from "./api.ts";
import { decodeImage, resizeImage } from "./image.ts";
import type { StyleMask } from "./style-masks.ts";

/** Grey 0–1 values of an RGB image (mean of the three channels). */
export function maskFromImage(image: RgbImage): StyleMask {
  const n = image.width * image.height;
  const values = new Float32Array(n);
  for (let p = 0, o = 0; p < n; p++, o += 3) {
    values[p] = (image.data[o]! + image.data[o + 1]! + image.data[o + 2]!) / (3 * 255);
  }
  return { width: image.width, height: image.height, values };
}

/** Decodes each style's mask (null where a style has none). */
export async function decodeStyleMasks(sources: readonly (ImageSource | undefined)[]): Promise<(RgbImage | null)[]> {
  return Promise.all(
    sources.map(async (src, i) => (src === undefined ? null : decodeImage(src, { label: `style mask ${i + 1}` }))),
  );
}

/**
 * The masks at an output size (sharp's resize, stretched to the output's aspect as the mask
 * is painted over the content), or undefined when no style has one.
 */
export async function masksAtSize(
  masks: readonly (RgbImage | null)[],
  width: number,
  height: number,
): Promise<(StyleMask | null)[] | undefined> {
  if (masks.every((m) => m === null)) return undefined;
  return Promise.all(masks.map(async (m) => (m ? maskFromImage(await resizeImage(m, width, height)) : null)));
}
