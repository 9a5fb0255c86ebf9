/**
 * Everything the gateway asks of runs, in one file: the run service (RunManager and its parts)
 * and the sweeps with the room broadcasts they report through (in cluster mode every node hears
 * every run on the run bus), a freshly loaded room's latest run, and the client events that
 * start, cancel, sweep and save runs — each calling the run part it needs.
 */
import type { FieldEdit, SpeedModel } from "@atelier/protocol";
import { broadcastActivity, roomKey, type AtelierSocket, type GatewayContext } from "./context.ts";
import { fieldEditOf, type ApplyFieldEdit } from "./document-handlers.ts";
import { toRunInfo } from "../common/live-run.ts";
import type { Presence } from "./presence.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import type { RunSettings } from "../runs/core.ts";
import type { Settings } from "../config.ts";
import { RunManager } from "../runs/manager.ts";
import { roundEta } from "../runs/eta.ts";
import { saveResult } from "../runs/results.ts";
import { attachLatestRun } from "../runs/views.ts";
import { on, requireMember } from "./socket-events.ts";
import type { SweepBroadcaster, Sweeps } from "../sweeps/sweep-manager.ts";
import { SweepManager } from "../sweeps/embedded-sweeps.ts";
import { ClusterSweeps } from "../sweeps/cluster-sweeps.ts";

export interface RunLink {
  runs: RunManager;
  sweeps: Sweeps;
  /**
   * The speed model for the estimate before Start, with the wait a run started now would have
   * behind the jobs this node holds (embedded mode; a gateway holds none and says nothing of it).
   */
  estimateSpeed: () => SpeedModel;
  /** test and drill hooks (they act for real: a killed engine process really dies) */
  debug: {
    terminateWorker(runId: string): Promise<void>;
    /** the process id of the run's engine process on this node (null: none) */
    enginePid(runId: string): number | null;
    /** the next run's engine throws, or aborts natively, at this iteration */
    crashNextRunAt(iteration: number, how?: "throw" | "abort"): void;
  };
  /** recovers or follows the runs and the sweeps before the node takes clients */
  start: () => Promise<void>;
  /** after the runs' shutdown: the sweeps' timers stop and their rows are written */
  close: () => Promise<void>;
  /** the running job follows a document edit where it can; true when the field needs a restart */
  followEdit: (room: LiveRoom, edit: FieldEdit, authorId: string) => boolean;
  registerHandlers: (socket: AtelierSocket, presence: Presence, applyFieldEdit: ApplyFieldEdit) => void;
}

