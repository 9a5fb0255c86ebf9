/**
 * Sweeps in the database (the `Sweep` table): the row is written when a sweep is queued and again
 * whenever a cell starts or ends (embedded: by this process; cluster: by the gateway that queued or
 * cancelled it and by the worker running its cell), so a sweep outlives the process that ran it. What the rows give:
 * the per-user cap counts going sweeps (one sweep = one active job, see common/limits.ts), a
 * restart ends the sweeps a stopped process left going with a visible reason on each unfinished
 * cell, a room loaded after a restart still shows (and can promote from) its latest sweep, and
 * ended sweeps' files are removed after a TTL.
 */
import fs from "node:fs/promises";
import type { Db } from "@atelier/db";
import type { FileStore } from "@atelier/files";
import { storedSweepCells, storedSweepRequest, type SweepCell, type SweepInfo } from "@atelier/protocol";
import type { Logger } from "../common/log.ts";
import type { SweepRequest } from "./sweep-manager.ts";
import { newCellInfo, sweepDir, type CellInfo } from "./sweep-cell.ts";

/** a sweep whose process stopped: what its unfinished cells say */
export const INTERRUPTED = "the optimiser stopped before this cell finished; start the sweep again";

/** queued (no cell started yet), running, ended (every cell ended) */
export type SweepRowStatus = "queued" | "running" | "ended";
/** the statuses of a going sweep (it counts against its author's cap: common/active-jobs.ts) */
const GOING_SWEEP: SweepRowStatus[] = ["queued", "running"];

export interface StoredSweep {
  id: string;
  roomId: string;
  authorId: string;
  status: SweepRowStatus;
  request: SweepRequest;
  authorName: string;
  cells: { cell: SweepCell; info: CellInfo }[];
  endedAt: Date | null;
}

/** The row's status from its cells: ended when none is queued or running, running once one started. */
export function sweepRowStatus(cells: Pick<CellInfo, "status">[]): SweepRowStatus {
  if (cells.every((c) => c.status !== "queued" && c.status !== "running")) return "ended";
  return cells.some((c) => c.status !== "queued") ? "running" : "queued";
}

/**
 * The cells of a sweep whose process stopped: those not ended fail, saying why (a cell is a short
 * preview; the room starts the sweep again rather than the service resuming it unasked).
 */
export function interruptedCells(cells: CellInfo[], reason: string): CellInfo[] {
  return cells.map((c) =>
    c.status === "queued" || c.status === "running" ? { ...c, status: "failed", error: reason } : c,
  );
}

/** A sweep's cells with their state, as its row keeps them (a cluster sweep's are in Redis apart). */
export function rowCells(cells: SweepCell[], info: Pick<SweepInfo, "cells">): { cell: SweepCell; info: CellInfo }[] {
  return cells.map((cell, i) => ({ cell, info: { ...(info.cells[i] ?? newCellInfo(cell)) } }));
}

export function storedInfo(sweep: StoredSweep): SweepInfo {
  return {
    sweepId: sweep.id,
    author: { userId: sweep.authorId, name: sweep.authorName },
    ...sweep.request,
    queuePosition: null,
    cells: sweep.cells.map((c) => ({ ...c.info })),
  };
}

export class SweepRows {
  /** each sweep's writes, one after another (a later state never lands before an earlier one) */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  async create(p: {
    id: string;
    roomId: string;
    author: { id: string; name: string };
    request: SweepRequest;
    cells: { cell: SweepCell; info: CellInfo }[];
  }): Promise<void> {
    await this.db.sweep.create({
      data: {
        id: p.id,
        roomId: p.roomId,
        authorId: p.author.id,
        request: JSON.stringify({ ...p.request, authorName: p.author.name }),
        cells: JSON.stringify(p.cells),
        status: sweepRowStatus(p.cells.map((c) => c.info)),
      },
    });
  }

  /** Records the cells' state (queued behind the sweep's earlier writes; a failure is logged). */
  save(id: string, cells: { cell: SweepCell; info: CellInfo }[]): Promise<void> {
    const snapshot = JSON.stringify(cells);
    const status = sweepRowStatus(cells.map((c) => c.info));
    const previous = this.writes.get(id) ?? Promise.resolve();
    const next = previous
      .then(() =>
        this.db.sweep.update({
          where: { id },
          data: { cells: snapshot, status, endedAt: status === "ended" ? new Date() : null },
        }),
      )
      .then(
        () => undefined,
        (error: unknown) => this.log.warn("sweep.save_failed", { sweepId: id, error }),
      )
      .finally(() => {
        if (this.writes.get(id) === next) this.writes.delete(id);
      });
    this.writes.set(id, next);
    return next;
  }

