import { describe, expect, it } from "vitest";
import { planDispatch, type PlanRun, type PlanWorker } from "../src/cluster/dispatch-plan.ts";
import { GPU_JOB_PIXEL_ITERATIONS } from "../src/cluster/placement.ts";

const SMALL = { size: 256, iterations: 100 };
const BIG = { size: 1024, iterations: 500 };
const run = (
  id: string,
  userId: string,
  seconds: number | null = 10,
  job = SMALL,
  workerId: string | null = null,
): PlanRun => ({
  id,
  userId,
  seconds,
  job,
  workerId,
});
const ids = (starts: { run: { id: string } }[]) => starts.map((s) => s.run.id);
/** CPU workers (onnx), `concurrency` slots each */
const cpu = (concurrency: number, workerId = "cpu", running = 0): PlanWorker => ({
  workerId,
  backend: "onnx",
  adapter: null,
  concurrency,
  running,
});
const gpu = (concurrency: number, workerId = "gpu", running = 0): PlanWorker => ({
  workerId,
  backend: "webgpu",
  adapter: { software: false },
  concurrency,
  running,
});
const lavapipe = (concurrency: number, workerId = "lavapipe"): PlanWorker => ({
  workerId,
  backend: "webgpu",
  adapter: { software: true },
  concurrency,
  running: 0,
});

describe("planDispatch (the cluster's fair order)", () => {
  const waiting = [run("a1", "a"), run("a2", "a"), run("a3", "a"), run("b1", "b"), run("c1", "c")];

  it("starts one run per user, round-robin, up to the free capacity", () => {
    const plan = planDispatch([], waiting, [cpu(2)], new Map());
    expect(ids(plan.start)).toEqual(["a1", "b1"]);
    expect(plan.waiting.map((w) => [w.run.id, w.position])).toEqual([
      ["c1", 1],
      ["a2", 2],
      ["a3", 3],
    ]);
  });

  it("carries who was served last from one plan to the next", () => {
    const first = planDispatch([], waiting, [cpu(2)], new Map());
    // a1 ended, b1 still runs: c (never served) goes before a (served)
    const second = planDispatch(
      [run("b1", "b")],
      waiting.slice(1).filter((r) => r.id !== "b1"),
      [cpu(2)],
      first.served,
    );
    expect(ids(second.start)).toEqual(["c1"]);
  });

  it("never gives a user a second slot, whatever the capacity", () => {
    const plan = planDispatch([run("a0", "a")], [run("a1", "a"), run("a2", "a")], [cpu(5)], new Map());
    expect(plan.start).toEqual([]);
    expect(plan.waiting.map((w) => w.position)).toEqual([1, 2]);
  });

  it("starts nothing without workers but still gives every run its place and ETA", () => {
    const plan = planDispatch([], [run("a1", "a", 4), run("b1", "b", 6)], [], new Map());
    expect(plan.start).toEqual([]);
    expect(plan.waiting.map((w) => [w.run.id, w.position, w.etaSeconds])).toEqual([
      ["a1", 1, 0],
      ["b1", 2, 4],
    ]);
  });

  it("estimates start times from the slot that frees first; unknown durations make later ETAs unknown", () => {
    const plan = planDispatch(
      [run("r1", "r", 5), run("r2", "s", 8)],
      [run("a1", "a", 3), run("b1", "b", null), run("c1", "c", 2)],
      [cpu(2)],
      new Map(),
    );
    expect(plan.waiting.map((w) => w.etaSeconds)).toEqual([5, 8, null]);
  });
});

describe("planDispatch on GPU and CPU workers (placement.ts decides where)", () => {
  const where = (plan: ReturnType<typeof planDispatch>) => plan.start.map((s) => [s.run.id, s.workerId, s.gpu]);

  it("hands a big job to the GPU worker and a small one to the CPU worker", () => {
    const plan = planDispatch([], [run("small", "a"), run("big", "b", 10, BIG)], [cpu(2), gpu(1)], new Map());
    expect(where(plan)).toEqual([
      ["small", "cpu", false],
      ["big", "gpu", true],
    ]);
  });

  it("keeps a big job waiting for a busy GPU, while a small one behind it starts on a free CPU", () => {
    const holding = [run("x", "x", 30, BIG, "gpu")];
    const plan = planDispatch(
      holding,
      [run("big", "a", 10, BIG), run("a-small", "a"), run("small", "b")],
      [gpu(1), cpu(1)],
      new Map(),
    );
    expect(where(plan)).toEqual([["small", "cpu", false]]);
    // the big job keeps its place at the head of the line; its user's next run waits behind it
    expect(plan.waiting.map((w) => [w.run.id, w.position])).toEqual([
      ["big", 1],
      ["a-small", 2],
    ]);
    // the user who waits was not counted as served
    expect(plan.served.has("a")).toBe(false);
  });

  it("counts a job just handed to a worker against it before the worker's own count says so", () => {
    // the GPU worker still says it runs nothing, but the dispatcher gave it `x` a moment ago
    const plan = planDispatch(
      [run("x", "x", 30, BIG, "gpu")],
      [run("big", "a", 10, BIG)],
      [gpu(1, "gpu", 0)],
      new Map(),
    );
    expect(plan.start).toEqual([]);
    // and a worker that says it runs more than was handed to it (its jobs from before a dispatcher restart) is full too
    const restarted = planDispatch(
      [run("x", "x", 30, BIG)],
      [run("big", "a", 10, BIG)],
      [gpu(1, "gpu", 1), cpu(1)],
      new Map(),
    );
    expect(restarted.start).toEqual([]);
  });

  it("puts a small job on an idle GPU worker only when every CPU slot is taken", () => {
    const busyCpu = [run("c", "c", 30, SMALL, "cpu")];
    expect(where(planDispatch(busyCpu, [run("small", "a")], [cpu(1), gpu(1)], new Map()))).toEqual([
      ["small", "gpu", true],
    ]);
    // a GPU worker with one of its two slots busy is not idle: the small job waits for a CPU
    const busy = [...busyCpu, run("g", "g", 30, BIG, "gpu")];
    expect(planDispatch(busy, [run("small", "a")], [cpu(1), gpu(2)], new Map()).start).toEqual([]);
  });

  it("runs big jobs on CPU workers in a cluster without a GPU; a software adapter is a CPU", () => {
    expect(where(planDispatch([], [run("big", "a", 10, BIG)], [cpu(1)], new Map()))).toEqual([["big", "cpu", false]]);
    // llvmpipe speaks WebGPU but is a CPU: the big job waits for the busy real GPU instead
    const plan = planDispatch(
      [run("x", "x", 30, BIG, "gpu")],
      [run("big", "a", 10, BIG)],
      [gpu(1), lavapipe(2)],
      new Map(),
    );
    expect(plan.start).toEqual([]);
    expect(where(planDispatch([], [run("small", "a")], [gpu(1), lavapipe(1)], new Map()))).toEqual([
      ["small", "lavapipe", false],
    ]);
  });

  it("sizes a job by long side² × iterations against placement.ts's threshold, which it can be given", () => {
    const side = Math.sqrt(GPU_JOB_PIXEL_ITERATIONS / 100);
    const edge = run("edge", "a", 10, { size: side, iterations: 100 });
    expect(where(planDispatch([], [edge], [cpu(1), gpu(1)], new Map()))).toEqual([["edge", "cpu", false]]);
    expect(where(planDispatch([], [edge], [cpu(1), gpu(1)], new Map(), 1000))).toEqual([["edge", "gpu", true]]);
  });
});
