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

/**
 * A --schedule variant: "default" (the default split, splitIterations), per-level shares "a:b:…" of --iterations
 * or per-level counts "a,b,…", any optionally followed by "@<stall>" (multiscale.stall).
 * Throws on anything else.
 */
export function parseSchedule(spec: string): {
  shares: number[] | null;
  counts: number[] | null;
  stall: number | null;
} {
  const [split = "", stallText, ...more] = spec.split("@");
  const stall = stallText === undefined ? null : Number(stallText);
  const counts = split.includes(",") ? split.split(",").map(Number) : null;
  const shares = split === "default" || counts ? null : split.split(":").map(Number);
  if (
    more.length > 0 ||
    (stall !== null && !(stall > 0 && Number.isFinite(stall))) ||
    (shares !== null && shares.some((x) => !(x > 0 && Number.isFinite(x)))) ||
    (counts !== null && counts.some((x) => !(Number.isInteger(x) && x >= 1)))
  ) {
    throw new Error(
      `bad --schedule '${spec}': "default", shares like "8:4:2:1:1" or counts like "60,40,25,15,40", optionally "@0.001"`,
    );
  }
  return { shares, counts, stall };
}
