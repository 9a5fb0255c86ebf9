/**
 * Coarse-to-fine planning: the sizes of the levels and how many iterations each gets.
 *
 * Level sizes and the default split live in @atelier/protocol (scale-plan.ts): the studio's time
 * estimate and a resumed run count the same levels. The split puts most iterations on the
 * cheap coarse levels and about a fifth at full size (splitIterations says why).
 */
import {
  DEFAULT_MIN_SIZE,
  levelSizes,
  shareIterations as shareIterationsOver,
  splitIterations,
} from "@atelier/protocol";
import { EngineError } from "./errors.ts";

export interface ScalePlan {
  /** max side of each level */
  sizes: number[];
  /** iterations of each level (same length as sizes, each ≥ 1) */
  iterations: number[];
}

/** Combines the options into levels and iteration counts. */
export function planScales(
  size: number,
  iterations: number,
  multiscale: boolean | { iterationsPerScale?: number[]; minSize?: number } | undefined,
): ScalePlan {
  if (!multiscale) return { sizes: [size], iterations: [iterations] };
  const opts = multiscale === true ? {} : multiscale;
  const minSize = opts.minSize ?? Math.min(DEFAULT_MIN_SIZE, size);
  const sizes = levelSizes(size, minSize);
  if (opts.iterationsPerScale) {
    if (opts.iterationsPerScale.length !== sizes.length) {
      throw new EngineError(
        "bad_options",
        `multiscale.iterationsPerScale has ${opts.iterationsPerScale.length} entries but there are ${sizes.length} levels (${sizes.join(", ")} px)`,
      );
    }
    return { sizes, iterations: [...opts.iterationsPerScale] };
  }
  const split = splitIterations(iterations, sizes.length);
  return { sizes: sizes.slice(sizes.length - split.length), iterations: split };
}

/**
 * A new total iteration count mid-run. `level` is the level now running, `doneInLevel` its
 * completed iterations, `done` all completed iterations. Returns the new per-level counts
 * (earlier levels unchanged), or null when the new total is already reached (stop now).
 * Growth goes to the final level; a cut comes out of the coarser levels first so the
 * full-size level keeps its iterations as long as possible.
 */
export function replanIterations(
  plan: readonly number[],
  level: number,
  doneInLevel: number,
  done: number,
  newTotal: number,
): number[] | null {
  const remaining = newTotal - done;
  if (remaining <= 0) return null;
  const next = [...plan];
  const rest = [next[level]! - doneInLevel, ...next.slice(level + 1)];
  const restSum = rest.reduce((a, b) => a + b, 0);
  const last = rest.length - 1;
  if (remaining >= restSum) {
    rest[last]! += remaining - restSum;
  } else {
    let cut = restSum - remaining;
    for (let i = 0; i < last && cut > 0; i++) {
      const take = Math.min(cut, rest[i]!);
      rest[i]! -= take;
      cut -= take;
    }
    rest[last]! -= cut;
  }
  next[level] = doneInLevel + rest[0]!;
  for (let i = 1; i < rest.length; i++) next[level + i] = rest[i]!;
  return next;
}

/** @atelier/protocol's shareIterations, its RangeError as the engine's "bad_options". */
export function shareIterations(total: number, shares: readonly number[]): number[] {
  try {
    return shareIterationsOver(total, shares);
  } catch (error) {
    throw new EngineError("bad_options", (error as Error).message);
  }
}

/** Iterations the stall test looks back over: L-BFGS's loss does not fall evenly step by step. */
export const STALL_WINDOW = 5;

/**
 * Whether a level's loss has stalled: over the last STALL_WINDOW iterations it fell by less
 * than `threshold` (relative) per iteration on average. `losses`: the level's totals so far,
 * in order. False until the level has run STALL_WINDOW + 1 iterations.
 */
export function stalled(losses: readonly number[], threshold: number): boolean {
  if (losses.length <= STALL_WINDOW) return false;
  const then = losses[losses.length - 1 - STALL_WINDOW]!;
  const now = losses[losses.length - 1]!;
  if (!(then > 0)) return false;
  return (then - now) / then / STALL_WINDOW < threshold;
}
