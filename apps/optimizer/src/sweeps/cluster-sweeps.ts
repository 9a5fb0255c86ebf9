/**
 * Sweeps in a cluster (REDIS_URL), the gateway's side: a gateway runs no job. `sweep:start`
 * checks the grid, the images and the user's active-job cap as in embedded mode, writes the
 * sweep's database row (sweeps/sweep-rows.ts), then queues it in Redis (sweeps/sweep-store.ts; one
 * going per room across all gateways) for the dispatcher, which hands its cells to the workers
 * one at a time, each a job of its user in the global fair order (sweeps/sweep-job.ts). Every
 * gateway hears the sweep's state and frames on the run bus and sends them to its own sockets;
 * late joiners and promotions on any gateway read the sweep from Redis, and the cells' final
 * images from the shared DATA_DIR. `sweep:cancel` ends its queued cells here and tells the worker
 * holding its cell (the sweep's control channel) to cancel it. Every gateway also removes the
 * files of sweeps that ended more than ATELIER_SWEEP_FILES_TTL_MINUTES ago, and ends the rows of
 * sweeps Redis lost (the rows are the lasting record; both steps are idempotent, so several
 * gateways doing them is harmless).
 */
import type { Db } from "@atelier/db";
import { sweepCancelRefusal, type Role, type SettingChange, type SweepFrame, type SweepInfo } from "@atelier/protocol";
import { countActiveJobs } from "../common/active-jobs.ts";
import { ServiceError } from "../common/errors.ts";
import { activeRunLimitRefusal, type ServiceLimits } from "../common/limits.ts";
import type { User } from "../common/live-run.ts";
import type { Logger } from "../common/log.ts";
import type { RunBus } from "../cluster/run-bus.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import type { RunFiles } from "../runs/files.ts";
import type { Settings } from "../config.ts";
import { newCellInfo, sweepEnded } from "./sweep-cell.ts";
import { rowCells, storedInfo, SweepRows } from "./sweep-rows.ts";
import { SweepStore } from "./sweep-store.ts";
import {
  keptPromotion,
  planSweep,
  sweepIdMaker,
  type SweepBroadcaster,
  type SweepRequest,
  type Sweeps,
} from "./sweep-manager.ts";

/** what the cells of a sweep whose Redis state was lost say (its row ends with it) */
export const LOST = "the cluster lost this sweep's state before this cell finished; start the sweep again";
/** a going row is ended as lost only once its sweep is this old (its Redis keys are written just after the row) */
const LOST_AFTER_MS = 60_000;

interface ClusterSweepsOptions extends Pick<Settings, "sweepFilesTtlMs"> {
  db: Db;
  limits: ServiceLimits;
  bus: RunBus;
  /** the images a sweep uses, and where its files go */
  files: RunFiles;
  /** the dispatcher looks at the queue now rather than on its next round */
  dispatchSoon: () => void;
  nodeId: string;
  log: Logger;
  /** to this gateway's own sockets: every gateway hears every sweep event */
  broadcast: SweepBroadcaster;
}

