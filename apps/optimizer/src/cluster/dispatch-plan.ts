/**
 * The cluster dispatcher's decision, free of IO: given the runs holding worker slots, the
 * runs waiting (oldest first), the free capacity of all workers and when each user was last
 * served, which runs start now and where the others stand. The same rules as the embedded
 * queue (runs/fair-queue.ts): round-robin across users, one active job per user.
 */
import { estimateStartTimes, FairQueue } from "../runs/fair-queue.ts";
import { roundEta } from "../runs/eta.ts";

export interface PlanRun {
  id: string;
  userId: string;
  /** seconds it still needs (running) or needs in all (waiting); null when unknown */
  seconds: number | null;
}

interface DispatchPlan {
  /** runs to hand to the workers now, in start order */
  start: PlanRun[];
  /** the runs left waiting, in expected start order, with their 1-based position and start ETA */
  waiting: { run: PlanRun; position: number; etaSeconds: number | null }[];
  /** when each user was last served, after this plan's starts */
  served: Map<string, number>;
}

export function planDispatch(
  holding: PlanRun[],
  waiting: PlanRun[],
  capacity: number,
  served: ReadonlyMap<string, number>,
): DispatchPlan {
  const slots = Math.max(capacity, holding.length, 1);
  const queue = new FairQueue<PlanRun>(slots, served);
  for (const run of holding) queue.adopt(run);
  for (const run of waiting) queue.enqueue(run);
  // no worker at all: nothing starts, but everyone still gets a place in line
  const start = capacity > 0 ? queue.takeReady() : [];
  const order = queue.waitingOrder();
  const running = queue.runningJobs();
  const starts = estimateStartTimes(
    running.map((r) => r.seconds ?? 0),
    Math.max(capacity, 1),
    order.map((r) => r.seconds),
  );
  return {
    start,
    waiting: order.map((run, i) => ({ run, position: i + 1, etaSeconds: roundEta(starts[i] ?? null) })),
    served: queue.served(),
  };
}
