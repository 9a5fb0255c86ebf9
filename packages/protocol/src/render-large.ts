/**
 * "Render large": a finished run painted again at a larger size — only its top level, at the
 * new size (one level, the engine tiling it where it tiles), starting from the finished image
 * upscaled (engine init `{ image, continues: true }`). The settings are the run's own with a
 * per-run override of size, levels and iterations: the room's shared settings stay as they are.
 */
import { z } from "zod";
import { MAX_SIZE, MIN_SIZE, type RunSettings } from "./params.ts";
import { defaultScalePlan } from "./scale-plan.ts";
import { runSecondsLeft, type SpeedModel } from "./speed.ts";

/** The sizes the studio offers (an operator's ATELIER_MAX_SIZE may refuse some). */
export const RENDER_LARGE_SIZES = [1024, 2048] as const;

/** The size "Render large" offers a run of `sourceSize` px: the smallest offered size above it within the cap, else null. */
export function renderLargeOffer(sourceSize: number, maxSize: number): number | null {
  return RENDER_LARGE_SIZES.find((size) => size > sourceSize && size <= maxSize) ?? null;
}

/** The per-run override of `run:start` (with `fromRunId`, the finished run to render again). */
export const renderLarge = z.object({ size: z.number().int().min(MIN_SIZE).max(MAX_SIZE) });
export type RenderLarge = z.infer<typeof renderLarge>;

type Settings = Pick<RunSettings, "size" | "iterations" | "multiscale">;

/**
 * The settings of a large render of a run with `source` settings: one level at `size`, with the
 * iterations the run's own top level had (its share of the coarse-to-fine split) — refining a
 * painting that is already there, not painting it again.
 */
export function renderLargeParams<P extends Settings>(source: P, size: number): P {
  const plan = defaultScalePlan(source.size, source.iterations, source.multiscale);
  return { ...source, size, multiscale: false, iterations: plan.iterations.at(-1)! };
}

/**
 * Why a large render of a run of `sourceSize` px at `size` px is refused, or null: over the
 * operator's cap, or not larger than the run already is.
 */
export function renderLargeRefusal(sourceSize: number, size: number, maxSize: number): string | null {
  if (size > maxSize) return `this optimiser renders images up to ${maxSize} px (asked for ${size} px)`;
  if (size <= sourceSize) return `the painting is already ${sourceSize} px; a large render must be larger`;
  return null;
}

/** Seconds a large render of a run with `source` settings at `size` px takes (the one time function). */
export function renderLargeSeconds(
  source: Settings,
  size: number,
  speed: Pick<SpeedModel, "msPerPixelIteration" | "bands">,
  aspect = 1,
): number {
  return runSecondsLeft(renderLargeParams(source, size), speed, { aspect });
}
