import { describe, expect, it } from "vitest";
import { REFERENCE_MS_PER_PIXEL_ITERATION } from "@atelier/protocol";
import { learnSpeed, referenceSpeed, SpeedTracker } from "../src/runs/speed-model.ts";

describe("speed model", () => {
  it("starts from the stated reference figure", () => {
    expect(referenceSpeed("wasm")).toEqual({
      backend: "wasm",
      msPerPixelIteration: REFERENCE_MS_PER_PIXEL_ITERATION,
      source: "default",
      runs: 0,
    });
  });
  it("the first finished run replaces the reference; later ones blend in", () => {
    const first = learnSpeed(referenceSpeed("wasm"), { computeMs: 40_000, pixelIterations: 1_000_000 });
    expect(first).toMatchObject({ msPerPixelIteration: 0.04, source: "measured", runs: 1 });
    const second = learnSpeed(first, { computeMs: 10_000, pixelIterations: 1_000_000 });
    expect(second.msPerPixelIteration).toBeCloseTo(0.7 * 0.04 + 0.3 * 0.01, 12);
    expect(second.runs).toBe(2);
  });
  it("ignores runs too short to say anything about speed", () => {
    const model = referenceSpeed("wasm");
    expect(learnSpeed(model, { computeMs: 500, pixelIterations: 10_000 })).toBe(model);
    expect(learnSpeed(model, { computeMs: 0, pixelIterations: 1_000_000 })).toBe(model);
  });
  it("the tracker learns from completed runs only, with the backend they reported", () => {
    const tracker = new SpeedTracker("wasm");
    for (let i = 0; i < 10; i++) tracker.observeIteration("done", 100_000, 3_000);
    for (let i = 0; i < 10; i++) tracker.observeIteration("cancelled", 100_000, 9_000);
    tracker.runEnded("cancelled", false, "wasm");
    expect(tracker.current().source).toBe("default");
    tracker.runEnded("done", true, "onnx");
    expect(tracker.current()).toMatchObject({ backend: "onnx", msPerPixelIteration: 0.03, runs: 1 });
    // a second end of the same run (a late message) teaches nothing twice
    tracker.runEnded("done", true, "onnx");
    expect(tracker.current().runs).toBe(1);
  });
});
