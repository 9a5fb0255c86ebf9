/**
 * The levels a run will really run, from its scale plan (multiscale.ts) and its content's
 * shape: each level's pixel size, with the coarse levels the network cannot see dropped.
 *
 * The drop rule: the deepest VGG-19 block a run uses pools its input 2^(block−1) times, so
 * its short side must be at least that many pixels for the deepest map to have one. A coarse
 * level below it is dropped and its iterations go to the next level; the final level must fit
 * (else the options are bad). Anything that counts a run's levels (the time estimate) must
 * count these, not the plan's sizes.
 */
import { splitIterations } from "@atelier/protocol";
import { fitWithin } from "./image.ts";
import type { ScalePlan } from "./multiscale.ts";
import { bad } from "./stylize-options.ts";
import { VGG_LAYER_NAMES } from "./vgg.ts";
import { VGG19_CONVS } from "./weights.ts";

export interface Level {
  /** the plan's max side for this level */
  side: number;
  iterations: number;
  /** the content's size at this level */
  dims: { width: number; height: number };
}

/** The short side (px) the first `convCount` convs need for the deepest map to have ≥ 1 px. */
export function minShortSide(convCount: number): number {
  const deepestBlock = VGG19_CONVS[convCount - 1]!.block;
  return 2 ** (deepestBlock - 1);
}

/** Drops leading levels whose short side is under `minSide` (never the last); their iterations go to the next. */
export function dropCoarseLevels<L extends { iterations: number; dims: { width: number; height: number } }>(
  levels: readonly L[],
  minSide: number,
): L[] {
  const kept = levels.map((l) => ({ ...l }));
  while (kept.length > 1 && Math.min(kept[0]!.dims.width, kept[0]!.dims.height) < minSide) {
    const dropped = kept.shift()!;
    kept[0]!.iterations += dropped.iterations;
  }
  return kept;
}

/**
 * The levels of `plan` for a content image of `content`'s size, with coarse levels the first
 * `convCount` convs cannot see dropped. Throws "bad_options" when the final level is too small.
 */
export function planLevels(
  plan: ScalePlan,
  content: { width: number; height: number },
  convCount: number,
  size: number,
): Level[] {
  const minSide = minShortSide(convCount);
  const levels = dropCoarseLevels(
    plan.sizes.map((side, i) => ({
      side,
      iterations: plan.iterations[i]!,
      dims: fitWithin(content.width, content.height, side),
    })),
    minSide,
  );
  const final = levels[levels.length - 1]!.dims;
  if (Math.min(final.width, final.height) < minSide) {
    throw bad(
      `at size ${size} the content becomes ${final.width}×${final.height}; layer ${VGG_LAYER_NAMES[convCount - 1]} needs ≥ ${minSide} px on the short side`,
    );
  }
  return levels;
}

/**
 * The levels a run that continues from an image of size `from` runs: from the first level at
 * least as large as the image (the last level when the image is larger than all) up, with the
 * run's iterations split over those levels as planLevels would. Starting there keeps the
 * painting at its own size (or enlarges it a little) instead of shrinking it to a coarse level
 * and painting the whole schedule again.
 */
export function continueLevels(levels: readonly Level[], from: { width: number; height: number }): Level[] {
  const total = levels.reduce((n, l) => n + l.iterations, 0);
  const side = Math.max(from.width, from.height);
  const found = levels.findIndex((l) => Math.max(l.dims.width, l.dims.height) >= side);
  const kept = levels.slice(found < 0 ? levels.length - 1 : found);
  const split = splitIterations(total, kept.length);
  return kept.slice(kept.length - split.length).map((l, i) => ({ ...l, iterations: split[i]! }));
}

/** A style image's size at a level of max side `side`; throws "bad_options" when the network cannot see it. */
export function styleDimsAt(
  style: { width: number; height: number },
  index: number,
  side: number,
  styleScale: number,
  convCount: number,
): { width: number; height: number } {
  const minSide = minShortSide(convCount);
  const dims = fitWithin(style.width, style.height, Math.max(1, Math.round(styleScale * side)));
  if (Math.min(dims.width, dims.height) < minSide) {
    throw bad(
      `style image ${index + 1} at style scale ${styleScale} becomes ${dims.width}×${dims.height}; it needs ≥ ${minSide} px on the short side`,
    );
  }
  return dims;
}
