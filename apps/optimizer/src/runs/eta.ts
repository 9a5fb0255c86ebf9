/**
 * Run ETAs, free of IO: how long a run still needs, the learned speed of the deployment, and
 * the queue positions and start estimates of the waiting runs (the same rules in both modes).
 */
import type { RunParams } from "@atelier/protocol";
import { estimateStartTimes } from "./fair-queue.ts";

/** Seconds to one decimal, so run:update is not resent for every millisecond of drift. */
export function roundEta(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds * 10) / 10;
}

/** Milliseconds per iteration of a run not measured yet, from the learned ms per pixel-iteration. */
function estimateMsPerIteration(params: RunParams, msPerPixelIteration: number | null): number | null {
  return msPerPixelIteration === null ? null : msPerPixelIteration * params.size * params.size;
}

interface EtaRun {
  params: RunParams;
  iteration: number;
  /** measured (smoothed) ms per iteration, once it ran */
  msPerIteration: number | null;
}

/** Seconds the run still needs: its own speed once measured, else the learned one; null when neither is known. */
export function remainingSeconds(run: EtaRun, msPerPixelIteration: number | null): number | null {
  const perIteration = run.msPerIteration ?? estimateMsPerIteration(run.params, msPerPixelIteration);
  if (perIteration === null) return null;
  return (Math.max(0, run.params.iterations - run.iteration) * perIteration) / 1000;
}

/**
 * Seconds a sweep still needs: the iterations its cells have left (queued and running ones) at
 * the learned speed; null when no speed is known.
 */
export function sweepSecondsLeft(
  cells: { status: string; iteration: number }[],
  sweep: { size: number; iterations: number },
  msPerPixelIteration: number | null,
): number | null {
  if (msPerPixelIteration === null) return null;
  let iterations = 0;
  for (const cell of cells) {
    if (cell.status === "queued" || cell.status === "running")
      iterations += Math.max(0, sweep.iterations - cell.iteration);
  }
  return (iterations * sweep.size * sweep.size * msPerPixelIteration) / 1000;
}

/** A run's smoothed ms per iteration after one more measured iteration. */
export function smoothRunSpeed(previous: number | null, ms: number): number {
  return previous === null ? ms : 0.8 * previous + 0.2 * ms;
}

/** The deployment's learned ms per pixel-iteration after one more measured iteration (unchanged for an empty image). */
export function learnPixelRate(previous: number | null, ms: number, pixels: number): number | null {
  if (pixels <= 0) return previous;
  const rate = ms / pixels;
  return previous === null ? rate : 0.9 * previous + 0.1 * rate;
}

/**
 * Positions (1-based, in expected start order) and start ETAs of the waiting jobs. `remaining`
 * gives each job's duration in seconds, null when unknown (no speed known):
 * an unknown running job counts as 0 s, an unknown waiting one makes every later ETA unknown.
 */
export function queueEstimates<J>(
  running: J[],
  waitingInOrder: J[],
  concurrency: number,
  remaining: (job: J) => number | null,
): { job: J; position: number; etaSeconds: number | null }[] {
  const starts = estimateStartTimes(
    running.map((j) => remaining(j) ?? 0),
    concurrency,
    waitingInOrder.map((j) => remaining(j)),
  );
  return waitingInOrder.map((job, i) => ({ job, position: i + 1, etaSeconds: roundEta(starts[i] ?? null) }));
}
