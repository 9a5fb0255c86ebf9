/**
 * A cluster worker's side of sweeps: a BullMQ "sweep" job runs ONE cell of a sweep on this
 * process's engine processes (sweeps/sweep-cell.ts, as in embedded mode), holding one slot like a
 * run. When the cell ends the sweep goes back to the dispatcher's waiting set (its next cell is
 * queued behind whatever waited meanwhile, in the global fair order: cluster/dispatch-plan.ts),
 * so another user's run goes between two cells. The grid's state and each cell's frames go on the
 * run bus (every gateway fans them out to its sockets) and into Redis (late joiners on any
 * gateway); every cell start and end is written to the sweep's database row (sweeps/sweep-rows.ts).
 * A cell another worker left (killed, or stopped) comes back to a worker through BullMQ's stall
 * check or the dispatcher and runs again from its start; the finished cells are kept.
 */
import type { Db } from "@atelier/db";
import type { ClusterSweep, SweepInfo } from "@atelier/protocol";
import { memberVisibleError } from "../common/errors.ts";
import type { JobHandle, WorkerPool } from "../engine-slots/slot-pool.ts";
import type { Logger } from "../common/log.ts";
import type { RunBus } from "../cluster/run-bus.ts";
import type { RunFiles } from "../runs/files.ts";
import { newCellInfo, runSweepCell, sweepDir, sweepEnded, type CellState } from "./sweep-cell.ts";
import { rowCells, SweepRows } from "./sweep-rows.ts";
import { SweepStore } from "./sweep-store.ts";

/** how long a stopping worker waits for its running cell to stop */
const STOP_WAIT_MS = 10_000;

interface SweepWorkerOptions {
  db: Db;
  bus: RunBus;
  pool: WorkerPool;
  files: RunFiles;
  log: Logger;
  workerId: string;
}

