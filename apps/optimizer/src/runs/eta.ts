/**
 * Run ETAs, free of IO: how long a run still needs, the learned speed of the deployment, and
 * the queue positions and start estimates of the waiting runs (the same rules in both modes).
 */
import { runSecondsLeft, type RunParams, type SpeedModel } from "@atelier/protocol";
import { estimateStartTimes } from "./fair-queue.ts";

/** Seconds to one decimal, so run:update is not resent for every millisecond of drift. */
export function roundEta(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds * 10) / 10;
}

/** Iterations per level a run's speed there is the mean of (the latest ones). */
const LEVEL_WINDOW = 20;

/**
 * Records one iteration's time at its level. A level's first iteration is kept apart (it pays
 * for building the level's graph and buffers: seconds on onnx) and dropped once later ones came.
 */
export function addLevelSample(samples: number[][], level: number, ms: number): void {
  const at = (samples[level] ??= []);
  at.push(ms);
  if (at.length > LEVEL_WINDOW + 1) at.splice(1, 1);
}

/**
 * Each level's measured ms per iteration, null where it has none yet: the mean of its latest
 * iterations, not their median. Iteration times at a level vary (an L-BFGS line search takes
 * several evaluations, a loaded machine stalls some); the time left is their sum, and the median
 * of the latest 5 swung it 3× from one second to the next (journey 15's trace: 21 s → 7 s → 15 s).
 */
export function levelSpeeds(samples: readonly (readonly number[] | undefined)[]): (number | null)[] {
  return Array.from(samples, (at) => {
    if (!at || at.length === 0) return null;
    const recent = at.length > 1 ? at.slice(1) : at;
    return recent.reduce((sum, ms) => sum + ms, 0) / recent.length;
  });
}

interface EtaRun {
  params: RunParams;
  iteration: number;
  /** the run's iteration times per level of its plan (addLevelSample) */
  levelSamples: number[][];
  /** short side ÷ long side of its images, once an iteration told (else a square) */
  aspect: number | null;
  /** the levels its engine process said it runs (LiveRun.levels), null before it said */
  levels?: { sizes: { width: number; height: number; iterations: number }[]; first: number; from: number } | null;
}

/**
 * Seconds the run still needs: the one time function (protocol runSecondsLeft) with this run's
 * own per-level speeds once measured, the speed model's figure before — over the levels its
 * engine said it runs, once it said (a continued or resumed run runs fewer than its settings plan).
 */
export function remainingSeconds(run: EtaRun, speed: Pick<SpeedModel, "msPerPixelIteration" | "bands">): number {
  const levels = run.levels;
  const levelMs = levelSpeeds(run.levelSamples);
  return runSecondsLeft(run.params, speed, {
    aspect: run.aspect ?? 1,
    ...(levels
      ? {
          levels: levels.sizes,
          progress: { iteration: Math.max(0, run.iteration - levels.from), levelMs: levelMs.slice(levels.first) },
        }
      : { progress: { iteration: run.iteration, levelMs } }),
  });
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
