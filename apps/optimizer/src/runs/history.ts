/**
 * A room's runs as history: the strip's list, one run's loss curve, the settings of an earlier
 * run (to restore them) — read from the Run rows, with the room's live run overlaid so the
 * strip never shows a stale status for the run that is going.
 */
import { readLossHistory, readRunParams, type Db } from "@atelier/db";
import {
  MAX_HISTORY_RUNS,
  type IterationStats,
  type RunParams,
  type RunStatus,
  type RunSummary,
} from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import type { LiveRoom } from "../rooms/live-room.ts";

/** The room's runs, newest first; rows whose stored params no longer parse are left out. */
export async function listRoomRuns(db: Db, room: LiveRoom): Promise<RunSummary[]> {
  const rows = await db.run.findMany({
    where: { roomId: room.id },
    orderBy: { createdAt: "desc" },
    take: MAX_HISTORY_RUNS,
    include: { author: { select: { name: true, email: true } } },
  });
  const summaries: RunSummary[] = [];
  for (const row of rows) {
    const live = room.run?.id === row.id ? room.run : null;
    const params = live?.params ?? readRunParams(row);
    if (!params) continue;
    summaries.push({
      runId: row.id,
      status: (live?.status ?? row.status) as RunStatus,
      author: { userId: row.authorId, name: row.author.name ?? row.author.email.split("@")[0]! },
      createdAt: row.createdAt.toISOString(),
      iteration: live?.iteration ?? row.iterations,
      iterations: params.iterations,
      params,
      finalImageId: live?.finalImageId ?? row.finalImageId,
      resumedFromId: row.resumedFromId,
    });
  }
  return summaries;
}

async function roomRunRow(db: Db, roomId: string, runId: string) {
  const row = await db.run.findFirst({ where: { id: runId, roomId } });
  if (!row) throw new ServiceError("not_found", `run ${runId} is not a run of this room`);
  return row;
}

/** One run's loss curve: the room's in-memory one for its current run, else the stored one. */
export async function runCurveOf(db: Db, room: LiveRoom, runId: string): Promise<IterationStats[]> {
  if (room.run?.id === runId) return room.history.filter((h) => h.runId === runId);
  return readLossHistory(await roomRunRow(db, room.id, runId));
}

/** The settings an earlier run of the room used (after its live edits). */
export async function runSettingsOf(db: Db, roomId: string, runId: string): Promise<RunParams> {
  const params = readRunParams(await roomRunRow(db, roomId, runId));
  if (!params) throw new ServiceError("not_found", "that run's stored settings can no longer be read");
  return params;
}
