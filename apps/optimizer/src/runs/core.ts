/**
 * What the parts of the run service share: the options it was built with, the runs this node
 * holds, the learned speeds, and the room-facing helpers every part needs (a run's room, the
 * room's restart-needed fields). Each part (scheduler, launcher, recovery, results, control,
 * starter) gets this object, and what it needs of another part is handed to it by RunManager
 * (runs/manager.ts), which builds them all.
 */
import type { Db } from "@atelier/db";
import type { IterationStats, RoomField } from "@atelier/protocol";
import { expectedBackend, type Settings } from "../config.ts";
import type { Logger } from "../common/log.ts";
import type { LiveRoom, PreviewFrame } from "../rooms/live-room.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";
import { isActive, type LiveRun, type User } from "../common/live-run.ts";
import { restartNeededFields } from "./edits.ts";
import { RunFiles } from "./files.ts";
import { SpeedTracker } from "./speed-model.ts";

/** How the run service tells the room what happened; the server fans it out (and to other nodes). */
export interface RunBroadcaster {
  runUpdate(room: LiveRoom): void;
  stats(room: LiveRoom, stats: IterationStats): void;
  preview(room: LiveRoom, frame: PreviewFrame): void;
  restartNeeded(room: LiveRoom): void;
  resultSaved(
    room: LiveRoom,
    payload: { runId: string; resultId: string; title: string; isPublic: boolean; author: User },
  ): void;
  error(room: LiveRoom, message: string): void;
  /** cluster runs: the room's run moved to another worker, which resumed it from its checkpoint */
  resumed(room: LiveRoom, payload: { runId: string; author: User }): void;
}

/**
 * The settings the run service uses. With `redisUrl` (cluster runs), runs go through the
 * dispatcher and BullMQ to the cluster's workers (worker processes, and this node itself unless
 * its role is "gateway"), and their events come back over the run bus (cluster/gateway-runs.ts).
 */
export type RunSettings = Pick<
  Settings,
  | "dataDir"
  | "workers"
  | "previewFps"
  | "previewMime"
  | "checkpointEvery"
  | "prewarm"
  | "workerIdleMs"
  | "backend"
  | "engineThreads"
  | "testNoOnnx"
  | "limits"
  | "redisUrl"
  | "redisPrefix"
  | "role"
>;

export interface RunManagerOptions extends RunSettings {
  db: Db;
  rooms: RoomRegistry;
  log: Logger;
  broadcast: RunBroadcaster;
  nodeId: string;
}

/** Where a running job's events go: the room and its sockets (embedded), or the run bus (a worker process). */
export interface RunSink {
  /** the run started (or resumed) on a worker: its state changed */
  started(run: LiveRun): void;
  stats(run: LiveRun, stats: IterationStats): void;
  preview(run: LiveRun, frame: PreviewFrame): void;
  /** what the run showed so far, for keeping its outcome: its loss history and last frame */
  shown(run: LiveRun): Promise<{ history: IterationStats[]; preview: PreviewFrame | null }>;
  /** the run ended and its end is recorded; `frame`: the image it left, as a preview */
  ended(run: LiveRun, frame: PreviewFrame | null): void;
}

/** The part of the run service that runs jobs and records their ends, without rooms (a worker process has none). */
export interface RunRuntime {
  readonly o: Pick<
    RunManagerOptions,
    "db" | "dataDir" | "log" | "nodeId" | "previewFps" | "previewMime" | "checkpointEvery" | "backend"
  >;
  readonly files: RunFiles;
  readonly active: Map<string, LiveRun>;
  readonly speed: SpeedTracker;
  backend: string | null;
  adapter: string | null;
  /** the node is shutting down (a run whose engine died then is not resumed here) */
  readonly closing?: boolean;
}

/** The embedded sink: a run's events go to its room (if loaded here and still its run) and the room's sockets. */
export function roomSink(core: RunCore): RunSink {
  const { broadcast } = core.o;
  return {
    started(run) {
      const room = core.roomOf(run);
      if (room) broadcast.runUpdate(room);
    },
    stats(run, stats) {
      const room = core.roomOf(run);
      if (!room) return;
      room.pushStats(stats);
      broadcast.stats(room, stats);
    },
    preview(run, frame) {
      const room = core.roomOf(run);
      if (!room) return;
      room.showPreview(frame);
      broadcast.preview(room, frame);
    },
    shown(run) {
      const room = core.roomOf(run);
      return Promise.resolve({
        history: room ? room.history.filter((h) => h.runId === run.id) : [],
        preview: room?.latestPreview?.runId === run.id ? room.latestPreview : null,
      });
    },
    ended(run, frame) {
      const room = core.roomOf(run);
      if (!room) return;
      core.recomputeRestartNeeded(room);
      broadcast.runUpdate(room);
      // late joiners get the exact kept image; those present already have the worker's last frame
      if (frame) room.showPreview(frame);
    },
  };
}

export class RunCore implements RunRuntime {
  readonly files: RunFiles;
  /** runs this node holds (queued or running), by id */
  readonly active = new Map<string, LiveRun>();
  /** the deployment's speed for estimates before Start (runs/speed-model.ts), learned from completed runs */
  readonly speed: SpeedTracker;
  /** the backend the last worker reported (for /health) */
  backend: string | null = null;
  /** webgpu: the GPU adapter the last worker reported (for /health) */
  adapter: string | null = null;
  closing = false;

  constructor(readonly o: RunManagerOptions) {
    this.files = new RunFiles(o.db, o.dataDir);
    this.speed = new SpeedTracker(expectedBackend(o.backend));
  }

  /** The run's room when it is loaded here and the run is still its run. */
  roomOf(run: LiveRun): LiveRoom | null {
    const room = this.o.rooms.get(run.roomId);
    return room && room.run === run ? room : null;
  }

  /** The fields whose document value differs from what the current run uses and that it cannot follow live. */
  recomputeRestartNeeded(room: LiveRoom): RoomField[] {
    const run = room.run;
    const fields = run && isActive(run.status) ? restartNeededFields(run.params, room.document, run.render) : [];
    if (room.setRestartNeeded(fields)) this.o.broadcast.restartNeeded(room);
    return fields;
  }
}
