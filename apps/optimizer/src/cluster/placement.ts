/**
 * Where a job runs in a cluster with GPU and CPU workers — a pure decision, free of IO.
 *
 * A worker advertises its engine backend and, for webgpu, its adapter (workerSlots in
 * @atelier/protocol). A GPU worker is webgpu on a real adapter, or tensorflow-gpu; webgpu on a
 * software adapter (llvmpipe) is a CPU worker that happens to speak WebGPU.
 *
 * Big jobs (long side² × iterations over GPU_JOB_PIXEL_ITERATIONS) wait for a GPU worker when
 * the cluster has one: on a GPU they take seconds, on a CPU they would hold a slot for many
 * minutes. Small jobs (sweep cells, Quick previews) go to a CPU worker, and to a GPU worker only
 * when one is idle and no CPU slot is free: they never take the last free GPU slot from a big job
 * waiting behind them, and never wait for a busy GPU.
 */

export interface PlacementWorker {
  workerId: string;
  /** engine backend: "webgpu" | "onnx" | "tensorflow-gpu" | … */
  backend: string;
  /** webgpu: the adapter (null: unknown, taken as not a GPU) */
  adapter: { software: boolean } | null;
  /** free slots */
  free: number;
  /** slots in all */
  concurrency: number;
}

export interface PlacementJob {
  /** long side in px of the final level */
  size: number;
  iterations: number;
}

/** 512² px × 100 iterations: a Quick run or a sweep cell stays under it, a full 512 px run does not. */
export const GPU_JOB_PIXEL_ITERATIONS = 512 * 512 * 100;

export function isGpuWorker(worker: Pick<PlacementWorker, "backend" | "adapter">): boolean {
  if (worker.backend === "tensorflow-gpu") return true;
  return worker.backend === "webgpu" && worker.adapter !== null && !worker.adapter.software;
}

export function isBigJob(job: PlacementJob, threshold = GPU_JOB_PIXEL_ITERATIONS): boolean {
  return job.size * job.size * job.iterations > threshold;
}

/**
 * The worker that takes `job` now, or null: it waits. Among workers of the kind chosen, the
 * one with the most free slots (spreads load; ties: the first listed).
 */
export function placeJob(
  job: PlacementJob,
  workers: readonly PlacementWorker[],
  threshold = GPU_JOB_PIXEL_ITERATIONS,
): string | null {
  const gpus = workers.filter(isGpuWorker);
  const cpus = workers.filter((w) => !isGpuWorker(w));
  const freest = (pool: readonly PlacementWorker[]) =>
    pool.filter((w) => w.free > 0).reduce<PlacementWorker | null>((a, w) => (!a || w.free > a.free ? w : a), null);
  if (isBigJob(job, threshold)) {
    // a cluster without GPUs runs big jobs on its CPUs; with one, they wait for it
    return (gpus.length > 0 ? freest(gpus) : freest(cpus))?.workerId ?? null;
  }
  const cpu = freest(cpus);
  if (cpu) return cpu.workerId;
  // an idle GPU worker (every slot free) may take a small job rather than leave it waiting
  const idleGpu = gpus.find((w) => w.free === w.concurrency && w.free > 0);
  return idleGpu?.workerId ?? null;
}
