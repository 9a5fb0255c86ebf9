/**
 * The gateway's side of cluster runs: a gateway never runs a job. It hands new runs to the
 * dispatcher (which queues them on BullMQ for the workers), mirrors what the workers publish
 * on the run bus into its loaded rooms (state, stats, previews) for its own sockets, sends
 * cancels and live edits to the worker holding a run, and gives late joiners the run's
 * capped loss history, position/ETA and last preview from Redis.
 */
import type { FieldEdit, RunEvent } from "@atelier/protocol";
import { isActive, toRunInfo, type LiveRun } from "../common/live-run.ts";
import { RunBus } from "./run-bus.ts";
import type { RunCore } from "../runs/core.ts";
import type { Settings } from "../config.ts";
import { RunDispatcher } from "./dispatcher.ts";
import { mirrorRemote } from "../runs/views.ts";
import type { LiveRoom, PreviewFrame } from "../rooms/live-room.ts";

/** how long a cancel waits for the worker to report the run's end */
const CANCEL_WAIT_MS = 20_000;

export class ClusterRuns {
  readonly bus: RunBus;
  private readonly dispatcher: RunDispatcher;
  /** cancels waiting for their run's end, by run id */
  private readonly ending = new Map<string, (() => void)[]>();

  constructor(
    private readonly core: RunCore,
    options: Pick<Settings, "redisPrefix"> & { redisUrl: string },
  ) {
    const { db, log, nodeId } = core.o;
    this.bus = new RunBus(options.redisUrl, options.redisPrefix, log);
    this.dispatcher = new RunDispatcher({
      db,
      bus: this.bus,
      log,
      redisUrl: options.redisUrl,
      nodeId,
      files: core.files.store,
      referenceRate: () => core.speed.current().msPerPixelIteration,
    });
  }

  async start(): Promise<void> {
    await this.bus.onEvent((event) => this.onEvent(event));
    this.dispatcher.start();
  }

  /** A run was created (status queued): every gateway learns of it, the dispatcher queues it on its next round. */
  async submitted(run: LiveRun, initImagePath: string | null): Promise<void> {
    // an image that is not a run's (a promoted sweep cell): the worker reads where it is from Redis
    if (initImagePath && !run.resumedFromId)
      await this.bus.setInitImage(run.id, this.core.files.relative(initImagePath));
    void this.bus
      .publish({ type: "state", roomId: run.roomId, run: toRunInfo(run), workerId: null })
      .catch((error: unknown) => this.core.o.log.warn("cluster.publish_failed", { error }));
    this.dispatchSoon();
  }

  /** The dispatcher looks at the queue now rather than on its next round (a run or a sweep was queued). */
  dispatchSoon(): void {
    void this.dispatcher.tick();
  }

  /**
   * Cancels a run held in the cluster: a run still queued in the database is cancelled there;
   * a running one is stopped by its worker, which records the end. Resolves whether it ended.
   */
  async cancel(run: LiveRun): Promise<boolean> {
    const { db } = this.core.o;
    const dropped = await db.run.updateMany({
      where: { id: run.id, status: "queued" },
      data: { status: "cancelled", finishedAt: new Date(), activeRoomId: null },
    });
    if (dropped.count === 1) {
      run.status = "cancelled";
      run.queuePosition = null;
      run.etaSeconds = null;
      await this.bus.publish({ type: "state", roomId: run.roomId, run: toRunInfo(run), workerId: null });
      return true;
    }
    const ended = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), CANCEL_WAIT_MS);
      timer.unref();
      const waiting = this.ending.get(run.id) ?? [];
      waiting.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      this.ending.set(run.id, waiting);
    });
    await this.bus.sendControl(run.id, { type: "cancel" });
    return ended;
  }

  /** A document edit: the worker holding the room's run follows it if it is live (repeats are ignored there). */
  forwardEdit(run: LiveRun, edit: FieldEdit, authorId: string): void {
    void this.bus
      .sendControl(run.id, { type: "edit", field: edit.field, value: edit.value, authorId })
      .catch((error: unknown) => this.core.o.log.warn("cluster.publish_failed", { error }));
  }

  /** A freshly loaded room with a live run: its history, position/ETA and last preview from Redis. */
  async fillLive(room: LiveRoom): Promise<void> {
    const run = room.run;
    if (!run || !isActive(run.status)) return;
    const [info, history, preview] = await Promise.all([
      this.bus.info(run.id),
      this.bus.history(run.id),
      this.bus.preview(run.id),
    ]);
    if (info) mirrorRemote(room, info, room.restartNeeded);
    room.showRun(history, preview ? { ...preview, data: Buffer.from(preview.data, "base64") } : null);
  }

  private onEvent(event: RunEvent): void {
    const { rooms, broadcast, log } = this.core.o;
    // sweeps' events: sweeps/cluster-sweeps.ts
    if (event.type === "sweep" || event.type === "sweep-frame") return;
    if (event.type === "resumed") {
      log.warn("run.resumed_elsewhere", { ...event });
      const resumedRoom = rooms.get(event.roomId);
      if (resumedRoom?.run?.id !== event.runId) return;
      // the iterations after the checkpoint are redone: the chart goes on from there, not twice
      resumedRoom.rewindHistory(event.runId, event.iteration);
      void this.tellResumed(resumedRoom, resumedRoom.run);
      return;
    }
    const roomId = event.type === "preview" ? event.frame.roomId : event.roomId;
    const room = rooms.get(roomId);
    if (event.type === "state") {
      if (!isActive(event.run.status)) {
        for (const resolve of this.ending.get(event.run.runId) ?? []) resolve();
        this.ending.delete(event.run.runId);
      }
      if (!room) return;
      mirrorRemote(room, event.run, room.restartNeeded);
      this.core.recomputeRestartNeeded(room);
      broadcast.runUpdate(room);
      return;
    }
    if (!room || room.run?.id !== (event.type === "stats" ? event.stats.runId : event.frame.runId)) return;
    if (event.type === "stats") {
      room.pushStats(event.stats);
      broadcast.stats(room, event.stats);
      return;
    }
    const frame: PreviewFrame = { ...event.frame, data: Buffer.from(event.frame.data, "base64") };
    room.showPreview(frame);
    broadcast.preview(room, frame);
  }

  private async tellResumed(room: LiveRoom, run: LiveRun): Promise<void> {
    const author = await this.core.o.db.user
      .findUnique({ where: { id: run.authorId }, select: { id: true, name: true } })
      .catch(() => null);
    this.core.o.broadcast.resumed(room, {
      runId: run.id,
      author: { id: run.authorId, name: author?.name ?? "someone" },
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
    await this.bus.close();
  }
}
