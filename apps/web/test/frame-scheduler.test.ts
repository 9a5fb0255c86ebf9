import { describe, expect, it } from "vitest";
import { createFrameScheduler } from "@/lib/frame-scheduler";

interface F {
  runId: string;
  iteration: number;
}

function deferredDraw() {
  const drawn: number[] = [];
  const releases: Array<() => void> = [];
  const draw = (f: F) =>
    new Promise<void>((resolve) => {
      releases.push(() => {
        drawn.push(f.iteration);
        resolve();
      });
    });
  const releaseNext = async () => {
    // let the scheduler reach its next await
    for (let i = 0; i < 5 && releases.length === 0; i++) await Promise.resolve();
    releases.shift()!();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { draw, drawn, releaseNext, waiting: () => releases.length };
}

describe("frame scheduler", () => {
  it("draws the newest waiting frame and drops the older ones (latest frame wins)", async () => {
    const d = deferredDraw();
    const s = createFrameScheduler<F>(d.draw);
    s.push({ runId: "a", iteration: 1 }); // starts drawing at once
    for (let i = 2; i <= 6; i++) s.push({ runId: "a", iteration: i }); // drawing is behind
    await d.releaseNext(); // finish frame 1 → frame 6 starts
    await d.releaseNext();
    await s.idle();
    expect(d.drawn).toEqual([1, 6]);
    expect(s.stats()).toEqual({ drawn: 2, dropped: 4, failed: 0 });
  });

  it("draws every frame when drawing keeps up", async () => {
    const drawn: number[] = [];
    const s = createFrameScheduler<F>(async (f) => void drawn.push(f.iteration));
    for (let i = 1; i <= 3; i++) {
      s.push({ runId: "a", iteration: i });
      await s.idle();
    }
    expect(drawn).toEqual([1, 2, 3]);
  });

  it("never goes back to an older frame of the same run, but follows a new run", async () => {
    const drawn: string[] = [];
    const s = createFrameScheduler<F>(async (f) => void drawn.push(`${f.runId}${f.iteration}`));
    s.push({ runId: "a", iteration: 5 });
    await s.idle();
    s.push({ runId: "a", iteration: 4 });
    await s.idle();
    s.push({ runId: "b", iteration: 1 });
    await s.idle();
    expect(drawn).toEqual(["a5", "b1"]);
  });

  it("keeps going after a failed draw and stops after dispose", async () => {
    const drawn: number[] = [];
    const errors: number[] = [];
    const s = createFrameScheduler<F>(
      async (f) => {
        if (f.iteration === 1) throw new Error("corrupt frame");
        drawn.push(f.iteration);
      },
      (_e, f) => errors.push(f.iteration),
    );
    s.push({ runId: "a", iteration: 1 });
    await s.idle();
    s.push({ runId: "a", iteration: 2 });
    await s.idle();
    s.dispose();
    s.push({ runId: "a", iteration: 3 });
    await s.idle();
    expect(drawn).toEqual([2]);
    expect(errors).toEqual([1]);
  });
});
