/**
 * What counts against a user's active-job cap (limits.activeRunsPerUser): their queued and running
 * runs over all rooms, and their going sweeps — ONE each, whatever its size. A sweep is one job
 * because its cells queue one at a time (sweeps/embedded-sweep.ts; in a cluster one BullMQ job per
 * cell, sweeps/sweep-job.ts): it never holds more than one slot, and between two cells it gives
 * the slot to other users' jobs in fair order. The count is read from the database in both modes:
 * every gateway of a cluster shares it.
 */
import type { Db } from "@atelier/db";
import { ACTIVE } from "./live-run.ts";

/** the Sweep row statuses of a going sweep (sweeps/sweep-rows.ts) */
const GOING_SWEEP = ["queued", "running"];

/** The user's active jobs: runs (but `exceptRunIds`, e.g. the one a restart replaces) and sweeps. */
export async function countActiveJobs(db: Db, userId: string, exceptRunIds: string[] = []): Promise<number> {
  const [runs, sweeps] = await Promise.all([
    db.run.count({ where: { authorId: userId, status: { in: ACTIVE }, id: { notIn: exceptRunIds } } }),
    db.sweep.count({ where: { authorId: userId, status: { in: GOING_SWEEP } } }),
  ]);
  return runs + sweeps;
}
