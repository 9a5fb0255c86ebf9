import { z } from "zod";
import { id } from "./ids.ts";
import { MAX_LOSS_HISTORY, iterationStats, runStatus, type IterationStats } from "./runs.ts";
import { ROOM_FIELDS, runParams, type RoomDocument, type RoomField } from "./params.ts";

/*
 * A room's runs as history: what each run keeps once it ends (its loss curve, capped so one
 * run's record stays bounded whatever its length), how the strip lists runs, how two runs'
 * settings differ, and the history events (list, view, restore, activity).
 */

/** A run's kept loss curve, oldest point first, at most MAX_LOSS_HISTORY points. */
export const lossHistory = z.array(iterationStats).max(MAX_LOSS_HISTORY);

/** The newest `max` points of a loss curve (the start of a very long run is what gets dropped). */
export function capLossHistory(history: readonly IterationStats[], max = MAX_LOSS_HISTORY): IterationStats[] {
  return history.length > max ? history.slice(history.length - max) : [...history];
}

/** How many of a room's runs the history strip lists (newest first). */
export const MAX_HISTORY_RUNS = 30;

/** One run of a room's history, as the strip shows it. */
export const runSummary = z.object({
  runId: id,
  status: runStatus,
  author: z.object({ userId: id, name: z.string() }),
  /** ISO time the run was started */
  createdAt: z.string(),
  iteration: z.number().int(),
  iterations: z.number().int(),
  params: runParams,
  /** the image the run left (null: it painted nothing, or has not ended) */
  finalImageId: id.nullable(),
  /** the run whose image this one started from */
  resumedFromId: id.nullable(),
});
export type RunSummary = z.infer<typeof runSummary>;

/** One setting that differs between two runs. */
export interface SettingChange {
  field: RoomField;
  before: unknown;
  after: unknown;
}

/**
 * The settings `after` changed relative to `before` (every room field, images included), in the
 * document's field order; all of them when there is no earlier run to compare with.
 */
export function settingsDiff(before: RoomDocument | null, after: RoomDocument): SettingChange[] {
  if (!before) return [];
  const changes: SettingChange[] = [];
  for (const field of ROOM_FIELDS) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field]))
      changes.push({ field, before: before[field], after: after[field] });
  }
  return changes;
}
