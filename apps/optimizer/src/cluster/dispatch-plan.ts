/**
 * The cluster dispatcher's decision, free of IO: given the runs holding worker slots, the
 * runs waiting (oldest first), the live workers and when each user was last served, which runs
 * start now, on which worker, and where the others stand. The same rules as the embedded queue
 * (runs/fair-queue.ts): round-robin across users, one active job per user; and where each job
 * goes is placement.ts's rule (big jobs on GPU workers, small ones on CPU workers).
 */
import { estimateStartTimes, FairQueue } from "../runs/fair-queue.ts";
import { roundEta } from "../runs/eta.ts";
import { isGpuWorker, placeJob, type PlacementJob, type PlacementWorker } from "./placement.ts";

export interface PlanRun {
  id: string;
  userId: string;
  /** seconds it still needs (running) or needs in all (waiting); null when unknown */
  seconds: number | null;
  /** its long side and iterations (a sweep: one cell's), which placement.ts sizes it by */
  job: PlacementJob;
  /** holding runs: the worker it was handed to; null when not known (handed out before placement was recorded) */
  workerId: string | null;
}

/** A live worker as its slots key advertises it (workerSlots in @atelier/protocol). */
export interface PlanWorker extends Omit<PlacementWorker, "free"> {
  /** the jobs it said it runs at its last renewal (up to 2 s old) */
  running: number;
}

interface PlannedStart {
  run: PlanRun;
  workerId: string;
  /** a GPU worker's: it goes on the GPU workers' queue */
  gpu: boolean;
}

interface DispatchPlan {
  /** runs to hand to the workers now, in start order, each with the worker placement.ts chose */
  start: PlannedStart[];
  /** the runs left waiting, in expected start order, with their 1-based position and start ETA */
  waiting: { run: PlanRun; position: number; etaSeconds: number | null }[];
  /** when each user was last served, after this plan's starts */
  served: Map<string, number>;
}

export function planDispatch(
  holding: PlanRun[],
  waiting: PlanRun[],
  workers: readonly PlanWorker[],
  served: ReadonlyMap<string, number>,
  threshold?: number,
): DispatchPlan {
  const capacity = workers.reduce((n, w) => n + w.concurrency, 0);
  // a worker's free slots: what it said it runs, or what was handed to it, whichever is more
  // (a job just handed out is not in its count until its next renewal)
  const handed = new Map<string, number>();
  for (const run of holding) if (run.workerId) handed.set(run.workerId, (handed.get(run.workerId) ?? 0) + 1);
  const pool: PlacementWorker[] = workers.map((w) => ({
    workerId: w.workerId,
    backend: w.backend,
    adapter: w.adapter,
    concurrency: w.concurrency,
    free: Math.max(0, w.concurrency - Math.max(w.running, handed.get(w.workerId) ?? 0)),
  }));
  // and never more jobs out than the cluster has slots (holding runs of unknown workers count too)
  let budget = capacity - holding.length;
  let lastServed = new Map(served);
  const start: PlannedStart[] = [];
  const started: PlanRun[] = [];
  // users whose next run must wait for a worker placement allows: their later runs wait behind it (FIFO per user)
  const held = new Set<string>();
  while (budget > 0) {
    const queue = new FairQueue<PlanRun>(holding.length + started.length + 1, lastServed);
    for (const run of [...holding, ...started]) queue.adopt(run);
    for (const run of waiting) if (!held.has(run.userId) && !started.includes(run)) queue.enqueue(run);
    const [next] = queue.takeReady();
    if (!next) break;
    const workerId = placeJob(next.job, pool, threshold);
    const worker = workerId === null ? undefined : pool.find((w) => w.workerId === workerId);
    if (!worker) {
      held.add(next.userId);
      continue;
    }
    worker.free -= 1;
    budget -= 1;
    started.push(next);
    lastServed = queue.served();
    start.push({ run: next, workerId: worker.workerId, gpu: isGpuWorker(worker) });
  }
  const queue = new FairQueue<PlanRun>(Math.max(capacity, holding.length + started.length, 1), lastServed);
  for (const run of [...holding, ...started]) queue.adopt(run);
  for (const run of waiting) if (!started.includes(run)) queue.enqueue(run);
  const order = queue.waitingOrder();
  const starts = estimateStartTimes(
    queue.runningJobs().map((r) => r.seconds ?? 0),
    Math.max(capacity, 1),
    order.map((r) => r.seconds),
  );
  return {
    start,
    waiting: order.map((run, i) => ({ run, position: i + 1, etaSeconds: roundEta(starts[i] ?? null) })),
    served: queue.served(),
  };
}
