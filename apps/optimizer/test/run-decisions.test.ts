import { defaultRoomDocument, runParams, type RunParams } from "@atelier/protocol";
import { describe, expect, it } from "vitest";
import { applyLiveEdit, isLiveStyles, liveEditOf, restartNeededFields } from "../src/runs/edits.ts";
import {
  addLevelSample,
  levelSpeeds,
  queueEstimates,
  remainingSeconds,
  roundEta,
  sweepSecondsLeft,
} from "../src/runs/eta.ts";
import { endStatus } from "../src/runs/launcher.ts";
import { resumeStartIteration } from "../src/runs/resume-point.ts";

const params: RunParams = runParams.parse({
  ...defaultRoomDocument(),
  size: 64,
  iterations: 100,
  contentImageId: "content1",
  styles: [
    { imageId: "styleA", weight: 1 },
    { imageId: "styleB", weight: 2 },
  ],
});

describe("live edit vs restart needed", () => {
  it("follows weight and iteration edits live", () => {
    expect(liveEditOf(params, { field: "styleWeight", value: 50 })).toEqual({
      params: { ...params, styleWeight: 50 },
      weights: { styleWeight: 50 },
    });
    expect(liveEditOf(params, { field: "iterations", value: 300 })?.weights).toEqual({ iterations: 300 });
  });

  it("follows a styles edit that only changes blend weights", () => {
    const styles = [
      { imageId: "styleA", weight: 3 },
      { imageId: "styleB", weight: 0 },
    ];
    expect(liveEditOf(params, { field: "styles", value: styles })).toEqual({
      params: { ...params, styles },
      weights: { styleBlendWeights: [3, 0] },
    });
  });

  it("does not follow image changes, all-zero blends or other settings", () => {
    expect(liveEditOf(params, { field: "styles", value: [{ imageId: "styleC", weight: 1 }] })).toBeNull();
    expect(
      isLiveStyles(params.styles, [
        { imageId: "styleA", weight: 0 },
        { imageId: "styleB", weight: 0 },
      ]),
    ).toBe(false);
    expect(liveEditOf(params, { field: "size", value: 128 })).toBeNull();
    expect(liveEditOf(params, { field: "optimizer", value: "adam" })).toBeNull();
  });

  it("names exactly the non-live fields that differ from the run", () => {
    const document = { ...params, masks: params.masks };
    expect(restartNeededFields(params, document)).toEqual([]);
    // live fields never need a restart
    expect(restartNeededFields(params, { ...document, styleWeight: 1, iterations: 5 })).toEqual([]);
    expect(restartNeededFields(params, { ...document, size: 128, seed: 7 })).toEqual(["size", "seed"]);
    expect(restartNeededFields(params, { ...document, styles: [{ imageId: "styleC", weight: 1 }] })).toEqual([
      "styles",
    ]);
    expect(restartNeededFields(params, { ...document, contentImageId: "other" })).toEqual(["contentImageId"]);
  });

  it("a large render: its own size and single level are no change of the room's; its iterations follow no edit", () => {
    const document = { ...params, size: 512, multiscale: true, masks: params.masks };
    const render = { ...params, size: 1024, multiscale: false, iterations: 40 };
    expect(restartNeededFields(render, document, { size: 1024 })).toEqual([]);
    // without knowing it is a render: size and coarse-to-fine differ
    expect(restartNeededFields(render, document)).toEqual(["size", "multiscale"]);
    // other settings changed in the room still need a restart
    expect(restartNeededFields(render, { ...document, seed: 7 }, { size: 1024 })).toEqual(["seed"]);
    const running = { params: render, iteration: 3, liveEdits: [], render: { size: 1024 } };
    expect(applyLiveEdit(running, { field: "iterations", value: 500 }, "u1")).toBeNull();
    // weights still follow live
    expect(applyLiveEdit(running, { field: "styleWeight", value: 50 }, "u1")?.params.styleWeight).toBe(50);
  });
});

