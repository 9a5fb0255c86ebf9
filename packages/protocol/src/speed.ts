import { z } from "zod";
import { defaultScalePlan } from "./scale-plan.ts";
import type { RunSettings } from "./params.ts";

/**
 * How fast this deployment paints: milliseconds per pixel per iteration of its engine backend.
 * Time = Σ over levels of pixels × iterations × rate. The rate is nearly flat in the size (the
 * work is convolutions over the pixels) but not quite — small levels pay fixed per-iteration
 * costs, large ones the L-BFGS history — so a learned model keeps one figure per size band
 * (`bands`), besides the overall figure older clients read.
 */
const speedBand = z.object({
  /** the band holds runs (and levels) whose longest side is at most this many px */
  upTo: z.number().int().positive(),
  msPerPixelIteration: z.number().finite().positive(),
  /** finished runs the band's figure is the median of */
  runs: z.number().int().min(0),
});
export type SpeedBand = z.infer<typeof speedBand>;

export const speedModel = z.object({
  backend: z.string().max(32),
  msPerPixelIteration: z.number().finite().positive(),
  /** "measured": learned from runs that finished on this deployment; "default": the stated reference figure */
  source: z.enum(["measured", "default"]),
  /** finished runs the figure was learned from */
  runs: z.number().int().min(0),
  /** per size band, smallest first; optional for older senders (then the overall figure serves every size) */
  bands: z.array(speedBand).max(8).optional(),
  /** seconds a run started now in this room would wait for the jobs ahead of it; optional for older senders */
  queueWaitSeconds: z.number().finite().min(0).optional(),
});
export type SpeedModel = z.infer<typeof speedModel>;

/** Upper bounds of the size bands the speed model learns separately (longest side, px). */
export const SPEED_BANDS: readonly number[] = [256, 512, 1024, 8192];

/** The band a level or run of this longest side falls in. */
export function speedBandOf(side: number): number {
  return SPEED_BANDS.find((upTo) => side <= upTo) ?? SPEED_BANDS.at(-1)!;
}

/**
 * Reference figures per engine backend, until runs here say otherwise (2-core reference machine,
 * `npm run bench -- --backends onnx,wasm`, packages/engine/README.md: onnx 0.74 s, wasm 4.68 s per
 * 512×384 iteration; onnx's figure includes the L-BFGS history of a level, ~10 %). The GPU figure
 * is a placeholder until a GPU deployment measured one.
 */
export const REFERENCE_SPEEDS: Readonly<Record<string, number>> = {
  onnx: 0.0042,
  wasm: 0.024,
  "tensorflow-gpu": 0.0006,
  webgpu: 0.0006,
  tensorflow: 0.006,
  cpu: 0.2,
};

/** The wasm figure: the reference of a backend nobody measured. */
export const REFERENCE_MS_PER_PIXEL_ITERATION = REFERENCE_SPEEDS.wasm!;

/** The reference figure of a backend (wasm's for one without its own). */
export function referenceRate(backend: string): number {
  return REFERENCE_SPEEDS[backend] ?? REFERENCE_MS_PER_PIXEL_ITERATION;
}

type Rate = Pick<SpeedModel, "msPerPixelIteration" | "bands">;

/** ms per pixel-iteration at a level of this longest side: its band's figure, else the overall one. */
export function rateAt(speed: Rate, side: number): number {
  const band = speedBandOf(side);
  return speed.bands?.find((b) => b.upTo === band)?.msPerPixelIteration ?? speed.msPerPixelIteration;
}

/** What a run has measured so far, for the time it still needs. */
export interface RunProgress {
  /** iterations done, counted over the whole run (all levels) */
  iteration: number;
  /** this run's measured ms per iteration at each level it has run (index = level of the plan), null where not yet */
  levelMs: readonly (number | null)[];
}

type PlanSettings = Pick<RunSettings, "size" | "iterations" | "multiscale">;

/** A level a run really runs (the engine's plan: EngineInfo.levels): its content size and iterations. */
export interface RunLevel {
  width: number;
  height: number;
  iterations: number;
}

