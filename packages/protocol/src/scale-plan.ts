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

/** An even split of `total` iterations over `levels` (remainder to the last). Levels that would get 0 are dropped from the front. */
export function splitIterations(total: number, levels: number): number[] {
  if (total < levels) return Array.from({ length: total }, () => 1);
  const base = Math.floor(total / levels);
  const plan = Array.from({ length: levels }, () => base);
  plan[levels - 1]! += total - base * levels;
  return plan;
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
