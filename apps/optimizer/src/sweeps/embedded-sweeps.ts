/**
 * Sweeps in embedded mode: started, cancelled, shown and promoted here; each sweep's cells go
 * through this node's fair queue one at a time (sweeps/embedded-sweep.ts) and its state is kept in
 * its database row (sweeps/sweep-rows.ts). At start-up the sweeps a stopped process left going
 * end visibly (their unfinished cells fail with the reason), and ended sweeps' files are removed
 * once `sweepFilesTtlMs` passed since they ended.
 */
import type { Db } from "@atelier/db";
import { inspectImage } from "@atelier/storage";
import { sweepCancelRefusal, type Role, type SettingChange, type SweepFrame, type SweepInfo } from "@atelier/protocol";
import { countActiveJobs } from "../common/active-jobs.ts";
import { ServiceError } from "../common/errors.ts";
import { activeRunLimitRefusal, type ServiceLimits } from "../common/limits.ts";
import type { User } from "../common/live-run.ts";
import type { Logger } from "../common/log.ts";
import type { Settings } from "../config.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import type { RunFiles } from "../runs/files.ts";
import { isLeaseHeld, readLease, removeLease, writeLease } from "../runs/lease.ts";
import { EmbeddedSweep, type CellQueue } from "./embedded-sweep.ts";
import { newCellInfo, sweepDir, type CellState } from "./sweep-cell.ts";
import {
  keptPromotion,
  planSweep,
  sweepIdMaker,
  type SweepBroadcaster,
  type SweepRequest,
  type Sweeps,
} from "./sweep-manager.ts";
import { INTERRUPTED, interruptedCells, storedInfo, SweepRows, type StoredSweep } from "./sweep-rows.ts";

/** how often going sweeps' leases are refreshed (runs/lease.ts: a lease lives 30 s) */
const HEARTBEAT_MS = 10_000;

export interface EmbeddedSweepsOptions extends Pick<Settings, "sweepFilesTtlMs"> {
  db: Db;
  /** the images a sweep uses, and where its files go */
  files: RunFiles;
  /** this node's fair queue: each cell takes its turn as one job of the sweep's user */
  queue: CellQueue;
  limits: ServiceLimits;
  nodeId: string;
  log: Logger;
  broadcast: SweepBroadcaster;
}

