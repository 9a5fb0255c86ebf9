import { describe, expect, it } from "vitest";
import { RunClock } from "../src/cli-timing.ts";

describe("RunClock", () => {
  it("splits setup (up to the first iteration's start) from the wall clock per iteration", () => {
    const clock = new RunClock(1000);
    // first iteration ran 4000 → 4500 ms after 3 s of setup; the next ones end every 600 ms
    clock.iteration(4500, 500);
    clock.iteration(5100, 550);
    clock.iteration(5700, 540);
    expect(clock.timing(6000)).toEqual({ setupSeconds: 3, iterations: 3, msPerIteration: 1700 / 3 });
  });

  it("counts the time between iterations (output, checkpoints), not only what the events report", () => {
    const clock = new RunClock(0);
    clock.iteration(100, 100);
    clock.iteration(400, 100); // 200 ms went to a checkpoint between the two
    expect(clock.timing(400).msPerIteration).toBe(200);
  });

  it("with no iteration yet, everything is setup", () => {
    expect(new RunClock(500).timing(2500)).toEqual({ setupSeconds: 2, iterations: 0, msPerIteration: 0 });
  });
});
