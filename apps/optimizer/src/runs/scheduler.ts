/**
 * The embedded scheduler: this node's fair queue (runs/fair-queue.ts) of runs and batches, started
 * on this node's engine processes as slots free up, with queue positions and ETAs refreshed for
 * every run it holds (runs/eta.ts) once a second while any is active.
 */
import { ServiceError } from "../common/errors.ts";
import { estimateStartTimes, FairQueue } from "./fair-queue.ts";
import type { WorkerPool } from "../engine-slots/slot-pool.ts";
import { writeLease } from "./lease.ts";
import { isBatch, isRun, type QueueBatch, type QueueEntry } from "./queue-entry.ts";
import type { LiveRun } from "../common/live-run.ts";
import type { RunCore } from "./core.ts";
import { queueEstimates, remainingSeconds, roundEta } from "./eta.ts";

const TICK_MS = 1_000;

export class LocalScheduler {
  private readonly queue: FairQueue<QueueEntry>;
  private readonly batches = new Set<QueueBatch>();
  private tickTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly core: RunCore,
    private readonly pool: WorkerPool,
    /** starts a run the queue let through on this node's threads */
    private readonly launch: (run: LiveRun) => void,
  ) {
    this.queue = new FairQueue(core.o.workers);
  }

  get size(): { waiting: number; running: number; concurrency: number } {
    return this.queue.size;
  }

  /** Holds the run on this node (lease) and queues it. */
  async enqueue(run: LiveRun): Promise<void> {
    this.core.active.set(run.id, run);
    await writeLease(this.core.files.store, run.id, this.core.o.nodeId);
    this.queue.enqueue(run);
    this.pump();
  }

  /** The run ended or left the queue: its slot (or its place in the line) is free. */
  forget(runId: string): void {
    this.queue.finish(runId);
    this.queue.removeWaiting(runId);
  }

  /** Starts what the queue allows, then refreshes positions and ETAs. */
  pump(): void {
    if (!this.core.closing) {
      for (const job of this.queue.takeReady()) {
        if (isBatch(job)) this.launchBatch(job);
        else this.launch(job);
      }
    }
    this.refreshQueueInfo();
    this.ensureTicking();
  }

  /**
   * Seconds a job queued now would wait: the running jobs' time left and every waiting job's
   * length, slot by slot (the queue's own order; a new user's job may well start sooner, so an
   * upper bound). A batch of unknown length counts as none.
   */
  newJobWait(): number {
    const speed = this.core.speed.current();
    const remaining = (job: QueueEntry) =>
      (isBatch(job) ? job.secondsLeft(speed.msPerPixelIteration) : remainingSeconds(job, speed)) ?? 0;
    const starts = estimateStartTimes(this.queue.runningJobs().map(remaining), this.queue.size.concurrency, [
      ...this.queue.waitingOrder().map(remaining),
      0,
    ]);
    return starts.at(-1) ?? 0;
  }

  /** Queues a batch in the fair queue (it runs when its user's turn comes, like a run). */
  enqueueBatch(batch: QueueBatch): void {
    if (this.core.closing) throw new ServiceError("conflict", "the optimiser is shutting down");
    this.batches.add(batch);
    this.queue.enqueue(batch);
    this.pump();
  }

  /** Takes a batch that has not started out of the line (a cancelled sweep's next cell). */
  withdrawBatch(jobId: string): void {
    const batch = this.queue.removeWaiting(jobId);
    if (!batch || !isBatch(batch)) return;
    this.batches.delete(batch);
    this.pump();
  }

  private launchBatch(batch: QueueBatch): void {
    batch.setQueuePosition(null);
    batch
      .run(this.pool)
      .catch((error: unknown) => this.core.o.log.error("batch.failed", { batchId: batch.id, error }))
      .finally(() => {
        this.batches.delete(batch);
        this.queue.finish(batch.id);
        this.pump();
      });
  }

  /** Positions and ETAs of every run this node holds; sends run:update where something changed. */
  private refreshQueueInfo(): void {
    // a running run: its own measured speed per level; a waiting one: the speed model's
    const speed = this.core.speed.current();
    const remaining = (job: QueueEntry) =>
      isBatch(job) ? job.secondsLeft(speed.msPerPixelIteration) : remainingSeconds(job, speed);
    const running = this.queue.runningJobs().filter(isRun);
    for (const run of running) run.etaSeconds = roundEta(remainingSeconds(run, speed));
    const waiting = queueEstimates(
      this.queue.runningJobs(),
      this.queue.waitingOrder(),
      this.queue.size.concurrency,
      remaining,
    );
    for (const { job, position, etaSeconds } of waiting) {
      if (isBatch(job)) {
        job.setQueuePosition(position);
      } else {
        job.queuePosition = position;
        job.etaSeconds = etaSeconds;
      }
    }
    for (const run of [...running, ...waiting.map((w) => w.job).filter(isRun)]) {
      const room = this.core.roomOf(run);
      if (room) this.core.o.broadcast.runUpdate(room);
    }
  }

  private ensureTicking(): void {
    if (this.core.active.size === 0) {
      if (this.tickTimer) clearInterval(this.tickTimer);
      this.tickTimer = null;
      return;
    }
    if (this.tickTimer) return;
    this.tickTimer = setInterval(() => this.refreshQueueInfo(), TICK_MS);
    this.tickTimer.unref();
  }

  /** Shutdown: no more ticks, batches cancelled, queued runs taken out of the line. */
  stop(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    for (const batch of this.batches) {
      this.queue.removeWaiting(batch.id);
      batch.cancel();
    }
  }
}
