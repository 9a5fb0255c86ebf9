import { describe, expect, it } from "vitest";
import { checkpointIterations, firstReaching, parseSchedule } from "../bench/time-to-quality.ts";

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

  it("parses --schedule variants", () => {
    expect(parseSchedule("default")).toEqual({ shares: null, counts: null, stall: null });
    expect(parseSchedule("8:4:2:1:1@0.002")).toEqual({ shares: [8, 4, 2, 1, 1], counts: null, stall: 0.002 });
    expect(parseSchedule("60,40,25,15,40")).toEqual({ shares: null, counts: [60, 40, 25, 15, 40], stall: null });
    expect(parseSchedule("default@0.01")).toEqual({ shares: null, counts: null, stall: 0.01 });
    for (const bad of ["", "odd", "1:0", "1,2.5", "even", "default@", "default@-1", "default@1@2"]) {
      expect(() => parseSchedule(bad), bad).toThrow(/bad --schedule/);
    }
  });
});
