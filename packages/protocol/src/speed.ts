import { z } from "zod";
import { defaultScalePlan } from "./scale-plan.ts";
import type { RunSettings } from "./params.ts";

/**
 * How fast this deployment paints: milliseconds per pixel per iteration of its engine backend.
 * One figure is enough: measured with the wasm backend on the 2-core reference machine, an
 * iteration costs 0.021–0.022 ms per pixel at 128, 256 and 384 px alike (no fixed cost worth
 * modelling), so time = Σ over levels of pixels × iterations × rate.
 */
export const speedModel = z.object({
  backend: z.string().max(32),
  msPerPixelIteration: z.number().finite().positive(),
  /** "measured": learned from runs that finished on this service; "default": the stated reference figure */
  source: z.enum(["measured", "default"]),
  /** finished runs the figure was learned from */
  runs: z.number().int().min(0),
});
export type SpeedModel = z.infer<typeof speedModel>;

/** The reference figure (wasm, 2 cores, `npm run bench -- --backends wasm`), until runs here say otherwise. */
export const REFERENCE_MS_PER_PIXEL_ITERATION = 0.022;

/**
 * Seconds a run of these settings takes on this deployment, from the first iteration to the
 * last (the queue ahead of it not included). `aspect` is the content photo's short side ÷ long
 * side; unknown, a square is assumed, which makes the figure an upper bound.
 */
export function estimateRunSeconds(
  settings: Pick<RunSettings, "size" | "iterations" | "multiscale">,
  speed: Pick<SpeedModel, "msPerPixelIteration">,
  aspect = 1,
): number {
  const plan = defaultScalePlan(settings.size, settings.iterations, settings.multiscale);
  let ms = 0;
  plan.sizes.forEach((side, i) => {
    const pixels = side * Math.max(1, Math.round(side * aspect));
    ms += pixels * plan.iterations[i]! * speed.msPerPixelIteration;
  });
  return ms / 1000;
}

/** "about 40 s", "about 3 min", "about 1 h 10 min": an estimate, so rounded. */
export function formatEstimate(seconds: number): string {
  if (seconds < 10) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 60) return `about ${Math.round(seconds / 5) * 5} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  // "about 1 h", not "about 1 h 0 min"
  return `about ${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
}
