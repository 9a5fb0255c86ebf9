/**
 * The engine's `styles[i].mask` for a job: each style's painted layer rasterised at the photo's
 * aspect, at the run's size up to MASK_RASTER_LONG_SIDE (the raster the studio paints on; the
 * engine resizes a mask to each level of the run). Styles whose layer paints nothing get none
 * and cover the whole image, as the engine defines it.
 */
import { decodeImage, type RgbImage } from "@atelier/engine";
import {
  MASK_RASTER_LONG_SIDE,
  greyToRgb,
  layerHasPaint,
  maskSize,
  rasteriseLayer,
  type RunParams,
} from "@atelier/protocol";

/** The raster a run of `runSize` px gets its masks at: bounded, so a room's masks cost a run the same at any size. */
export function maskRasterSize(photo: { width: number; height: number }, runSize: number) {
  return maskSize(photo.width, photo.height, Math.min(runSize, MASK_RASTER_LONG_SIDE));
}

export async function styleMasksOf(params: RunParams, contentPath: string): Promise<(RgbImage | undefined)[]> {
  const layers = params.styles.map((s) => params.masks[s.imageId]);
  if (!layers.some(layerHasPaint)) return params.styles.map(() => undefined);
  const photo = await decodeImage(contentPath);
  const { width, height } = maskRasterSize(photo, params.size);
  return layers.map((layer) =>
    layer && layerHasPaint(layer) ? greyToRgb(rasteriseLayer(layer, width, height)) : undefined,
  );
}
