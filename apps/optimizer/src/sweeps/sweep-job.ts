/**
 * A cluster worker's side of sweeps: a BullMQ "sweep" job runs the sweep's cells one after
 * another on this process's engine processes (sweeps/sweep-cell.ts, as in embedded mode), holding one
 * slot like a run, and publishes the grid's state and each cell's frames on the run bus (every
 * gateway fans them out to its sockets) and into Redis (late joiners on any gateway). A sweep
 * another worker left (killed, or stopped) comes back to a worker with its finished cells kept:
 * the cell it was running is run again from its start, the rest follow.
 */
import type { ClusterSweep, SweepInfo } from "@atelier/protocol";
import { memberVisibleError } from "../common/errors.ts";
import type { JobHandle, WorkerPool } from "../engine-slots/slot-pool.ts";
import type { Logger } from "../common/log.ts";
import type { RunBus } from "../cluster/run-bus.ts";
import type { RunFiles } from "../runs/files.ts";
import { newCellInfo, runSweepCell, sweepDir, sweepEnded, type CellState } from "./sweep-cell.ts";
import { SweepStore } from "./sweep-store.ts";

/** how long a stopping worker waits for its running cell to stop */
const STOP_WAIT_MS = 10_000;

interface SweepWorkerOptions {
  bus: RunBus;
  pool: WorkerPool;
  files: RunFiles;
  log: Logger;
  workerId: string;
}

export class SweepWorker {
  private readonly store: SweepStore;
  /** the running cells' handles, by sweep id (to stop them when the worker stops) */
  private readonly current = new Map<string, JobHandle>();
  private readonly going = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly o: SweepWorkerOptions) {
    this.store = new SweepStore(o.bus.redis, o.bus.prefix, o.log);
  }

  get running(): number {
    return this.going.size;
  }

  /** Runs the sweep's cells that have not ended; resolves when they all did (or this worker stops). */
  process(sweepId: string): Promise<void> {
    const going = this.run(sweepId).finally(() => this.going.delete(going));
    this.going.add(going);
    return going;
  }

  private async run(sweepId: string): Promise<void> {
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
    const states: CellState[] = sweep.cells.map((cell, i) => {
      const known = info.cells[i];
      // a cell left running by a worker that died is run again from its start
      const cellInfo = known && known.status !== "running" ? { ...known } : newCellInfo(cell);
      return { cell, info: cellInfo, frame: null };
    });
    const publish = () => this.publish(sweep, info, states);
    info.queuePosition = null;
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
      for (const state of states) {
        if (state.info.status !== "queued") continue;
        state.info.status = "failed";
        state.info.error = memberVisibleError((error as Error).message);
      }
      await publish();
      await store.ended(sweep);
      return;
    }
    o.log.info("sweep.started", { sweepId, roomId: sweep.roomId, workerId: o.workerId });
    // sweep:cancel (sweeps/cluster-sweeps.ts): the running cell stops, the queued ones never run
    let cancelled = false;
    const stopListening = await o.bus.onControl(sweepId, (control) => {
      if (control.type !== "cancel") return;
      cancelled = true;
      for (const state of states) if (state.info.status === "queued") state.info.status = "cancelled";
      this.current.get(sweepId)?.cancel();
    });
    await publish();
    for (const state of states) {
      if (this.closing || cancelled) break;
      if (state.info.status !== "queued") continue;
      await runSweepCell(
        o.pool,
        files,
        state,
        {
          // a cell stopped because this worker stops is not ended: it is put back below, unannounced
          update: () => void (this.closing ? undefined : publish()),
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
    }
    await stopListening();
    if (this.closing && !cancelled) {
      // left for the worker that takes the job over: the cell stopped half-way runs again there
      // (a cell cancelled by sweep:cancel ends the sweep instead, above)
      for (const state of states) {
        if (state.info.status === "running" || state.info.status === "cancelled") state.info = newCellInfo(state.cell);
      }
      await publish();
      o.log.info("sweep.left", { sweepId, workerId: o.workerId });
      return;
    }
    if (cancelled) await publish();
    await store.ended(sweep);
    o.log.info("sweep.ended", { sweepId, workerId: o.workerId, cancelled });
  }

  private async publish(sweep: ClusterSweep, info: SweepInfo, states: CellState[]): Promise<void> {
    const next: SweepInfo = { ...info, cells: states.map((s) => ({ ...s.info })) };
    await Promise.all([
      this.store.setInfo(next),
      this.o.bus.publish({ type: "sweep", roomId: sweep.roomId, sweep: next }),
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