/**
 * THE time function: seconds until a run of these settings is done, from now. The studio's
 * estimate before Start, the presets' times and a running run's "time left" all come from here.
 *
 * - Before its first iteration (`progress` absent or empty): each level's pixels × iterations ×
 *   the learned rate of that level's size band, plus `queueWaitSeconds` (the jobs ahead of it).
 * - While it runs: the levels it has measured at their own measured ms per iteration; a level
 *   not reached yet at the run's latest measured per-pixel speed, scaled by the model's ratio
 *   between the two sizes — so the figure follows this run's machine, load and backend and
 *   converges as the levels go by.
 *
 * `aspect` is the content's short side ÷ long side (unknown: a square, an upper bound).
 * `levels`: the levels the engine said it runs (EngineInfo.levels) — a continued run's start at
 * its image's size, coarse levels the network cannot see are dropped — with `progress` counted
 * from the first of them; without it the levels are rebuilt from the settings (before Start).
 */
export function runSecondsLeft(
  settings: PlanSettings,
  speed: Rate,
  options: { aspect?: number; progress?: RunProgress; queueWaitSeconds?: number; levels?: readonly RunLevel[] } = {},
): number {
  const aspect = options.aspect ?? 1;
  const levels = options.levels?.length ? options.levels : plannedLevels(settings, aspect);
  const done = options.progress?.iteration ?? 0;
  const measured = options.progress?.levelMs ?? [];
  const sideOf = (l: RunLevel) => Math.max(l.width, l.height);
  // the levels this run measured, in order: the latest is where a level ahead is scaled from
  const seen: { ms: number; pixels: number; side: number }[] = [];
  levels.forEach((l, level) => {
    const ms = measured[level];
    if (ms != null && ms > 0) seen.push({ ms, pixels: l.width * l.height, side: sideOf(l) });
  });
  const latest = seen.at(-1) ?? null;
  const growth = pixelGrowth(seen);
  let before = 0;
  let ms = 0;
  levels.forEach((l, level) => {
    const left = Math.max(0, Math.min(l.iterations, before + l.iterations - done));
    before += l.iterations;
    if (left === 0) return;
    const own = measured[level];
    const side = sideOf(l);
    let perIteration: number;
    if (own != null && own > 0) perIteration = own;
    else if (latest) {
      // not reached yet: the latest measured level's time per iteration, scaled by the pixels
      // (to the power this run's own levels grew by) and the model's ratio between the two
      // size bands (1 within a band)
      const pixels = l.width * l.height;
      perIteration =
        latest.ms * (pixels / latest.pixels) ** growth * (rateAt(speed, side) / rateAt(speed, latest.side));
    } else perIteration = rateAt(speed, side) * l.width * l.height;
    ms += left * perIteration;
  });
  return ms / 1000 + (options.queueWaitSeconds ?? 0);
}

/**
 * How an iteration's time grows with the pixels, as this run's own last two measured levels
 * show it: t ∝ pixels^g. Small levels pay fixed per-iteration costs (graph calls, thread
 * hand-offs: large on a loaded machine), so doubling the pixels may cost 1.5× rather than 2×.
 * Clamped to [0.5, 1]: never more than proportional (that is load, not size), never less
 * than √; 1 until two levels are measured.
 */
export function pixelGrowth(seen: readonly { ms: number; pixels: number }[]): number {
  const [a, b] = seen.slice(-2);
  if (!a || !b || b.pixels <= a.pixels) return 1;
  const g = Math.log(b.ms / a.ms) / Math.log(b.pixels / a.pixels);
  return Number.isFinite(g) ? Math.min(1, Math.max(0.5, g)) : 1;
}

/** The levels of the settings' default plan for content of this aspect (the longest side is the level's side). */
function plannedLevels(settings: PlanSettings, aspect: number): RunLevel[] {
  const plan = defaultScalePlan(settings.size, settings.iterations, settings.multiscale);
  return plan.sizes.map((side, i) => ({
    width: side,
    height: Math.max(1, Math.round(side * aspect)),
    iterations: plan.iterations[i]!,
  }));
}

/**
 * Seconds a run of these settings takes on this deployment, from its first iteration to its
 * last (no queue): `runSecondsLeft` before it started.
 */
export function estimateRunSeconds(settings: PlanSettings, speed: Rate, aspect = 1): number {
  return runSecondsLeft(settings, speed, { aspect });
}

/** The plan level iteration `iteration` (1-based, whole run) belongs to. */
export function levelOfIteration(settings: PlanSettings, iteration: number): number {
  const plan = defaultScalePlan(settings.size, settings.iterations, settings.multiscale);
  let before = 0;
  for (let level = 0; level < plan.iterations.length; level++) {
    before += plan.iterations[level]!;
    if (iteration <= before) return level;
  }
  return plan.iterations.length - 1;
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
