/**
 * What the fair queue of this node holds: a run, or a batch of small jobs (a sweep) that counts
 * as one job of its user.
 */
import type { LiveRun } from "../common/live-run.ts";
import type { WorkerPool } from "../engine-slots/slot-pool.ts";

/** A batch of small jobs (a sweep): one queue entry, so the whole batch counts as one job of its user. */
export interface QueueBatch {
  kind: "batch";
  id: string;
  userId: string;
  /** runs the batch's jobs on the pool one after another; resolves when they all ended */
  run(pool: WorkerPool): Promise<void>;
  /** seconds its jobs still need at `msPerPixelIteration` (null: unknown), for the ETAs of the runs behind it */
  secondsLeft(msPerPixelIteration: number | null): number | null;
  /** its 1-based place in the queue while it waits, null once it runs */
  setQueuePosition(position: number | null): void;
  /** stops it (shutdown): no further jobs start, the running one is cancelled */
  cancel(): void;
}
export type QueueEntry = LiveRun | QueueBatch;
export function isBatch(job: QueueEntry): job is QueueBatch {
  return "kind" in job && job.kind === "batch";
}
export function isRun(job: QueueEntry): job is LiveRun {
  return !isBatch(job);
}