export class ClusterSweeps implements Sweeps {
  private readonly store: SweepStore;
  private readonly rows: SweepRows;
  private readonly newId: () => string;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: ClusterSweepsOptions) {
    this.store = new SweepStore(o.bus.redis, o.bus.prefix, o.log);
    this.rows = new SweepRows(o.db, o.log);
    this.newId = sweepIdMaker(o.nodeId);
  }

  /** Follows the sweeps' events on the run bus; then keeps the rows and files tidy (housekeeping). */
  async listen(): Promise<void> {
    await this.o.bus.onEvent((event) => {
      if (event.type === "sweep") this.o.broadcast.update(event.roomId, event.sweep);
      if (event.type === "sweep-frame") this.o.broadcast.frame(decodeFrame(event.frame));
    });
    // often enough that files outlive the TTL by at most a quarter of it (and at most 10 minutes)
    const every = Math.min(10 * 60_000, Math.max(1_000, this.o.sweepFilesTtlMs / 4));
    this.timer = setInterval(() => void this.housekeeping(), every);
    this.timer.unref();
    await this.housekeeping();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Removes the files of sweeps that ended more than the TTL ago, and ends (visibly, on every
   * gateway) the going rows whose sweep Redis no longer has — Redis lost its state — so they
   * stop counting against their author's cap. Never throws.
   */
  async housekeeping(now = Date.now()): Promise<void> {
    try {
      const lost = await this.rows.endInterrupted(
        LOST,
        async (id) => (await this.store.sweep(id)) !== null,
        new Date(now - LOST_AFTER_MS),
      );
      for (const sweep of lost) {
        this.o.log.warn("sweep.lost", { sweepId: sweep.id, roomId: sweep.roomId });
        await this.o.bus.publish({ type: "sweep", roomId: sweep.roomId, sweep: storedInfo(sweep) });
      }
      await this.rows.removeExpiredFiles(this.o.files.store, this.o.sweepFilesTtlMs, now);
    } catch (error) {
      this.o.log.warn("sweep.housekeeping_failed", { error });
    }
  }

  async start(room: LiveRoom, user: User, request: SweepRequest): Promise<SweepInfo> {
    // the cap is a database rule, as for runs (runs/starter.ts): the Run and Sweep rows are what
    // every gateway shares and what outlives Redis, so a count there holds across gateways and
    // after a Redis restart (a Redis counter would be a second truth to keep in step)
    const tooMany = activeRunLimitRefusal(await countActiveJobs(this.o.db, user.id), this.o.limits);
    if (tooMany) throw new ServiceError("limit", tooMany);
    // checked here (images too), with the reason, rather than failing on a worker
    const { sweepId, cells } = await planSweep(this.o.files, room, user, request, this.newId);
    const info: SweepInfo = {
      sweepId,
      author: { userId: user.id, name: user.name },
      ...request,
      queuePosition: null,
      cells: cells.map(newCellInfo),
    };
    // the row first: a sweep the database does not know never runs (nor escapes the cap)
    await this.rows.create({
      id: sweepId,
      roomId: room.id,
      author: user,
      request,
      cells: rowCells(cells, info),
    });
    const queued = await this.store.create(
      {
        sweepId,
        roomId: room.id,
        author: { id: user.id, name: user.name },
        cells,
        ...request,
        createdAt: Date.now(),
      },
      info,
    );
    if (!queued) {
      await this.rows.remove(sweepId);
      throw new ServiceError("conflict", "a sweep is already going in this room");
    }
    this.o.log.info("sweep.queued", { sweepId, roomId: room.id, userId: user.id, cells: info.cells.length });
    await this.o.bus.publish({ type: "sweep", roomId: room.id, sweep: info });
    this.o.dispatchSoon();
    return info;
  }

  async cancel(room: LiveRoom, user: User, role: Role, sweepId: string): Promise<SweepInfo> {
    const [sweep, info] = await Promise.all([this.store.sweep(sweepId), this.store.info(sweepId)]);
    if (!sweep || !info || sweep.roomId !== room.id) throw new ServiceError("not_found", "no such sweep in this room");
    const refusal = sweepCancelRefusal(sweep.author.id, user, role);
    if (refusal) throw new ServiceError("forbidden", refusal);
    if (sweepEnded(info)) return info;
    const next: SweepInfo = {
      ...info,
      queuePosition: null,
      cells: info.cells.map((c) => (c.status === "queued" ? { ...c, status: "cancelled" } : c)),
    };
    // one with no cell on a worker ends here (a worker that gets its cell later finds it ended),
    // out of the dispatcher's sets before its state is written: the dispatcher then no longer
    // writes its queue position over the cancel (sweep-store.ts setWaitingInfo)
    if (sweepEnded(next) || !(await this.store.held()).includes(sweepId)) await this.store.ended(sweep);
    await this.store.setInfo(next);
    await this.rows.save(sweepId, rowCells(sweep.cells, next));
    // the worker holding its running cell cancels it, ends the sweep and publishes its final state
    await this.o.bus.sendControl(sweepId, { type: "cancel" });
    await this.o.bus.publish({ type: "sweep", roomId: room.id, sweep: next });
    this.o.log.info("sweep.cancelled", { sweepId, roomId: room.id, userId: user.id });
    return next;
  }

  async snapshot(roomId: string): Promise<{ sweep: SweepInfo; frames: SweepFrame[] } | null> {
    const sweepId = await this.store.latest(roomId);
    const sweep = sweepId ? await this.store.info(sweepId) : null;
    if (!sweepId || !sweep) return null;
    return { sweep, frames: (await this.store.frames(sweepId)).map(decodeFrame) };
  }

  async promotion(
    room: LiveRoom,
    sweepId: string,
    index: number,
  ): Promise<{ changes: SettingChange[]; imagePath: string }> {
    const [sweep, info] = await Promise.all([this.store.sweep(sweepId), this.store.info(sweepId)]);
    if (!sweep || !info || sweep.roomId !== room.id) throw new ServiceError("not_found", "no such sweep in this room");
    const cells = sweep.cells.map((cell, i) => ({ cell, info: info.cells[i] ?? newCellInfo(cell) }));
    return keptPromotion(room.document, this.o.files.store, sweepId, cells, index);
  }
}

function decodeFrame(frame: { data: string } & Omit<SweepFrame, "data">): SweepFrame {
  return { ...frame, data: Buffer.from(frame.data, "base64") };
}
