import { describe, expect, it } from "vitest";
import {
  GPU_JOB_PIXEL_ITERATIONS,
  isBigJob,
  isGpuWorker,
  placeJob,
  type PlacementWorker,
} from "../src/cluster/placement.ts";

const worker = (
  workerId: string,
  backend: string,
  free: number,
  concurrency = 2,
  adapter: PlacementWorker["adapter"] = backend === "webgpu" ? { software: false } : null,
): PlacementWorker => ({ workerId, backend, adapter, free, concurrency });

const big = { size: 1024, iterations: 500 };
const small = { size: 256, iterations: 100 };

describe("job placement on GPU and CPU workers", () => {
  it("tells GPU workers and big jobs apart", () => {
    expect(isGpuWorker(worker("g", "webgpu", 1))).toBe(true);
    expect(isGpuWorker(worker("t", "tensorflow-gpu", 1))).toBe(true);
    expect(isGpuWorker(worker("l", "webgpu", 1, 2, { software: true }))).toBe(false); // llvmpipe
    expect(isGpuWorker(worker("u", "webgpu", 1, 2, null))).toBe(false); // adapter unknown
    expect(isGpuWorker(worker("c", "onnx", 1))).toBe(false);
    expect(isBigJob(big)).toBe(true);
    expect(isBigJob(small)).toBe(false);
    expect(isBigJob({ size: 512, iterations: 100 })).toBe(false); // exactly the threshold
    expect(isBigJob({ size: 512, iterations: 101 })).toBe(true);
    expect(GPU_JOB_PIXEL_ITERATIONS).toBe(512 * 512 * 100);
  });

  it("puts a big job on the freest GPU worker, and makes it wait while every GPU is busy", () => {
    const workers = [worker("cpu", "onnx", 2), worker("gpu1", "webgpu", 1), worker("gpu2", "webgpu", 2)];
    expect(placeJob(big, workers)).toBe("gpu2");
    const busy = [worker("cpu", "onnx", 2), worker("gpu1", "webgpu", 0)];
    expect(placeJob(big, busy)).toBeNull();
  });

  it("runs big jobs on CPU workers in a cluster without GPUs", () => {
    expect(placeJob(big, [worker("cpu1", "onnx", 0), worker("cpu2", "wasm", 1)])).toBe("cpu2");
    expect(placeJob(big, [worker("lavapipe", "webgpu", 1, 1, { software: true })])).toBe("lavapipe");
  });

  it("keeps small jobs on CPU workers, using a GPU worker only when it is idle and no CPU slot is free", () => {
    const workers = [worker("gpu", "webgpu", 2), worker("cpu", "onnx", 1)];
    expect(placeJob(small, workers)).toBe("cpu");
    // CPUs full, GPU busy with a big job (one slot free): the small job waits for a CPU
    expect(placeJob(small, [worker("gpu", "webgpu", 1), worker("cpu", "onnx", 0)])).toBeNull();
    // CPUs full, GPU idle: it takes the small job rather than leave it waiting
    expect(placeJob(small, [worker("gpu", "webgpu", 2), worker("cpu", "onnx", 0)])).toBe("gpu");
    expect(placeJob(small, [])).toBeNull();
  });

  it("takes the threshold as a parameter", () => {
    expect(placeJob(small, [worker("gpu", "webgpu", 1), worker("cpu", "onnx", 1)], 1000)).toBe("gpu");
  });
});
