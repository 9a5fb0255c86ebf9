/**
 * One sweep in embedded mode. Its cells are jobs of the node's fair queue one at a time: a cell
 * is queued only when the one before it ended, so between two cells the queue's round-robin
 * (runs/fair-queue.ts) gives the free slot to any other user's job that waited longer — a 16-cell
 * sweep holds the slot for one short cell at a time, never for the whole grid. Every cell start
 * and end is written to the sweep's database row (sweeps/sweep-rows.ts).
 */
import type { SweepInfo } from "@atelier/protocol";
import type { JobHandle, WorkerPool } from "../engine-slots/slot-pool.ts";
import type { Logger } from "../common/log.ts";
import type { User } from "../common/live-run.ts";
import type { QueueBatch } from "../runs/queue-entry.ts";
import { sweepSecondsLeft } from "../runs/eta.ts";
import { runSweepCell, sweepEnded, type CellState, type SweepFiles } from "./sweep-cell.ts";
import type { SweepBroadcaster, SweepRequest } from "./sweep-manager.ts";
import { INTERRUPTED } from "./sweep-rows.ts";

/** What a sweep needs of the node's fair queue. */
export interface CellQueue {
  enqueueBatch(job: QueueBatch): void;
  /** takes a cell that has not started out of the line */
  withdrawBatch(jobId: string): void;
}

/** The index of the cell a sweep runs next (the first still queued), null when none is left. */
export function nextCellIndex(cells: { info: { status: string } }[]): number | null {
  const i = cells.findIndex((c) => c.info.status === "queued");
  return i < 0 ? null : i;
}

export class EmbeddedSweep {
  queuePosition: number | null = null;
  private stopped = false;
  /** stopped by the shutdown, not by sweep:cancel */
  private interrupted = false;
  private current: JobHandle | null = null;
  /** the cell's queue job while it waits or runs */
  private job: QueueBatch | null = null;

  constructor(
    readonly author: User,
    readonly request: SweepRequest,
    readonly cells: CellState[],
    readonly files: SweepFiles,
    private readonly o: {
      queue: CellQueue;
      broadcast: SweepBroadcaster;
      /** records the cells' state (the database row) */
      save: (sweep: EmbeddedSweep) => void;
      /** every cell ended */
      ended: (sweep: EmbeddedSweep) => void;
      log: Logger;
    },
  ) {}

  get id(): string {
    return this.files.sweepId;
  }
  get roomId(): string {
    return this.files.roomId;
  }
  get ended(): boolean {
    return sweepEnded({ cells: this.cells.map((c) => c.info) });
  }

  info(): SweepInfo {
    return {
      sweepId: this.id,
      author: { userId: this.author.id, name: this.author.name },
      ...this.request,
      queuePosition: this.queuePosition,
      cells: this.cells.map((c) => ({ ...c.info })),
    };
  }

  /** Queues its next cell (the first one at the start), or reports its end when none is left. */
  queueNext(): void {
    const index = this.stopped ? null : nextCellIndex(this.cells);
    if (index === null) {
      this.job = null;
      this.setQueuePosition(null);
      if (this.ended) this.o.ended(this);
      return;
    }
    const state = this.cells[index]!;
    const job: QueueBatch = {
      kind: "batch",
      id: `${this.id}:${index}`,
      userId: this.author.id,
      run: (pool) => this.runCell(pool, state),
      // only this cell: the sweep's later cells queue behind whatever waits when it ends
      secondsLeft: (rate) => sweepSecondsLeft([state.info], this.request, rate),
      setQueuePosition: (position) => this.setQueuePosition(position),
      cancel: () => this.stop(),
    };
    this.job = job;
    try {
      this.o.queue.enqueueBatch(job);
    } catch (error) {
      // the node is shutting down: the cells left stay queued in the row, which the next start ends
      this.job = null;
      this.stopped = true;
      this.o.log.info("sweep.not_queued", { sweepId: this.id, error });
    }
  }

  private setQueuePosition(position: number | null): void {
    if (position === this.queuePosition) return;
    this.queuePosition = position;
    this.o.broadcast.update(this.roomId, this.info());
  }

  private async runCell(pool: WorkerPool, state: CellState): Promise<void> {
    this.setQueuePosition(null);
    await runSweepCell(
      pool,
      this.files,
      state,
      {
        update: () => {
          this.o.broadcast.update(this.roomId, this.info());
          // the row follows starts and ends, not every iteration
          if (state.info.status !== "running" || state.info.iteration === 0) this.o.save(this);
        },
        frame: (frame) => this.o.broadcast.frame(frame),
        handle: (handle) => (this.current = handle),
      },
      this.o.log,
    );
    // a cell the shutdown stopped says so (not "cancelled" nor a bare failure)
    if (this.interrupted && state.info.status !== "completed") {
      state.info.status = "failed";
      state.info.error = INTERRUPTED;
      this.o.broadcast.update(this.roomId, this.info());
      this.o.save(this);
    }
    // queued while this cell still holds its user's turn: the queue then weighs it against the
    // other users' jobs when this one's slot frees (runs/scheduler.ts launchBatch)
    this.queueNext();
  }

  /**
   * `sweep:cancel`: the running cell is cancelled, the waiting one leaves the queue, the queued
   * ones end cancelled. False when it had already ended (nothing changes).
   */
  cancel(): boolean {
    if (this.ended) return false;
    this.halt();
    for (const c of this.cells) if (c.info.status === "queued") c.info.status = "cancelled";
    this.queuePosition = null;
    this.o.broadcast.update(this.roomId, this.info());
    this.o.save(this);
    // a running cell reports its own end (cancelled), which ends the sweep; none running: ended now
    if (!this.cells.some((c) => c.info.status === "running")) this.o.ended(this);
    return true;
  }

  /**
   * Shutdown: nothing more starts and the running cell stops; the cells not ended are left as they
   * are in the row, which the next start ends visibly (sweep-rows.ts endInterrupted).
   */
  stop(): void {
    this.interrupted = true;
    this.halt();
  }

  private halt(): void {
    this.stopped = true;
    const job = this.job;
    // a cell waiting in line leaves it; a running one is cancelled and ends as "cancelled"
    if (job && !this.cells.some((c) => c.info.status === "running")) this.o.queue.withdrawBatch(job.id);
    this.job = null;
    this.current?.cancel();
  }
}
