/**
 * Recovery of runs whose holder went away, and the leases that tell which are held: every
 * active run this node holds gets its lease refreshed; a running run nobody holds becomes
 * `interrupted` (resumable from its last checkpoint), a queued one joins this node's queue.
 */
import { readRunParams } from "@atelier/db";
import { memberVisibleError } from "../common/errors.ts";
import { isLeaseHeld, readLease, writeLease } from "./lease.ts";
import { ACTIVE, type LiveRun } from "../common/live-run.ts";
import type { RunCore } from "./core.ts";
import { liveRunFromRow, type RunRow } from "./views.ts";

export class RunRecovery {
  constructor(
    private readonly core: RunCore,
    /** queues an adopted run on this node */
    private readonly enqueue: (run: LiveRun) => Promise<void>,
  ) {}

  /** Refreshes the lease of every run this node holds. */
  async heartbeat(): Promise<void> {
    for (const run of this.core.active.values()) {
      await writeLease(this.core.files.store, run.id, this.core.o.nodeId).catch((error) =>
        this.core.o.log.warn("runs.lease_write_failed", { runId: run.id, error }),
      );
    }
  }

  /**
   * Runs marked running/queued in the database whose holder is gone: running ones become
   * `interrupted` (resumable from their last checkpoint), queued ones join this node's queue.
   */
  async recoverStaleRuns(): Promise<void> {
    const { db, log, rooms, broadcast } = this.core.o;
    if (this.core.closing) return;
    const rows = await db.run.findMany({ where: { status: { in: ACTIVE } }, orderBy: { createdAt: "asc" } });
    for (const row of rows) {
      if (this.core.active.has(row.id)) continue;
      if (isLeaseHeld(await readLease(this.core.files.store, row.id))) continue;
      if (row.status !== "running") {
        await this.adoptQueuedRun(row);
        continue;
      }
      const checkpoint = (await this.core.files.existingCheckpoint(row.checkpointPath)) ? row.checkpointPath : null;
      const error = checkpoint
        ? `the optimiser stopped while this run was going; resume it from its checkpoint at iteration ${row.iterations}`
        : "the optimiser stopped while this run was going, before its first checkpoint";
      const claimed = await db.run.updateMany({
        where: { id: row.id, status: "running" },
        data: { status: "interrupted", error, checkpointPath: checkpoint, finishedAt: new Date(), activeRoomId: null },
      });
      if (claimed.count === 0) continue;
      log.warn("run.interrupted", { runId: row.id, roomId: row.roomId, checkpoint });
      const room = rooms.get(row.roomId);
      if (room?.run?.id === row.id) {
        Object.assign(room.run, { status: "interrupted", error, checkpointPath: checkpoint, finishedAt: new Date() });
        room.run.local = false;
        this.core.recomputeRestartNeeded(room);
        broadcast.runUpdate(room);
      }
    }
  }

  private async adoptQueuedRun(row: RunRow): Promise<void> {
    const { db, log, rooms } = this.core.o;
    const params = readRunParams(row);
    const fail = async (detail: string) => {
      const error = memberVisibleError(detail);
      await db.run.updateMany({
        where: { id: row.id, status: "queued" },
        data: { status: "failed", error, finishedAt: new Date(), activeRoomId: null },
      });
      log.warn("run.adopt_failed", { runId: row.id, error: detail });
    };
    if (!params) return fail("its stored params are no longer valid");
    let paths: { contentPath: string; stylePaths: string[] };
    try {
      paths = await this.core.files.resolveImages(params, row.authorId);
    } catch (error) {
      return fail((error as Error).message);
    }
    const init = row.resumedFromId ? await this.core.files.imageToContinueFrom(row.resumedFromId) : null;
    const run = liveRunFromRow(row, params);
    Object.assign(run, { local: true, ...paths, initImagePath: init });
    // a resumed run queued when the optimiser stopped still counts on from where it resumed
    if (init && row.iterations > 0) run.resumeAt = row.iterations;
    log.info("run.adopted", { runId: run.id, roomId: run.roomId });
    const room = rooms.get(run.roomId);
    if (room) {
      room.attachRun(run);
    }
    await this.enqueue(run);
  }
}