export function createRunLink(ctx: GatewayContext, settings: RunSettings & Pick<Settings, "sweepFilesTtlMs">): RunLink {
  const { io, db, log, rooms, fanout, nodeId } = ctx;
  // cluster runs: every node hears every run event on the run bus, so each one emits to its own sockets only
  const runsOut = settings.redisUrl ? io.local : io;
  const estimateSpeed = (): SpeedModel => {
    const speed = runs.core.speed.current();
    return runs.cluster ? speed : { ...speed, queueWaitSeconds: roundEta(runs.scheduler.newJobWait()) ?? 0 };
  };
  const runs: RunManager = new RunManager({
    ...settings,
    db,
    rooms,
    log,
    nodeId,
    broadcast: {
      runUpdate(room) {
        if (!room.run) return;
        const info = toRunInfo(room.run);
        const serial = JSON.stringify(info);
        if (serial === room.run.lastSentInfo) return;
        room.run.lastSentInfo = serial;
        runsOut.to(roomKey(room.id)).emit("run:update", { roomId: room.id, run: info, speed: estimateSpeed() });
      },
      stats(room, stats) {
        runsOut.to(roomKey(room.id)).emit("run:stats", { ...stats, roomId: room.id });
      },
      preview(_room, frame) {
        fanout.deliver(frame);
      },
      restartNeeded(room) {
        runsOut.to(roomKey(room.id)).emit("room:restart-needed", { roomId: room.id, fields: room.restartNeeded });
      },
      resultSaved(room, p) {
        io.to(roomKey(room.id)).emit("result:saved", {
          roomId: room.id,
          runId: p.runId,
          resultId: p.resultId,
          title: p.title,
          isPublic: p.isPublic,
          author: { userId: p.author.id, name: p.author.name },
        });
      },
      resumed(room, p) {
        runsOut.to(roomKey(room.id)).emit("room:activity", {
          roomId: room.id,
          author: { userId: p.author.id, name: p.author.name },
          kind: "resumed",
          runId: p.runId,
          at: Date.now(),
        });
      },
      error(room, message) {
        io.to(roomKey(room.id)).emit("room:error", { roomId: room.id, code: "internal", error: message });
      },
    },
  });
  const sweepsOut = (to: typeof io | typeof io.local): SweepBroadcaster => ({
    update: (roomId, sweep) => to.to(roomKey(roomId)).emit("sweep:update", { roomId, sweep }),
    frame: (frame) => to.to(roomKey(frame.roomId)).emit("sweep:frame", frame),
  });
  // in a cluster, sweeps go to the workers like runs; every node hears their events on the run bus
  const files = runs.core.files;
  const cluster = runs.cluster;
  const clusterSweeps = cluster
    ? new ClusterSweeps({
        db,
        limits: settings.limits,
        sweepFilesTtlMs: settings.sweepFilesTtlMs,
        bus: cluster.bus,
        files,
        dispatchSoon: () => cluster.dispatchSoon(),
        nodeId,
        log,
        broadcast: sweepsOut(io.local),
      })
    : null;
  const embeddedSweeps = cluster
    ? null
    : new SweepManager({
        db,
        files,
        queue: runs.scheduler,
        limits: settings.limits,
        sweepFilesTtlMs: settings.sweepFilesTtlMs,
        nodeId,
        log,
        broadcast: sweepsOut(io),
      });
  const sweeps: Sweeps = clusterSweeps ?? embeddedSweeps!;

  // a freshly loaded room shows its current run: one this node holds, else its latest Run row
  // (in a cluster with the loss history, position/ETA and last preview from Redis)
  rooms.onLoad(async (room) => {
    await attachLatestRun(runs.core, room);
    await cluster?.fillLive(room);
  });

  function registerHandlers(socket: AtelierSocket, presence: Presence, applyFieldEdit: ApplyFieldEdit): void {
    const user = socket.data.user;
    const member = (roomId: string) => requireMember(ctx, presence, socket, roomId, true);

    on(ctx, socket, "run:start", async ({ roomId, restart, fromRunId, render }) => {
      const { room } = await member(roomId);
      await rooms.catchUp(room);
      const from = fromRunId ? { runId: fromRunId, ...(render ? { render } : {}) } : undefined;
      const run = await runs.starter.startRun(room, user, restart, from);
      if (fromRunId) broadcastActivity(ctx, room.id, user, "continued-from", fromRunId);
      return { run: toRunInfo(run) };
    });

    on(ctx, socket, "sweep:start", async ({ roomId, axes, size, iterations }) => {
      const { room } = await member(roomId);
      await rooms.catchUp(room);
      const sweep = await sweeps.start(room, user, { axes, size, iterations });
      broadcastActivity(ctx, roomId, user, "started-sweep", sweep.sweepId);
      return { sweep };
    });

    // the cell's swept values become the room's (co-edits), and the full-size run starts from its image
    on(ctx, socket, "sweep:promote", async ({ roomId, sweepId, cell }) => {
      const { room } = await member(roomId);
      const promotion = await sweeps.promotion(room, sweepId, cell);
      for (const change of promotion.changes)
        await applyFieldEdit(room, user, fieldEditOf(change.field, change.after), room.version);
      const run = await runs.starter.startRun(room, user, true, { imagePath: promotion.imagePath });
      broadcastActivity(ctx, roomId, user, "promoted", run.id);
      return { run: toRunInfo(run) };
    });

    // its starter or the room's owner (a viewer who started it and was demoted since included)
    on(ctx, socket, "sweep:cancel", async ({ roomId, sweepId }) => {
      const { room, role } = await requireMember(ctx, presence, socket, roomId, false);
      return { sweep: await sweeps.cancel(room, user, role, sweepId) };
    });

    on(ctx, socket, "run:cancel", async ({ roomId }) => {
      const { room } = await member(roomId);
      await runs.starter.cancelRoom(room);
    });

    on(ctx, socket, "result:save", async ({ roomId, runId, title, isPublic, preview }) => {
      const { room } = await member(roomId);
      const resultId = await saveResult(runs.core, room, user, { runId, title, isPublic, preview });
      return { resultId };
    });
  }

  return {
    runs,
    sweeps,
    start: async () => {
      await runs.start();
      await clusterSweeps?.listen();
      await embeddedSweeps?.startUp();
    },
    close: async () => {
      clusterSweeps?.close();
      await embeddedSweeps?.close();
    },
    followEdit: (room, edit, authorId) => runs.control.onDocumentEdit(room, edit, authorId),
    registerHandlers,
    estimateSpeed,
    debug: {
      terminateWorker(runId) {
        const worker = runs.core.active.get(runId)?.worker;
        if (!worker) throw new Error(`run ${runId} has no worker on this node`);
        return worker.terminate();
      },
      enginePid: (runId) => runs.core.active.get(runId)?.worker?.pid ?? null,
      crashNextRunAt(iteration, how = "throw") {
        runs.launcher.crashNextAt = { iteration, how };
      },
    },
  };
}
