/**
 * Coarse-to-fine level sizes and the iteration split, shared by the engine (which runs them)
 * and the studio's time estimate (which must count the same levels the engine will run).
 *
 * Levels grow by √2 and end exactly at `size`: with n = ⌈log√2(size / minSize)⌉ steps,
 * level k has max side size / √2^(n−k), so the first is within a factor √2 of minSize.
 */
export const DEFAULT_MIN_SIZE = 128;

/** Max side (px) of each level, coarse to fine; a single level when multiscale is off or size ≤ minSize. */
export function levelSizes(size: number, minSize: number | null): number[] {
  if (minSize === null || size <= minSize) return [size];
  const steps = Math.ceil(Math.log(size / minSize) / Math.log(Math.SQRT2) - 1e-9);
  const sizes: number[] = [];
  for (let k = 0; k <= steps; k++) sizes.push(Math.round(size / Math.SQRT2 ** (steps - k)));
  return sizes;
}

/**
 * The full-size level's share of a coarse-to-fine run's iterations, and how much each coarse
 * level gets relative to the one before it. bench:quality (packages/engine/README.md, "Iteration
 * schedule"): at 512 px, 60/40/25/15/40 over the five levels (180 iterations) reached
 * jcjohnson's reference loss in 121.6 s against 589.4 s for the even split's first 425
 * (starry_night, same run) and ended better (0.253 vs 0.262 of the reference). Coarse iterations
 * are cheap (a 256 px one costs a quarter of a 512 px one) and settle the layout; past a few
 * dozen they buy little, and 10–30 full-size iterations close the rest of the gap.
 */
const FINAL_LEVEL_SHARE = 0.22;
const COARSE_LEVEL_DECAY = 2 / 3;

/** The coarse-to-fine shares of `levels` levels: coarse ones falling by COARSE_LEVEL_DECAY, the last FINAL_LEVEL_SHARE. */
function scheduleShares(levels: number): number[] {
  if (levels === 1) return [1];
  const coarse = Array.from({ length: levels - 1 }, (_, k) => COARSE_LEVEL_DECAY ** k);
  const coarseSum = coarse.reduce((a, b) => a + b, 0);
  return [...coarse.map((w) => ((1 - FINAL_LEVEL_SHARE) * w) / coarseSum), FINAL_LEVEL_SHARE];
}

/**
 * `total` iterations over levels in proportion to `shares` (coarse to fine), rounded so the
 * counts add up to `total` (largest remainders first, ties to the finer level) and every level
 * keeps ≥ 1. Throws a RangeError for shares that are not positive or a total below the levels.
 */
export function shareIterations(total: number, shares: readonly number[]): number[] {
  if (shares.length === 0 || shares.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new RangeError(`iteration shares must be positive numbers, got ${shares.join(", ")}`);
  }
  if (total < shares.length) throw new RangeError(`${total} iterations cannot cover ${shares.length} levels`);
  const sum = shares.reduce((a, b) => a + b, 0);
  const exact = shares.map((s) => (total * s) / sum);
  const counts = exact.map((x) => Math.floor(x));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || b.i - a.i);
  for (let k = 0; left > 0; k++, left--) counts[order[k]!.i]! += 1;
  // a tiny share still runs one iteration, taken from the largest level
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) {
      counts[i] = 1;
      counts[counts.indexOf(Math.max(...counts))]! -= 1;
    }
  }
  return counts;
}

/**
 * The default split of `total` iterations over `levels` coarse-to-fine levels: most of them on
 * the cheap coarse levels, FINAL_LEVEL_SHARE at full size. Fewer iterations than levels: one
 * each on the last `total` levels (the coarsest are dropped).
 */
export function splitIterations(total: number, levels: number): number[] {
  if (total < levels) return Array.from({ length: total }, () => 1);
  return shareIterations(total, scheduleShares(levels));
}

/** The levels a room's settings run (the engine's default minimum size), each with its iterations. */
export function defaultScalePlan(
  size: number,
  iterations: number,
  multiscale: boolean,
): { sizes: number[]; iterations: number[] } {
  if (!multiscale) return { sizes: [size], iterations: [iterations] };
  const sizes = levelSizes(size, Math.min(DEFAULT_MIN_SIZE, size));
  const split = splitIterations(iterations, sizes.length);
  return { sizes: sizes.slice(sizes.length - split.length), iterations: split };
}

/**
 * What is left of a coarse-to-fine plan after `done` iterations, for a run resumed from a
 * checkpoint: the level it stopped in (with that level's remaining iterations), then the later
 * levels. `minSize` makes `levelSizes(size, minSize)` give exactly these levels, so the engine
 * runs the rest of the same schedule rather than the remainder at full size. Nothing left: one
 * last iteration at the final level (a resumed job always runs at least one).
 */
export function remainingScalePlan(
  size: number,
  plan: { sizes: number[]; iterations: number[] },
  done: number,
): { firstLevel: number; sizes: number[]; iterations: number[]; minSize: number } {
  let level = 0;
  let before = 0;
  while (level < plan.sizes.length - 1 && before + plan.iterations[level]! <= done) before += plan.iterations[level++]!;
  const leftInLevel = Math.max(1, plan.iterations[level]! - (done - before));
  const sizes = plan.sizes.slice(level);
  // ceil, not round: size / minSize ≤ √2^(levels − 1), so levelSizes counts exactly that many steps
  const minSize = Math.ceil(size / Math.SQRT2 ** (sizes.length - 1));
  return { firstLevel: level, sizes, iterations: [leftInLevel, ...plan.iterations.slice(level + 1)], minSize };
}