  /** A row whose sweep was refused after all (cluster: another sweep is going in its room). */
  async remove(id: string): Promise<void> {
    await this.db.sweep.delete({ where: { id } });
  }

  /** Every pending write done (shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  /** The room's latest sweep (or the one named), null when it has none. */
  async find(roomId: string, sweepId?: string): Promise<StoredSweep | null> {
    const row = await this.db.sweep.findFirst({
      where: { roomId, ...(sweepId ? { id: sweepId } : {}) },
      orderBy: { createdAt: "desc" },
    });
    return row ? this.parse(row) : null;
  }

  /**
   * Ends the sweeps that a stopped process left going (none of this process's own: it calls this
   * before it runs any): their unfinished cells fail with `reason`. Returns them.
   */
  async endInterrupted(
    reason: string,
    heldElsewhere: (sweepId: string) => Promise<boolean>,
    /** only rows created before this (a cluster gateway: not one whose sweep is being queued now) */
    createdBefore?: Date,
  ): Promise<StoredSweep[]> {
    const rows = await this.db.sweep.findMany({
      where: { status: { in: GOING_SWEEP }, ...(createdBefore ? { createdAt: { lt: createdBefore } } : {}) },
    });
    const ended: StoredSweep[] = [];
    for (const row of rows) {
      // another live node on the same database and files runs it (its lease is fresh)
      if (await heldElsewhere(row.id)) continue;
      const sweep = this.parse(row);
      if (!sweep) continue;
      const cells = interruptedCells(
        sweep.cells.map((c) => c.info),
        reason,
      );
      sweep.cells = sweep.cells.map((c, i) => ({ cell: c.cell, info: cells[i]! }));
      sweep.status = "ended";
      await this.db.sweep.update({
        where: { id: sweep.id },
        data: { cells: JSON.stringify(sweep.cells), status: "ended", endedAt: new Date() },
      });
      ended.push(sweep);
    }
    return ended;
  }

  /**
   * Removes the files of sweeps that ended more than `ttlMs` ago (their cells' images and
   * checkpoints) and marks them removed; returns the ids. A sweep whose files are gone can no
   * longer be promoted (promotionOf says so).
   */
  async removeExpiredFiles(store: FileStore, ttlMs: number, now = Date.now()): Promise<string[]> {
    const rows = await this.db.sweep.findMany({
      where: { status: "ended", filesRemovedAt: null, endedAt: { lt: new Date(now - ttlMs) } },
      select: { id: true, cells: true },
    });
    for (const row of rows) await this.removeFiles(store, row.id, cellCount(row.cells));
    return rows.map((r) => r.id);
  }

  /** Removes one sweep's files now and marks them removed. */
  async removeFiles(store: FileStore, sweepId: string, cells: number): Promise<void> {
    const keys: string[] = [];
    for (let i = 0; i < cells; i++) keys.push(`sweeps/${sweepId}/${i}.png`, `sweeps/${sweepId}/${i}.checkpoint.png`);
    await Promise.all(keys.map((key) => store.remove(key)));
    // a remote store keeps local copies (the engine writes there): those go too
    await fs.rm(sweepDir(store, sweepId), { recursive: true, force: true });
    await this.db.sweep.update({ where: { id: sweepId }, data: { filesRemovedAt: new Date() } });
    this.log.info("sweep.files_removed", { sweepId });
  }

  private parse(row: {
    id: string;
    roomId: string;
    authorId: string;
    status: string;
    request: string;
    cells: string;
    endedAt: Date | null;
  }): StoredSweep | null {
    try {
      const { authorName, ...request } = storedSweepRequest.parse(JSON.parse(row.request));
      const status = (["queued", "running", "ended"] as const).find((s) => s === row.status);
      if (!status) throw new Error(`unknown status ${row.status}`);
      return {
        id: row.id,
        roomId: row.roomId,
        authorId: row.authorId,
        status,
        request,
        authorName,
        cells: storedSweepCells.parse(JSON.parse(row.cells)),
        endedAt: row.endedAt,
      };
    } catch (error) {
      this.log.warn("sweep.row_unreadable", { sweepId: row.id, error });
      return null;
    }
  }
}

function cellCount(cells: string): number {
  try {
    const parsed: unknown = JSON.parse(cells);
    return Array.isArray(parsed) ? parsed.length : 0;
  } catch {
    return 0;
  }
}
