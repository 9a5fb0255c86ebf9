import { describe, expect, it } from "vitest";
import { DEFAULT_MIN_SIZE, defaultScalePlan, levelSizes, remainingScalePlan } from "../src/scale-plan.ts";

describe("remainingScalePlan (resuming a coarse-to-fine run from a checkpoint)", () => {
  it("goes on in the level the checkpoint was in, with its remaining iterations, then the later levels", () => {
    const plan = defaultScalePlan(384, 200, true);
    // most iterations on the cheap coarse levels, about a fifth at full size (splitIterations)
    expect(plan).toEqual({ sizes: [96, 136, 192, 272, 384], iterations: [65, 43, 29, 19, 44] });
    expect(remainingScalePlan(384, plan, 0)).toMatchObject({
      firstLevel: 0,
      sizes: plan.sizes,
      iterations: plan.iterations,
    });
    expect(remainingScalePlan(384, plan, 80)).toMatchObject({
      firstLevel: 1,
      sizes: [136, 192, 272, 384],
      iterations: [28, 29, 19, 44],
    });
    // a checkpoint at a level's last iteration: the next level starts
    expect(remainingScalePlan(384, plan, 108)).toMatchObject({
      firstLevel: 2,
      sizes: [192, 272, 384],
      iterations: [29, 19, 44],
    });
    expect(remainingScalePlan(384, plan, 199)).toMatchObject({ firstLevel: 4, sizes: [384], iterations: [1] });
    // nothing left (the total was cut below the checkpoint): one last iteration at full size
    expect(remainingScalePlan(384, plan, 260)).toMatchObject({ firstLevel: 4, sizes: [384], iterations: [1] });
  });

  it("always leaves as many iterations as the run had left", () => {
    for (const [size, total] of [
      [384, 200],
      [512, 1000],
      [640, 300],
      [200, 7],
    ] as const) {
      const plan = defaultScalePlan(size, total, true);
      for (let done = 0; done < total; done++) {
        const rest = remainingScalePlan(size, plan, done);
        expect(rest.iterations.reduce((a, b) => a + b, 0)).toBe(total - done);
        expect(rest.iterations.every((n) => n >= 1)).toBe(true);
      }
    }
  });

  it("gives a minimum size from which the engine plans exactly the remaining levels", () => {
    for (let size = 64; size <= 4096; size++) {
      const sizes = levelSizes(size, Math.min(DEFAULT_MIN_SIZE, size));
      const plan = { sizes, iterations: sizes.map(() => 10) };
      for (let done = 0; done < 10 * sizes.length; done += 10) {
        const rest = remainingScalePlan(size, plan, done);
        expect(levelSizes(size, rest.minSize)).toEqual(rest.sizes);
      }
    }
  });
});
