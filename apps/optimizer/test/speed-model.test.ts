import { describe, expect, it } from "vitest";
import { estimateRunSeconds, referenceRate } from "@atelier/protocol";
import {
  planPixelIterations,
  RECENT_RUNS,
  referenceSpeed,
  sampleOf,
  speedFromSamples,
  SpeedTracker,
  type SpeedSample,
} from "../src/runs/speed-model.ts";

const params = { size: 512, iterations: 100, multiscale: true };

describe("speed model", () => {
  it("starts from the reference figure of its backend", () => {
    expect(referenceSpeed("onnx")).toEqual({
      backend: "onnx",
      msPerPixelIteration: referenceRate("onnx"),
      source: "default",
      runs: 0,
    });
    expect(speedFromSamples("wasm", [{ backend: "onnx", size: 512, msPerPixelIteration: 0.004 }])).toEqual(
      referenceSpeed("wasm"),
    );
  });

  it("a run's sample is its compute time over the pixel-iterations of its plan at its real aspect", () => {
    const work = planPixelIterations(params, 512, 384);
    // levels 128 … 512 px with 32/22/14/10/22 of the 100 iterations (splitIterations)
    const levels = [
      [128, 32],
      [181, 22],
      [256, 14],
      [362, 10],
      [512, 22],
    ] as const;
    expect(work).toBe(levels.reduce((sum, [s, n]) => sum + s * Math.round(s * 0.75) * n, 0));
    const sample = sampleOf({ backend: "onnx", params, computeMs: work * 0.005, width: 512, height: 384 })!;
    expect(sample.msPerPixelIteration).toBeCloseTo(0.005, 12);
    // so the estimate of the same settings gives back the run's own compute time
    const model = speedFromSamples("onnx", [sample]);
    expect(estimateRunSeconds(params, model, 0.75)).toBeCloseTo((work * 0.005) / 1000, 1);
    // too short to say anything, or no backend: no sample
    expect(
      sampleOf({
        backend: "onnx",
        params: { ...params, size: 64, iterations: 10 },
        computeMs: 50,
        width: 64,
        height: 48,
      }),
    ).toBeNull();
    expect(sampleOf({ backend: null, params, computeMs: 1000, width: 512, height: 384 })).toBeNull();
  });

  it("per backend and size band, the median of the recent runs: one loaded run cannot swing it", () => {
    const samples: SpeedSample[] = [
      ...Array.from({ length: 12 }, () => ({ backend: "onnx", size: 512, msPerPixelIteration: 0.004 })),
      { backend: "onnx", size: 512, msPerPixelIteration: 0.05 }, // a run on a loaded machine
      { backend: "onnx", size: 256, msPerPixelIteration: 0.008 },
      { backend: "wasm", size: 512, msPerPixelIteration: 0.024 },
    ];
    const onnx = speedFromSamples("onnx", samples);
    expect(onnx.source).toBe("measured");
    expect(onnx.runs).toBe(14);
    expect(onnx.msPerPixelIteration).toBe(0.004);
    expect(onnx.bands).toEqual([
      { upTo: 256, msPerPixelIteration: 0.008, runs: 1 },
      { upTo: 512, msPerPixelIteration: 0.004, runs: RECENT_RUNS },
    ]);
    expect(speedFromSamples("wasm", samples).msPerPixelIteration).toBe(0.024);
    // the machine got faster for good: a majority of recent runs moves the figure
    const faster = [
      ...samples,
      ...Array.from({ length: 5 }, () => ({ backend: "onnx", size: 512, msPerPixelIteration: 0.002 })),
    ];
    expect(speedFromSamples("onnx", faster).bands![1]!.msPerPixelIteration).toBe(0.002);
  });

  it("the tracker learns from completed runs of the backend it reports", () => {
    const tracker = new SpeedTracker("onnx");
    const work = planPixelIterations(params, 512, 384);
    tracker.runEnded({ backend: "wasm", params, computeMs: work * 0.03, width: 512, height: 384 }, true);
    tracker.runEnded({ backend: "onnx", params, computeMs: work * 0.009, width: 512, height: 384 }, false);
    expect(tracker.current()).toEqual(referenceSpeed("onnx"));
    tracker.setBackend("wasm");
    expect(tracker.current()).toMatchObject({ backend: "wasm", msPerPixelIteration: 0.03, runs: 1 });
  });
});
