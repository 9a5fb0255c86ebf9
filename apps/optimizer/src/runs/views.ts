/**
 * A room's view of its runs: the live run object made from a Run row, the current run a freshly
 * loaded room shows (held here, else the latest row with its kept chart and image), and the
 * copy of a run another node (or worker) reports.
 */
import { readRunParams, type Db } from "@atelier/db";
import type { RoomField, RunInfo, RunParams, RunStatus } from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import { isActive, newLiveRun, type LiveRun } from "../common/live-run.ts";
import type { RunCore } from "./core.ts";
import { restoreRunView } from "./outcome.ts";
import type { LiveRoom } from "../rooms/live-room.ts";

export type RunRow = Awaited<ReturnType<Db["run"]["findFirstOrThrow"]>>;

export function liveRunFromRow(row: RunRow, params: RunParams): LiveRun {
  return newLiveRun({
    id: row.id,
    roomId: row.roomId,
    authorId: row.authorId,
    status: row.status as RunStatus,
    params,
    iteration: row.iterations,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    computeMs: row.computeMs ?? 0,
    backend: row.backend,
    modelHash: row.modelHash,
    checkpointPath: row.checkpointPath,
    error: row.error,
    resumedFromId: row.resumedFromId,
    finalImageId: row.finalImageId,
  });
}

/** Gives a freshly loaded room its current run: one this node holds, else the latest Run row. */
export async function attachLatestRun(core: RunCore, room: LiveRoom): Promise<void> {
  for (const run of core.active.values()) {
    if (run.roomId === room.id) {
      room.attachRun(run);
      return;
    }
  }
  const row = await core.o.db.run.findFirst({ where: { roomId: room.id }, orderBy: { createdAt: "desc" } });
  if (!row) return;
  const params = readRunParams(row);
  if (!params) {
    core.o.log.warn("run.params_unreadable", { runId: row.id });
    return;
  }
  const run = liveRunFromRow(row, params);
  const results = await core.o.db.result.findMany({
    where: { runId: row.id },
    select: { id: true },
    orderBy: { createdAt: "asc" },
  });
  run.resultIds = results.map((r) => r.id);
  room.attachRun(run);
  // the ended run's chart and image come from the database: they survive an optimiser restart
  const checkpoint = await core.files.existingCheckpoint(row.checkpointPath);
  const view = await restoreRunView(core.o.db, core.o.dataDir, row, checkpoint);
  room.showRun(view.history, view.frame);
}

/** A run of the room by id: the room's current one, else its row (with its results). */
export async function findRoomRun(core: RunCore, room: LiveRoom, runId: string): Promise<LiveRun> {
  if (room.run?.id === runId) return room.run;
  const row = await core.o.db.run.findFirst({ where: { id: runId, roomId: room.id } });
  const params = row ? readRunParams(row) : null;
  if (!row || !params) throw new ServiceError("not_found", `run ${runId} is not a run of this room`);
  const run = liveRunFromRow(row, params);
  const results = await core.o.db.result.findMany({ where: { runId }, select: { id: true } });
  run.resultIds = results.map((r) => r.id);
  return run;
}

/**
 * Cluster mode: another node reports the state of a room's run (it holds the job). This
 * node keeps a copy so its late joiners see the run too.
 */
export function mirrorRemote(room: LiveRoom, info: RunInfo | null, restartNeeded: RoomField[]): void {
  if (info) {
    const own = room.run?.local && isActive(room.run.status);
    if (own && room.run!.id !== info.runId) return; // this node's own run is the room's run
    if (!own) {
      let run = room.run;
      if (!run || run.id !== info.runId) {
        run = mirrorOf(room.id, info);
        room.attachRun(run);
      }
      Object.assign(run, {
        status: info.status,
        params: info.params,
        iteration: info.iteration,
        queuePosition: info.queuePosition,
        etaSeconds: info.etaSeconds,
        error: info.error,
        resultIds: [...info.resultIds],
        finalImageId: info.finalImageId ?? null,
      });
    }
  }
  room.setRestartNeeded(restartNeeded);
}

function mirrorOf(roomId: string, info: RunInfo): LiveRun {
  return newLiveRun({
    id: info.runId,
    roomId,
    authorId: info.authorId,
    status: info.status,
    params: info.params,
    iteration: info.iteration,
    createdAt: new Date(),
    error: info.error,
    resultIds: [...info.resultIds],
    queuePosition: info.queuePosition,
    etaSeconds: info.etaSeconds,
  });
}
