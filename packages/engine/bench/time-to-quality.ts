/** Pure parts of bench:quality's time to quality (bench/quality.ts), tested in test/time-to-quality.test.ts. */

/**
 * The iterations (1-based, counted across levels) after which a run's image is scored: each
 * level's last iteration and, in the last (full-size) level, every `every` iterations.
 * `levels`: the iteration count of each level (RunHandle.info.levels).
 */
export function checkpointIterations(levels: readonly number[], every: number): Set<number> {
  const at = new Set<number>();
  let end = 0;
  levels.forEach((count, level) => {
    const start = end;
    end += count;
    if (count > 0) at.add(end);
    if (level === levels.length - 1) for (let i = start + every; i < end; i += every) at.add(i);
  });
  return at;
}

/** The first checkpoint (in run order) whose score is at or under `reference`, or null. */
export function firstReaching<T extends { score: number }>(scored: readonly T[], reference: number): T | null {
  return scored.find((c) => c.score <= reference) ?? null;
}
