import { join } from "node:path";
import { toFloatPixels } from "../src/color.ts";
import { decodeImage, resizeImage } from "../src/image.ts";
import type { FloatImage, ObjectiveWeights } from "../src/objective.ts";

/** What the objective tests of every backend share: the sample images and the default weights. */
export const STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"];

/** A sample image (ATELIER_IMAGES) resized to width × height, as the objective's float pixels. */
export async function loadFloatImage(name: string, width: number, height: number): Promise<FloatImage> {
  const img = await resizeImage(await decodeImage(join(process.env.ATELIER_IMAGES!, name)), width, height);
  return { width, height, pixels: toFloatPixels(img) };
}

/** jcjohnson's default weights (content 5, style 100, TV 1e-3), one style, equal layer weights. */
export function objectiveWeights(over: Partial<ObjectiveWeights> = {}): ObjectiveWeights {
  return {
    contentWeight: 5,
    styleWeight: 100,
    tvWeight: 1e-3,
    styleBlendWeights: [1],
    styleLayerWeights: [1, 1, 1, 1, 1],
    ...over,
  };
}
