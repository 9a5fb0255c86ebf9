/**
 * The engine's `styles[i].mask` for a job: each style's painted layer rasterised at the
 * photo's aspect and the run's size (so a mask pixel is an output pixel). Styles whose layer
 * paints nothing get none and cover the whole image, as the engine defines it.
 */
import { decodeImage, type RgbImage } from "@atelier/engine";
import { greyToRgb, layerHasPaint, maskSize, rasteriseLayer, type RunParams } from "@atelier/protocol";

export async function styleMasksOf(params: RunParams, contentPath: string): Promise<(RgbImage | undefined)[]> {
  const layers = params.styles.map((s) => params.masks[s.imageId]);
  if (!layers.some(layerHasPaint)) return params.styles.map(() => undefined);
  const photo = await decodeImage(contentPath);
  const { width, height } = maskSize(photo.width, photo.height, params.size);
  return layers.map((layer) =>
    layer && layerHasPaint(layer) ? greyToRgb(rasteriseLayer(layer, width, height)) : undefined,
  );
}