export class SweepManager implements Sweeps {
  /** each room's latest sweep this process ran (one going at a time per room) */
  private readonly byRoom = new Map<string, EmbeddedSweep>();
  private readonly rows: SweepRows;
  private readonly newId: () => string;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: EmbeddedSweepsOptions) {
    this.rows = new SweepRows(o.db, o.log);
    this.newId = sweepIdMaker(o.nodeId);
  }

  /** Ends the sweeps a stopped process left going, then keeps leases fresh and removes expired files. */
  async startUp(): Promise<void> {
    const ended = await this.rows.endInterrupted(INTERRUPTED, async (id) =>
      isLeaseHeld(await readLease(this.o.files.store, id)),
    );
    for (const sweep of ended) {
      this.o.log.warn("sweep.interrupted", { sweepId: sweep.id, roomId: sweep.roomId });
      await removeLease(this.o.files.store, sweep.id).catch(() => {});
      this.o.broadcast.update(sweep.roomId, storedInfo(sweep));
    }
    const heartbeat = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    // often enough that files outlive the TTL by at most a quarter of it (and at most 10 minutes)
    const cleanEvery = Math.min(10 * 60_000, Math.max(1_000, this.o.sweepFilesTtlMs / 4));
    const clean = setInterval(() => void this.removeExpiredFiles(), cleanEvery);
    heartbeat.unref();
    clean.unref();
    this.timers.push(heartbeat, clean);
    await this.removeExpiredFiles();
  }

  /**
   * After the runs' shutdown (which stopped the cells: runs/scheduler.ts stop): the sweeps going
   * end visibly, their unfinished cells failed with the reason, rows written, leases gone.
   */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const sweep of this.byRoom.values()) {
      if (sweep.ended) continue;
      sweep.stop();
      const cells = interruptedCells(
        sweep.cells.map((c) => c.info),
        INTERRUPTED,
      );
      for (const [i, state] of sweep.cells.entries()) state.info = cells[i]!;
      this.o.broadcast.update(sweep.roomId, sweep.info());
      void this.rows.save(sweep.id, sweep.cells);
      await removeLease(this.o.files.store, sweep.id).catch(() => {});
    }
    await this.rows.flush();
  }

  /** Removes the files of sweeps that ended more than the TTL ago; returns their ids. */
  async removeExpiredFiles(now = Date.now()): Promise<string[]> {
    return this.rows.removeExpiredFiles(this.o.files.store, this.o.sweepFilesTtlMs, now).catch((error: unknown) => {
      this.o.log.warn("sweep.files_cleanup_failed", { error });
      return [];
    });
  }

  private async heartbeat(): Promise<void> {
    for (const sweep of this.byRoom.values()) {
      if (sweep.ended) continue;
      await writeLease(this.o.files.store, sweep.id, this.o.nodeId).catch((error: unknown) =>
        this.o.log.warn("sweep.lease_write_failed", { sweepId: sweep.id, error }),
      );
    }
  }

  async start(room: LiveRoom, user: User, request: SweepRequest): Promise<SweepInfo> {
    const going = this.byRoom.get(room.id);
    if (going && !going.ended) throw new ServiceError("conflict", "a sweep is already going in this room");
    const tooMany = activeRunLimitRefusal(await countActiveJobs(this.o.db, user.id), this.o.limits);
    if (tooMany) throw new ServiceError("limit", tooMany);
    const { sweepId: id, cells: planned, paths } = await planSweep(this.o.files, room, user, request, this.newId);
    const cells: CellState[] = planned.map((cell) => ({ cell, info: newCellInfo(cell), frame: null }));
    const store = this.o.files.store;
    const files = { store, sweepId: id, roomId: room.id, ...paths, dir: sweepDir(store, id) };
    // the row first: a sweep the database does not know never runs (nor escapes the cap)
    await this.rows.create({ id, roomId: room.id, author: user, request, cells });
    await writeLease(store, id, this.o.nodeId);
    const sweep = new EmbeddedSweep(user, request, cells, files, {
      queue: this.o.queue,
      broadcast: this.o.broadcast,
      log: this.o.log,
      save: (s) => void this.rows.save(s.id, s.cells),
      ended: (s) => {
        void this.rows.save(s.id, s.cells);
        void removeLease(store, s.id).catch(() => {});
        this.o.log.info("sweep.ended", { sweepId: s.id, roomId: s.roomId });
      },
    });
    this.byRoom.set(room.id, sweep);
    this.o.log.info("sweep.queued", { sweepId: id, roomId: room.id, userId: user.id, cells: cells.length });
    sweep.queueNext();
    this.o.broadcast.update(room.id, sweep.info());
    return sweep.info();
  }

  async cancel(room: LiveRoom, user: User, role: Role, sweepId: string): Promise<SweepInfo> {
    const live = this.byRoom.get(room.id);
    if (live && live.id === sweepId) {
      const refusal = sweepCancelRefusal(live.author.id, user, role);
      if (refusal) throw new ServiceError("forbidden", refusal);
      if (live.cancel()) this.o.log.info("sweep.cancelled", { sweepId, roomId: room.id, userId: user.id });
      return live.info();
    }
    // one this process does not hold has ended (a stopped holder's sweeps end at start-up): nothing to stop
    const stored = await this.rows.find(room.id, sweepId);
    if (!stored) throw new ServiceError("not_found", "no such sweep in this room");
    const refusal = sweepCancelRefusal(stored.authorId, user, role);
    if (refusal) throw new ServiceError("forbidden", refusal);
    return storedInfo(stored);
  }

  async snapshot(roomId: string): Promise<{ sweep: SweepInfo; frames: SweepFrame[] } | null> {
    const sweep = this.byRoom.get(roomId);
    if (sweep) return { sweep: sweep.info(), frames: sweep.cells.flatMap((c) => (c.frame ? [c.frame] : [])) };
    // after a restart: the room's latest sweep from its row, with the final images still kept
    const stored = await this.rows.find(roomId);
    if (!stored) return null;
    return { sweep: storedInfo(stored), frames: await this.storedFrames(stored) };
  }

  async promotion(
    room: LiveRoom,
    sweepId: string,
    index: number,
  ): Promise<{ changes: SettingChange[]; imagePath: string }> {
    const sweep = this.byRoom.get(room.id);
    if (sweep && sweep.id === sweepId) return this.promotable(room, sweepId, sweep.cells, index);
    const stored = await this.rows.find(room.id, sweepId);
    if (!stored) throw new ServiceError("not_found", "no such sweep in this room");
    return this.promotable(room, sweepId, stored.cells, index);
  }

  private async promotable(
    room: LiveRoom,
    sweepId: string,
    cells: Pick<CellState, "cell" | "info">[],
    index: number,
  ): Promise<{ changes: SettingChange[]; imagePath: string }> {
    return keptPromotion(room.document, this.o.files.store, sweepId, cells, index);
  }

  /** The completed cells' final images still kept, as their last frames. */
  private async storedFrames(sweep: StoredSweep): Promise<SweepFrame[]> {
    const frames: SweepFrame[] = [];
    for (const { info } of sweep.cells) {
      if (info.status !== "completed") continue;
      const data = await this.o.files.store.read(`sweeps/${sweep.id}/${info.index}.png`).catch(() => null);
      if (!data) continue;
      const { width, height } = await inspectImage(data, { maxBytes: Number.MAX_SAFE_INTEGER });
      const ids = { roomId: sweep.roomId, sweepId: sweep.id, cell: info.index };
      frames.push({ ...ids, iteration: info.iteration, mime: "image/png", width, height, data });
    }
    return frames;
  }
}