export class SweepWorker {
  private readonly store: SweepStore;
  private readonly rows: SweepRows;
  /** the running cells' handles, by sweep id (to stop them when the worker stops) */
  private readonly current = new Map<string, JobHandle>();
  private readonly going = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly o: SweepWorkerOptions) {
    this.store = new SweepStore(o.bus.redis, o.bus.prefix, o.log);
    this.rows = new SweepRows(o.db, o.log);
  }

  get running(): number {
    return this.going.size;
  }

  /** Runs the sweep's cell `index` unless it ended; resolves when it did (or this worker stops). */
  process(sweepId: string, index: number): Promise<void> {
    const going = this.run(sweepId, index).finally(() => this.going.delete(going));
    this.going.add(going);
    return going;
  }

  private async run(sweepId: string, index: number): Promise<void> {
    const { o } = this;
    // sweep:cancel (sweeps/cluster-sweeps.ts) writes the state, then tells the holder: listening
    // before reading the state, a cancel is either in what is read or heard here
    let cancelled = false;
    let states: CellState[] = [];
    const stopListening = await o.bus.onControl(sweepId, (control) => {
      if (control.type !== "cancel") return;
      cancelled = true;
      for (const state of states) if (state.info.status === "queued") state.info.status = "cancelled";
      this.current.get(sweepId)?.cancel();
    });
    try {
      await this.runCell(
        sweepId,
        index,
        (s) => (states = s),
        () => cancelled,
      );
    } finally {
      await stopListening();
    }
  }

  private async runCell(
    sweepId: string,
    index: number,
    setStates: (states: CellState[]) => void,
    isCancelled: () => boolean,
  ): Promise<void> {
    const { store, o } = this;
    const [sweep, info] = await Promise.all([store.sweep(sweepId), store.info(sweepId)]);
    if (!sweep || !info) {
      o.log.warn("sweep.gone", { sweepId });
      return;
    }
    if (sweepEnded(info)) {
      await store.ended(sweep);
      return;
    }
    const states: CellState[] = sweep.cells.map((cell, i) => ({
      cell,
      info: { ...(info.cells[i] ?? newCellInfo(cell)) },
      frame: null,
    }));
    setStates(states);
    // cancelled between the read and now: the gateway's cancel ends a sweep with no cell running
    if (isCancelled()) for (const s of states) if (s.info.status === "queued") s.info.status = "cancelled";
    const state = states[index];
    // a duplicate job, or one for a cell that ended meanwhile: nothing to run
    if (!state || (state.info.status !== "queued" && state.info.status !== "running")) return;
    // a cell left running by a worker that died is run again from its start
    state.info = newCellInfo(state.cell);
    const snapshot = (): SweepInfo => ({ ...info, queuePosition: null, cells: states.map((s) => ({ ...s.info })) });
    const publish = () => this.publish(sweep, snapshot());
    let files;
    try {
      files = {
        sweepId,
        roomId: sweep.roomId,
        ...(await o.files.resolveImages(sweep.cells[0]!.params, sweep.author.id)),
        store: o.files.store,
        dir: sweepDir(o.files.store, sweepId),
      };
    } catch (error) {
      // an image deleted (or its rights withdrawn) since the sweep was queued: every cell left fails, said why
      for (const s of states) {
        if (s.info.status !== "queued") continue;
        s.info.status = "failed";
        s.info.error = memberVisibleError((error as Error).message);
      }
      await this.end(sweep, snapshot(), states);
      return;
    }
    o.log.info("sweep.cell_started", { sweepId, cell: index, roomId: sweep.roomId, workerId: o.workerId });
    await runSweepCell(
      o.pool,
      files,
      state,
      {
        // a cell stopped because this worker stops is not ended: it is put back below, unannounced
        update: () => {
          if (this.closing) return;
          void publish();
          // the row follows starts and ends, not every iteration
          if (state.info.status !== "running" || state.info.iteration === 0)
            void this.rows.save(sweepId, rowCells(sweep.cells, snapshot()));
        },
        frame: (frame) => {
          const shared = { ...frame, data: Buffer.from(frame.data as Uint8Array).toString("base64") };
          void Promise.all([store.setFrame(shared), o.bus.publish({ type: "sweep-frame", frame: shared })]).catch(
            (error: unknown) => o.log.warn("worker.publish_failed", { error }),
          );
        },
        handle: (handle) => (handle ? this.current.set(sweepId, handle) : this.current.delete(sweepId)),
      },
      o.log,
    );
    if (this.closing && !isCancelled()) {
      // left for the worker that takes the cell over (the dispatcher hands it out again): it runs
      // again there from its start (a cell cancelled by sweep:cancel ends the sweep instead)
      state.info = newCellInfo(state.cell);
      await publish();
      await this.rows.save(sweepId, rowCells(sweep.cells, snapshot()));
      o.log.info("sweep.left", { sweepId, cell: index, workerId: o.workerId });
      return;
    }
    const next = snapshot();
    if (sweepEnded(next)) {
      await this.end(sweep, next, states);
      return;
    }
    // cells left: back in line for the next one
    await Promise.all([
      store.cellEnded(next),
      this.o.bus.publish({ type: "sweep", roomId: sweep.roomId, sweep: next }),
      this.rows.save(sweepId, rowCells(sweep.cells, next)),
    ]).catch((error: unknown) => o.log.warn("worker.publish_failed", { error }));
    o.log.info("sweep.cell_ended", { sweepId, cell: index, workerId: o.workerId, status: state.info.status });
  }

  /** Every cell ended: the state published, the row ended, the room free to sweep again. */
  private async end(sweep: ClusterSweep, info: SweepInfo, states: CellState[]): Promise<void> {
    // the row first: whoever sees the end may start again at once, and the cap counts the rows
    await this.rows.save(sweep.sweepId, rowCells(sweep.cells, info));
    await this.publish(sweep, info);
    await this.store.ended(sweep);
    const cancelled = states.some((s) => s.info.status === "cancelled");
    this.o.log.info("sweep.ended", { sweepId: sweep.sweepId, workerId: this.o.workerId, cancelled });
  }

  private async publish(sweep: ClusterSweep, info: SweepInfo): Promise<void> {
    await Promise.all([
      this.store.setInfo(info),
      this.o.bus.publish({ type: "sweep", roomId: sweep.roomId, sweep: info }),
    ]).catch((error: unknown) => this.o.log.warn("worker.publish_failed", { error }));
  }

  /** Stops the running cells without ending their sweeps: another worker takes them over. */
  async close(): Promise<void> {
    this.closing = true;
    for (const handle of this.current.values()) handle.cancel();
    const stopped = Promise.allSettled([...this.going]);
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
  }
}
