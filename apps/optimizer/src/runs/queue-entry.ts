/**
 * What the fair queue of this node holds: a run, or a batch: one short job that is not a run (a
 * sweep's cell; a sweep queues its next cell when one ends, sweeps/embedded-sweep.ts).
 */
import type { LiveRun } from "../common/live-run.ts";
import type { WorkerPool } from "../engine-slots/slot-pool.ts";

/** A short job that is not a run (a sweep cell): one queue entry, one job of its user. */
export interface QueueBatch {
  kind: "batch";
  id: string;
  userId: string;
  /** runs it on the pool; resolves when it ended */
  run(pool: WorkerPool): Promise<void>;
  /** seconds it still needs at `msPerPixelIteration` (null: unknown), for the ETAs of the runs behind it */
  secondsLeft(msPerPixelIteration: number | null): number | null;
  /** its 1-based place in the queue while it waits, null once it runs */
  setQueuePosition(position: number | null): void;
  /** stops it (shutdown): it is cancelled if running, and nothing of its sweep starts after it */
  cancel(): void;
}
export type QueueEntry = LiveRun | QueueBatch;
export function isBatch(job: QueueEntry): job is QueueBatch {
  return "kind" in job && job.kind === "batch";
}
export function isRun(job: QueueEntry): job is LiveRun {
  return !isBatch(job);
}