describe("ETA", () => {
  it("uses the run's own measured speed once it has one, else the speed model's", () => {
    const model = { msPerPixelIteration: 0.01 };
    const fresh = { params, iteration: 0, levelSamples: [], aspect: null };
    expect(remainingSeconds(fresh, model)).toBeCloseTo((100 * 0.01 * 64 * 64) / 1000); // a single 64 px level
    const samples: number[][] = [];
    for (const ms of [900, 50, 50, 60, 40]) addLevelSample(samples, 0, ms);
    const running = { params, iteration: 40, levelSamples: samples, aspect: 1 };
    expect(remainingSeconds(running, model)).toBeCloseTo(3); // 60 iterations × 50 ms, the slow first one left out
    expect(remainingSeconds({ ...running, iteration: 500 }, model)).toBe(0);
  });

  it("counts the levels the engine process said it runs: a resumed run's rest, numbered run-wide", () => {
    const model = { msPerPixelIteration: 0.01 };
    const multi = { ...params, size: 256, iterations: 90, multiscale: true };
    const samples: number[][] = [];
    // resumed at iteration 40 in level 1 (181 px) of 128/181/256: its samples are numbered run-wide
    for (const ms of [900, 300, 300, 300]) addLevelSample(samples, 1, ms);
    const levels = {
      sizes: [
        { width: 181, height: 136, iterations: 20 },
        { width: 256, height: 192, iterations: 30 },
      ],
      first: 1,
      from: 40,
    };
    const run = { params: multi, iteration: 50, levelSamples: samples, aspect: 0.75, levels };
    // 10 left at 300 ms, then 30 at 300 ms × (256·192)/(181·136)
    const expected = (10 * 300 + 30 * 300 * ((256 * 192) / (181 * 136))) / 1000;
    expect(remainingSeconds(run, model)).toBeCloseTo(expected, 6);
    expect(remainingSeconds({ ...run, iteration: 90 }, model)).toBe(0);
  });

  it("a level's speed is the mean of its latest iterations, its first one dropped once others came", () => {
    const samples: number[][] = [];
    addLevelSample(samples, 1, 5000);
    expect(levelSpeeds(samples)).toEqual([null, 5000]);
    // cheap iterations and line searches alternating: the mean is what 10 more of them cost
    for (let i = 0; i < 30; i++) addLevelSample(samples, 1, i % 2 ? 300 : 100);
    expect(samples[1]).toHaveLength(21); // the first plus the 20 latest
    expect(levelSpeeds(samples)).toEqual([null, 200]);
    expect(roundEta(1.26)).toBe(1.3);
    expect(roundEta(null)).toBeNull();
  });

  it("counts a sweep's cells left (queued and running ones, from where they are) at the learned speed", () => {
    const sweep = { size: 100, iterations: 50 };
    const cells = [
      { status: "completed", iteration: 50 },
      { status: "running", iteration: 20 },
      { status: "queued", iteration: 0 },
      { status: "failed", iteration: 3 },
    ];
    // (30 + 50) iterations × 10 000 px × 0.01 ms = 8 s
    expect(sweepSecondsLeft(cells, sweep, 0.01)).toBeCloseTo(8);
    expect(sweepSecondsLeft(cells, sweep, null)).toBeNull();
    expect(sweepSecondsLeft([{ status: "completed", iteration: 50 }], sweep, 0.01)).toBe(0);
  });

  it("gives every waiting job a position and the start time of the slot that frees first", () => {
    const seconds: Record<string, number | null> = { r1: 10, r2: 4, w1: 5, w2: 7, w3: null, w4: 1 };
    const out = queueEstimates(["r1", "r2"], ["w1", "w2", "w3", "w4"], 2, (j) => seconds[j] ?? null);
    expect(out).toEqual([
      { job: "w1", position: 1, etaSeconds: 4 },
      { job: "w2", position: 2, etaSeconds: 9 },
      { job: "w3", position: 3, etaSeconds: 10 },
      // after a job of unknown length nothing is known
      { job: "w4", position: 4, etaSeconds: null },
    ]);
  });
});

describe("a worker's end", () => {
  it("is completed, cancelled, interrupted or failed by what happened and why", () => {
    const done = { kind: "done", iteration: 9, width: 1, height: 1, path: "x" } as const;
    const cancelled = { kind: "cancelled", iteration: 3, checkpointPath: null } as const;
    const failed = { kind: "failed", error: "boom at /srv/data/x.png" } as const;
    expect(endStatus(done, null)).toEqual({ status: "completed", error: null });
    expect(endStatus(cancelled, "cancel").status).toBe("cancelled");
    expect(endStatus(cancelled, "shutdown").status).toBe("interrupted");
    expect(endStatus(failed, "cancel")).toEqual({ status: "cancelled", error: null });
    expect(endStatus(failed, "shutdown").status).toBe("interrupted");
    const crash = endStatus(failed, null);
    expect(crash.status).toBe("failed");
    expect(crash.error).not.toContain("/srv/data");
  });
});

describe("where a restarted run counts from (resumeStartIteration)", () => {
  const interrupted = { status: "interrupted" as const, iteration: 40, params };
  it("an interrupted run restarted as it was, from its image, goes on from its iteration", () => {
    expect(resumeStartIteration(interrupted, params, true)).toBe(40);
  });
  it("changed settings, another image, another status or nothing left: a new run from 0", () => {
    expect(resumeStartIteration(interrupted, { ...params, styleWeight: 7 }, true)).toBe(0);
    expect(resumeStartIteration(interrupted, params, false)).toBe(0);
    expect(resumeStartIteration({ ...interrupted, status: "cancelled" }, params, true)).toBe(0);
    expect(resumeStartIteration({ ...interrupted, iteration: 100 }, params, true)).toBe(0);
    expect(resumeStartIteration(null, params, true)).toBe(0);
  });
});
