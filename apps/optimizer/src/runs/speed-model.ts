/**
 * The deployment's painting speed (ms per pixel per iteration, per engine backend and size
 * band), which the studio turns into "about 1 min" before Start and the queue into ETAs.
 *
 * Each completed run is one sample: its compute time over the pixel-iterations of its plan (the
 * same levels the estimate counts, at its result's real aspect). A band's figure is the median
 * of its backend's last RECENT_RUNS samples there, so one run slowed by a loaded machine cannot
 * swing it. The samples are the Run rows themselves (backend, params, computeMs, final image
 * size): the database is the persistence, so a restart or another node starts from what this
 * deployment learned, not from the reference figure.
 */
import type { Db } from "@atelier/db";
import { readRunParams } from "@atelier/db";
import {
  defaultScalePlan,
  referenceRate,
  SPEED_BANDS,
  speedBandOf,
  type RunParams,
  type SpeedBand,
  type SpeedModel,
} from "@atelier/protocol";
import type { Logger } from "../common/log.ts";

/** Runs shorter than this tell more about start-up than about speed. */
const MIN_PIXEL_ITERATIONS = 200_000;
/** Samples a band's median is taken over: enough to outvote a loaded run or two, recent enough to follow the machine. */
export const RECENT_RUNS = 9;
/** Completed runs read back from the database at start and on refresh (newest first). */
const LOAD_RUNS = 200;
/** How often the figure is re-read from the database (other nodes' runs teach this one too). */
const REFRESH_MS = 60_000;

export interface SpeedSample {
  backend: string;
  /** the run's longest side (its band) */
  size: number;
  msPerPixelIteration: number;
}

/** Pixel-iterations of a run's plan at its result's real size (width × height of the last level). */
export function planPixelIterations(
  params: Pick<RunParams, "size" | "iterations" | "multiscale">,
  width: number,
  height: number,
): number {
  const aspect = Math.min(width, height) / Math.max(width, height);
  const plan = defaultScalePlan(params.size, params.iterations, params.multiscale);
  return plan.sizes.reduce(
    (sum, side, i) => sum + side * Math.max(1, Math.round(side * aspect)) * plan.iterations[i]!,
    0,
  );
}

/** One completed run as a sample, or null when it is too short (or unmeasured) to say anything. */
export function sampleOf(run: {
  backend: string | null;
  params: Pick<RunParams, "size" | "iterations" | "multiscale">;
  computeMs: number;
  width: number;
  height: number;
}): SpeedSample | null {
  if (!run.backend || !(run.computeMs > 0) || !(run.width > 0) || !(run.height > 0)) return null;
  const work = planPixelIterations(run.params, run.width, run.height);
  if (work < MIN_PIXEL_ITERATIONS) return null;
  return { backend: run.backend, size: run.params.size, msPerPixelIteration: run.computeMs / work };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function referenceSpeed(backend: string): SpeedModel {
  return { backend, msPerPixelIteration: referenceRate(backend), source: "default", runs: 0 };
}

/**
 * The model of one backend from its samples (oldest first): per band the median of the last
 * RECENT_RUNS there, overall the median of the last RECENT_RUNS. No sample: the reference figure.
 */
export function speedFromSamples(backend: string, samples: readonly SpeedSample[]): SpeedModel {
  const mine = samples.filter((s) => s.backend === backend);
  if (mine.length === 0) return referenceSpeed(backend);
  const bands: SpeedBand[] = [];
  for (const upTo of SPEED_BANDS) {
    const inBand = mine.filter((s) => speedBandOf(s.size) === upTo).slice(-RECENT_RUNS);
    if (inBand.length > 0)
      bands.push({ upTo, msPerPixelIteration: median(inBand.map((s) => s.msPerPixelIteration)), runs: inBand.length });
  }
  return {
    backend,
    msPerPixelIteration: median(mine.slice(-RECENT_RUNS).map((s) => s.msPerPixelIteration)),
    source: "measured",
    runs: mine.length,
    bands,
  };
}

type SpeedDb = Pick<Db, "run">;

/** Completed runs' samples from the database, oldest first. */
export async function loadSamples(db: SpeedDb): Promise<SpeedSample[]> {
  const rows = await db.run.findMany({
    where: { status: "completed", computeMs: { gt: 0 }, backend: { not: null }, finalImageId: { not: null } },
    orderBy: { finishedAt: "desc" },
    take: LOAD_RUNS,
    select: { params: true, backend: true, computeMs: true, finalImage: { select: { width: true, height: true } } },
  });
  const samples: SpeedSample[] = [];
  for (const row of rows.reverse()) {
    const params = readRunParams(row);
    if (!params) continue; // a row another version wrote: not a sample
    const sample = sampleOf({
      backend: row.backend,
      params,
      computeMs: row.computeMs ?? 0,
      width: row.finalImage?.width ?? 0,
      height: row.finalImage?.height ?? 0,
    });
    if (sample) samples.push(sample);
  }
  return samples;
}

/**
 * The service's speed: the samples it loaded and learned, and the backend its engine runs
 * (the one asked for until an engine process reported the one it loaded).
 */
export class SpeedTracker {
  private samples: SpeedSample[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private backend: string) {}

  current(): SpeedModel {
    return speedFromSamples(this.backend, this.samples);
  }

  /** The model of a given backend (a run's ETA follows the backend it runs on). */
  of(backend: string): SpeedModel {
    return speedFromSamples(backend, this.samples);
  }

  /** The backend an engine process loaded: estimates are for it from now on. */
  setBackend(backend: string): void {
    this.backend = backend;
  }

  /** A run ended: a completed one becomes a sample (cancelled or failed ones may have stopped on a slow first iteration). */
  runEnded(run: Parameters<typeof sampleOf>[0], completed: boolean): void {
    const sample = completed ? sampleOf(run) : null;
    if (sample) this.samples = [...this.samples, sample].slice(-LOAD_RUNS);
  }

  /** Reads the samples from the database now and every REFRESH_MS (runs other nodes finished teach this one too). */
  async load(db: SpeedDb, log: Logger): Promise<void> {
    const read = () =>
      loadSamples(db).then(
        (samples) => {
          this.samples = samples;
        },
        (error: unknown) => log.warn("speed.load_failed", { error }),
      );
    await read();
    if (!this.timer) {
      this.timer = setInterval(() => void read(), REFRESH_MS);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
