import { describe, expect, it } from "vitest";
import { checkpointIterations, firstReaching } from "../bench/time-to-quality.ts";

describe("bench:quality's time to quality", () => {
  it("scores each level's end and every n iterations of the last level", () => {
    // five levels of 100 (the default 500-iteration coarse-to-fine run), every 25 at full size
    expect([...checkpointIterations([100, 100, 100, 100, 100], 25)].sort((a, b) => a - b)).toEqual([
      100, 200, 300, 400, 425, 450, 475, 500,
    ]);
    // one level (single scale): every n and the end, which need not be a multiple of n
    expect([...checkpointIterations([60], 25)].sort((a, b) => a - b)).toEqual([25, 50, 60]);
    // a level cut to 0 iterations adds no checkpoint of its own
    expect([...checkpointIterations([10, 0, 20], 10)].sort((a, b) => a - b)).toEqual([10, 20, 30]);
  });

  it("takes the first checkpoint at or under the reference, in run order", () => {
    const scored = [
      { iteration: 100, score: 5 },
      { iteration: 200, score: 2 },
      { iteration: 225, score: 3 }, // the score may rise again after reaching it: the first counts
      { iteration: 250, score: 1 },
    ];
    expect(firstReaching(scored, 2)?.iteration).toBe(200);
    expect(firstReaching(scored, 0.5)).toBeNull();
  });
});
