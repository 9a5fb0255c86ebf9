/**
 * Sweeps in a cluster (REDIS_URL), the gateway's side: a gateway runs no job. `sweep:start`
 * checks the grid and the images as in embedded mode, then queues the sweep in Redis
 * (sweeps/sweep-store.ts; one going per room across all gateways) for the dispatcher, which hands it to
 * a worker as one job of its user (sweeps/sweep-job.ts). Every gateway hears the sweep's state and
 * frames on the run bus and sends them to its own sockets; late joiners and promotions on any
 * gateway read the sweep from Redis, and the cells' final images from the shared DATA_DIR.
 * `sweep:cancel` ends its queued cells here and tells the worker holding it (the sweep's control
 * channel) to cancel its running cell.
 */
import type { Role, SettingChange, SweepFrame, SweepInfo } from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import type { User } from "../common/live-run.ts";
import type { Logger } from "../common/log.ts";
import type { RunBus } from "../cluster/run-bus.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import type { RunFiles } from "../runs/files.ts";
import { newCellInfo, sweepDir, sweepEnded } from "./sweep-cell.ts";
import { SweepStore } from "./sweep-store.ts";
import {
  planSweep,
  promotionOf,
  sweepCancelRefusal,
  sweepIdMaker,
  type SweepBroadcaster,
  type SweepRequest,
  type Sweeps,
} from "./sweep-manager.ts";

interface ClusterSweepsOptions {
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
  private readonly newId: () => string;

  constructor(private readonly o: ClusterSweepsOptions) {
    this.store = new SweepStore(o.bus.redis, o.bus.prefix, o.log);
    this.newId = sweepIdMaker(o.nodeId);
  }

  /** Follows the sweeps' events on the run bus. */
  async listen(): Promise<void> {
    await this.o.bus.onEvent((event) => {
      if (event.type === "sweep") this.o.broadcast.update(event.roomId, event.sweep);
      if (event.type === "sweep-frame") this.o.broadcast.frame(decodeFrame(event.frame));
    });
  }

  async start(room: LiveRoom, user: User, request: SweepRequest): Promise<SweepInfo> {
    // checked here (images too), with the reason, rather than failing on a worker
    const { sweepId, cells } = await planSweep(this.o.files, room, user, request, this.newId);
    const info: SweepInfo = {
      sweepId,
      author: { userId: user.id, name: user.name },
      ...request,
      queuePosition: null,
      cells: cells.map(newCellInfo),
    };
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
    if (!queued) throw new ServiceError("conflict", "a sweep is already going in this room");
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
    await this.store.setInfo(next);
    // the worker holding it cancels its running cell, ends the sweep and publishes its final state;
    // one not handed to a worker yet ends here (a worker that gets it later finds it ended)
    await this.o.bus.sendControl(sweepId, { type: "cancel" });
    if (sweepEnded(next) || !(await this.store.held()).includes(sweepId)) await this.store.ended(sweep);
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
    return promotionOf(room.document, sweepDir(this.o.files.store, sweepId), cells, index);
  }
}

function decodeFrame(frame: { data: string } & Omit<SweepFrame, "data">): SweepFrame {
  return { ...frame, data: Buffer.from(frame.data, "base64") };
}
