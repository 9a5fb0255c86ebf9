/**
 * The deployment's painting speed (ms per pixel per iteration), which the studio turns into
 * "about 3 min" before Start. It starts from the stated reference figure and learns from every
 * run that finishes here, so an estimate reflects this machine and its backend.
 */
import { REFERENCE_MS_PER_PIXEL_ITERATION, type SpeedModel } from "@atelier/protocol";

/** Runs shorter than this tell more about start-up than about speed. */
const MIN_PIXEL_ITERATIONS = 200_000;
/** Weight of the newest finished run: a few runs settle the figure, one odd run cannot swing it. */
const NEWEST_RUN_WEIGHT = 0.3;

export function referenceSpeed(backend: string): SpeedModel {
  return { backend, msPerPixelIteration: REFERENCE_MS_PER_PIXEL_ITERATION, source: "default", runs: 0 };
}

/**
 * The model after one more finished run. The first measured run replaces the reference figure
 * outright (it is a figure from another machine); later ones are blended in.
 */
export function learnSpeed(model: SpeedModel, run: { computeMs: number; pixelIterations: number }): SpeedModel {
  if (run.pixelIterations < MIN_PIXEL_ITERATIONS || !(run.computeMs > 0)) return model;
  const measured = run.computeMs / run.pixelIterations;
  const msPerPixelIteration =
    model.source === "default"
      ? measured
      : (1 - NEWEST_RUN_WEIGHT) * model.msPerPixelIteration + NEWEST_RUN_WEIGHT * measured;
  return { ...model, msPerPixelIteration, source: "measured", runs: model.runs + 1 };
}

/** Sums each running job's work until it ends, then learns from the ones that completed. */
export class SpeedTracker {
  private model: SpeedModel;
  private readonly work = new Map<string, { computeMs: number; pixelIterations: number }>();

  constructor(backend: string) {
    this.model = referenceSpeed(backend);
  }

  current(): SpeedModel {
    return this.model;
  }

  observeIteration(runId: string, pixels: number, ms: number): void {
    const sum = this.work.get(runId) ?? { computeMs: 0, pixelIterations: 0 };
    sum.computeMs += ms;
    sum.pixelIterations += pixels;
    this.work.set(runId, sum);
  }

  /** A cancelled or failed run may have stopped mid-level on a slow first iteration: only completed runs teach. */
  runEnded(runId: string, completed: boolean, backend: string | null): void {
    const sum = this.work.get(runId);
    this.work.delete(runId);
    if (!completed || !sum) return;
    this.model = learnSpeed(backend ? { ...this.model, backend } : this.model, sum);
  }
}
