/**
 * Runs: from `run:start` to a finished Run row. Owns the fair queue, one worker thread per
 * running job, live weight edits, restart-needed bookkeeping, checkpoints, results, and the
 * recovery of runs whose optimiser process went away.
 */
import { access } from "node:fs/promises";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import {
  isUniqueViolation,
  readRunParams,
  serializeProvenance,
  serializeLossHistory,
  serializeRunParams,
  serializeStyleImageIds,
  type Db,
} from "@atelier/db";
import type { LiveWeights, RgbImage } from "@atelier/engine";
import {
  LIVE_FIELDS,
  LIVE_SCALAR_FIELDS,
  ROOM_FIELDS,
  formatZodError,
  isLiveStylesEdit,
  runParams,
  type IterationStats,
  type RoomField,
  type PreviewMime,
  type Provenance,
  type RunInfo,
  type RunParams,
  type RunStatus,
  type StyleRef,
} from "@atelier/protocol";
import { canViewImage, imageFilePath, storeRgbResult } from "@atelier/storage";
import { memberVisibleError, ServiceError } from "./errors.ts";
import { SpeedTracker } from "./speed-model.ts";
import { activeRunLimitRefusal, runSizeRefusal, type ServiceLimits } from "./limits.ts";
import { estimateStartTimes, FairQueue } from "./fair-queue.ts";
import { WorkerPool, type WorkerEnd } from "./job-worker.ts";
import { keepRunImage, restoreRunView } from "./run-outcome.ts";
import { isLeaseHeld, readLease, removeLease, writeLease } from "./lease.ts";
import type { Logger } from "./log.ts";
import type { LiveRoom, PreviewFrame, RoomRegistry } from "./rooms.ts";
import type { WorkerJob, WorkerToMain } from "./worker-messages.ts";
import {
  ACTIVE,
  isActive,
  isBatch,
  isRun,
  newLiveRun,
  type LiveRun,
  type QueueBatch,
  type QueueEntry,
  type RunStartImage,
  type User,
} from "./live-run.ts";

/** How the run manager tells the room what happened; the server fans it out (and to other nodes). */
interface RunBroadcaster {
  runUpdate(room: LiveRoom): void;
  stats(room: LiveRoom, stats: IterationStats): void;
  preview(room: LiveRoom, frame: PreviewFrame): void;
  restartNeeded(room: LiveRoom): void;
  resultSaved(
    room: LiveRoom,
    payload: { runId: string; resultId: string; title: string; isPublic: boolean; author: User },
  ): void;
  error(room: LiveRoom, message: string): void;
}

export interface RunManagerOptions {
  db: Db;
  dataDir: string;
  rooms: RoomRegistry;
  log: Logger;
  broadcast: RunBroadcaster;
  nodeId: string;
  workers: number;
  previewFps: number;
  checkpointEvery: number;
  previewMime?: PreviewMime;
  /** start loaded worker threads at start-up, so the first run does not wait for them */
  prewarm?: boolean;
  /** how long a finished worker thread stays loaded for the next run (ms) */
  workerIdleMs?: number;
  /** the engine backend of the worker threads */
  backend: string;
  /** per-user active runs, size and iteration caps */
  limits: ServiceLimits;
  /** cluster mode: asks the node holding the room's run to cancel it; resolves whether one did */
  remoteCancel?: (roomId: string) => Promise<boolean>;
}

const HEARTBEAT_MS = 10_000;
const SWEEP_MS = 30_000;
const TICK_MS = 1_000;
const CANCEL_GRACE_MS = 20_000;

/**
 * Image decoding for results, loaded on first use: the engine module brings tfjs with it,
 * which the service's main thread otherwise never needs (the math runs in worker threads).
 */
async function decodeImage(source: string | Uint8Array): Promise<RgbImage> {
  const engine = await import("@atelier/engine");
  return engine.decodeImage(source);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export class RunManager {
  private readonly queue: FairQueue<QueueEntry>;
  private readonly batches = new Set<QueueBatch>();
  /** runs this node holds (queued or running), by id */
  private readonly active = new Map<string, LiveRun>();
  private readonly timers: NodeJS.Timeout[] = [];
  private tickTimer: NodeJS.Timeout | null = null;
  /** the deployment's speed for estimates before Start (speed-model.ts), learned from completed runs */
  readonly speed: SpeedTracker;
  /** learned speed: milliseconds per iteration per pixel, for ETAs of runs not started yet */
  private msPerPixelIteration: number | null = null;
  private closing = false;
  /** the backend the last worker reported (for /health) */
  backend: string | null = null;
  /** one-shot fault injection for crash tests: the next run's worker throws at this iteration */
  private crashNextAt: number | null = null;

  private readonly pool: WorkerPool;
  /** rooms with a start, restart or cancel in progress: the tail of each room's chain of such operations */
  private readonly roomOps = new Map<string, Promise<unknown>>();

  constructor(private readonly o: RunManagerOptions) {
    this.queue = new FairQueue(o.workers);
    this.speed = new SpeedTracker(o.backend);
    this.pool = new WorkerPool({ log: o.log, idleMs: o.workerIdleMs, backend: o.backend });
  }

  // ───────────────────────────── paths ─────────────────────────────

  runDir(runId: string): string {
    return path.join(this.o.dataDir, "runs", runId);
  }
  private relative(file: string): string {
    return path.relative(this.o.dataDir, file).split(path.sep).join("/");
  }
  private absolute(relativePath: string): string {
    return path.resolve(this.o.dataDir, relativePath);
  }
  finalImagePath(runId: string): string {
    return path.join(this.runDir(runId), "final.png");
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /** Recovers runs left behind by a stopped process, then keeps leases fresh and sweeps periodically. */
  async start(): Promise<void> {
    await this.recoverStaleRuns();
    if (this.o.prewarm) for (let i = 0; i < this.o.workers; i++) this.pool.prewarm();
    const heartbeat = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    const sweep = setInterval(() => {
      this.recoverStaleRuns().catch((error) => this.o.log.error("runs.sweep_failed", { error }));
    }, SWEEP_MS);
    heartbeat.unref();
    sweep.unref();
    this.timers.push(heartbeat, sweep);
  }

  private async heartbeat(): Promise<void> {
    for (const run of this.active.values()) {
      await writeLease(this.runDir(run.id), this.o.nodeId).catch((error) =>
        this.o.log.warn("runs.lease_write_failed", { runId: run.id, error }),
      );
    }
  }

  /**
   * Runs marked running/queued in the database whose holder is gone: running ones become
   * `interrupted` (resumable from their last checkpoint), queued ones join this node's queue.
   */
  async recoverStaleRuns(): Promise<void> {
    if (this.closing) return;
    const rows = await this.o.db.run.findMany({
      where: { status: { in: ACTIVE } },
      orderBy: { createdAt: "asc" },
    });
    for (const row of rows) {
      if (this.active.has(row.id)) continue;
      if (isLeaseHeld(await readLease(this.runDir(row.id)))) continue;
      if (row.status === "running") {
        const checkpoint =
          row.checkpointPath && (await exists(this.absolute(row.checkpointPath))) ? row.checkpointPath : null;
        const error = checkpoint
          ? `the optimiser stopped while this run was going; resume it from its checkpoint at iteration ${row.iterations}`
          : "the optimiser stopped while this run was going, before its first checkpoint";
        const claimed = await this.o.db.run.updateMany({
          where: { id: row.id, status: "running" },
          data: {
            status: "interrupted",
            error,
            checkpointPath: checkpoint,
            finishedAt: new Date(),
            activeRoomId: null,
          },
        });
        if (claimed.count === 0) continue;
        this.o.log.warn("run.interrupted", { runId: row.id, roomId: row.roomId, checkpoint });
        const room = this.o.rooms.get(row.roomId);
        if (room?.run?.id === row.id) {
          Object.assign(room.run, { status: "interrupted", error, checkpointPath: checkpoint, finishedAt: new Date() });
          room.run.local = false;
          this.recomputeRestartNeeded(room);
          this.o.broadcast.runUpdate(room);
        }
      } else {
        await this.adoptQueuedRun(row);
      }
    }
  }

  private async adoptQueuedRun(row: Awaited<ReturnType<Db["run"]["findFirstOrThrow"]>>): Promise<void> {
    const params = readRunParams(row);
    const fail = async (detail: string) => {
      const error = memberVisibleError(detail);
      await this.o.db.run.updateMany({
        where: { id: row.id, status: "queued" },
        data: { status: "failed", error, finishedAt: new Date(), activeRoomId: null },
      });
      this.o.log.warn("run.adopt_failed", { runId: row.id, error: detail });
    };
    if (!params) return fail("its stored params are no longer valid");
    let paths: { contentPath: string; stylePaths: string[] };
    try {
      paths = await this.resolveImages(params, row.authorId);
    } catch (error) {
      return fail((error as Error).message);
    }
    const init = row.resumedFromId ? await this.imageToContinueFrom(row.resumedFromId) : null;
    const run = this.liveRunFromRow(row, params);
    Object.assign(run, { local: true, ...paths, initImagePath: init });
    this.o.log.info("run.adopted", { runId: run.id, roomId: run.roomId });
    const room = this.o.rooms.get(run.roomId);
    if (room) {
      room.run = run;
      room.history = [];
    }
    await this.enqueue(run);
  }

  // ───────────────────────────── rooms ─────────────────────────────

  /** Gives a freshly loaded room its current run: one this node holds, else the latest Run row. */
  async attachLatestRun(room: LiveRoom): Promise<void> {
    for (const run of this.active.values()) {
      if (run.roomId === room.id) {
        room.run = run;
        return;
      }
    }
    const row = await this.o.db.run.findFirst({ where: { roomId: room.id }, orderBy: { createdAt: "desc" } });
    if (!row) return;
    const params = readRunParams(row);
    if (!params) {
      this.o.log.warn("run.params_unreadable", { runId: row.id });
      return;
    }
    const run = this.liveRunFromRow(row, params);
    const results = await this.o.db.result.findMany({
      where: { runId: row.id },
      select: { id: true },
      orderBy: { createdAt: "asc" },
    });
    run.resultIds = results.map((r) => r.id);
    room.run = run;
    // the ended run's chart and image come from the database: they survive an optimiser restart
    const checkpoint = row.checkpointPath ? this.absolute(row.checkpointPath) : null;
    const view = await restoreRunView(
      this.o.db,
      this.o.dataDir,
      row,
      checkpoint && (await exists(checkpoint)) ? checkpoint : null,
    );
    room.history = view.history;
    room.latestPreview = view.frame;
  }

  private liveRunFromRow(row: Awaited<ReturnType<Db["run"]["findFirstOrThrow"]>>, params: RunParams): LiveRun {
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

  /**
   * Cluster mode: another node reports the state of a room's run (it holds the job). This
   * node keeps a copy so its late joiners see the run too.
   */
  mirrorRemote(room: LiveRoom, info: RunInfo | null, restartNeeded: RoomField[]): void {
    if (info) {
      const own = room.run?.local && isActive(room.run.status);
      if (own && room.run!.id !== info.runId) return; // this node's own run is the room's run
      if (!own) {
        let run = room.run;
        if (!run || run.id !== info.runId) {
          run = this.mirrorOf(room.id, info);
          room.run = run;
          room.history = [];
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
    room.restartNeeded = restartNeeded;
  }

  private mirrorOf(roomId: string, info: RunInfo): LiveRun {
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

  // ───────────────────────────── starting ─────────────────────────────

  /** File paths of the run's images, checking that they exist and that the user may use them. */
  async resolveImages(params: RunParams, userId: string): Promise<{ contentPath: string; stylePaths: string[] }> {
    const ids = [params.contentImageId, ...params.styles.map((s) => s.imageId)];
    const rows = await this.o.db.image.findMany({ where: { id: { in: ids } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const pathOf = async (id: string, what: string) => {
      const image = byId.get(id);
      if (!image) throw new ServiceError("not_found", `the ${what} image ${id} does not exist`);
      if (!(await canViewImage(this.o.db, id, userId)))
        throw new ServiceError("forbidden", `you may not use the ${what} image ${id}`);
      const file = imageFilePath(image, { dataDir: this.o.dataDir });
      if (!(await exists(file))) throw new ServiceError("not_found", `the file of the ${what} image ${id} is missing`);
      return file;
    };
    const contentPath = await pathOf(params.contentImageId, "content");
    const stylePaths: string[] = [];
    for (const style of params.styles) stylePaths.push(await pathOf(style.imageId, "style"));
    return { contentPath, stylePaths };
  }

  /** The newest image a finished or stopped run left: its final image, else its last checkpoint, else its kept image. */
  private async imageToContinueFrom(runId: string): Promise<string | null> {
    const final = this.finalImagePath(runId);
    if (await exists(final)) return final;
    const row = await this.o.db.run.findUnique({
      where: { id: runId },
      select: { checkpointPath: true, finalImage: { select: { sha256: true, mime: true } } },
    });
    if (row?.checkpointPath && (await exists(this.absolute(row.checkpointPath))))
      return this.absolute(row.checkpointPath);
    const kept = row?.finalImage ? imageFilePath(row.finalImage, { dataDir: this.o.dataDir }) : null;
    return kept && (await exists(kept)) ? kept : null;
  }

  /** The image an earlier run of this room left, to start a new run from (branching); refused when it left none. */
  private async imageOfRoomRun(roomId: string, runId: string): Promise<string> {
    const row = await this.o.db.run.findFirst({ where: { id: runId, roomId }, select: { id: true } });
    if (!row) throw new ServiceError("not_found", `run ${runId} is not a run of this room`);
    const file = await this.imageToContinueFrom(runId);
    if (!file) throw new ServiceError("not_found", "that run left no image to continue from");
    return file;
  }

  /**
   * Starts a run from the room's document. With `restart`, the room's current run is cancelled
   * first and the new one starts from its latest image (or an interrupted/finished run's
   * checkpoint or final image). `from`: start from the image an earlier run of the room left
   * (branching), or from an image file (a promoted sweep cell).
   */
  startRun(room: LiveRoom, user: User, restart: boolean, from?: RunStartImage): Promise<LiveRun> {
    if (this.closing) return Promise.reject(new ServiceError("conflict", "the optimiser is shutting down"));
    // one start at a time per room: a second one sent meanwhile is refused, not queued behind it
    // (checked and claimed synchronously, so two starts cannot both pass)
    if (this.roomOps.has(room.id))
      return Promise.reject(new ServiceError("conflict", "a run is being started or stopped in this room; try again"));
    return this.inRoomOrder(room.id, () => this.startRunNow(room, user, restart, from));
  }

  /**
   * Runs `op` after every start/restart/cancel of the room sent before it, so they never
   * interleave (each awaits the database and the worker several times).
   */
  private inRoomOrder<T>(roomId: string, op: () => Promise<T>): Promise<T> {
    const previous = this.roomOps.get(roomId) ?? Promise.resolve();
    const next = previous.then(op, op);
    const tail = next.catch(() => {});
    this.roomOps.set(roomId, tail);
    void tail.then(() => {
      if (this.roomOps.get(roomId) === tail) this.roomOps.delete(roomId);
    });
    return next;
  }

  private async startRunNow(room: LiveRoom, user: User, restart: boolean, from?: RunStartImage): Promise<LiveRun> {
    const parsed = runParams.safeParse(room.document);
    if (!parsed.success) throw new ServiceError("invalid", `cannot start: ${formatZodError(parsed.error)}`);
    const params = parsed.data;
    const overCap = runSizeRefusal(params, this.o.limits);
    if (overCap) throw new ServiceError("limit", overCap);
    const paths = await this.resolveImages(params, user.id);
    // checked before anything is cancelled: a refused branch leaves the going run alone
    const fromRunId = from && "runId" in from ? from.runId : null;
    const branchImage = fromRunId
      ? await this.imageOfRoomRun(room.id, fromRunId)
      : from && "imagePath" in from
        ? from.imagePath
        : null;

    const previous = room.run;
    // the user's queued/running runs, not counting the one a restart replaces (checked before
    // anything is cancelled, so a refused restart leaves the going run alone)
    const replaced = restart && previous && isActive(previous.status) ? [previous.id] : [];
    const active = await this.o.db.run.count({
      where: { authorId: user.id, status: { in: ACTIVE }, id: { notIn: replaced } },
    });
    const tooMany = activeRunLimitRefusal(active, this.o.limits);
    if (tooMany) throw new ServiceError("limit", tooMany);
    if (previous && isActive(previous.status)) {
      if (!restart) throw new ServiceError("conflict", "a run is already going in this room (restart it instead)");
      await this.cancelActive(room);
    }
    // the previous run may have been replaced while we waited (another node, a recovered run)
    if (room.run && room.run !== previous && isActive(room.run.status)) {
      throw new ServiceError("conflict", "another run was started in this room meanwhile");
    }
    const initImagePath = branchImage ?? (restart && previous ? await this.imageToContinueFrom(previous.id) : null);
    const resumedFromId = branchImage ? fromRunId : initImagePath && previous ? previous.id : null;

    let row: Awaited<ReturnType<Db["run"]["create"]>>;
    try {
      row = await this.o.db.run.create({
        data: {
          roomId: room.id,
          authorId: user.id,
          params: serializeRunParams(params),
          seed: params.seed,
          status: "queued",
          resumedFromId,
          // the database's own guard: a second active run of the room violates the unique index
          activeRoomId: room.id,
        },
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ServiceError("conflict", "another run is already going in this room (started elsewhere)");
      throw error;
    }
    const run = this.liveRunFromRow(row, params);
    Object.assign(run, { local: true, initImagePath, ...paths });
    room.run = run;
    room.history = [];
    this.recomputeRestartNeeded(room);
    this.o.log.info("run.queued", {
      runId: run.id,
      roomId: room.id,
      userId: user.id,
      resumedFromId,
      size: params.size,
      iterations: params.iterations,
    });
    await this.enqueue(run);
    return run;
  }

  private async enqueue(run: LiveRun): Promise<void> {
    this.active.set(run.id, run);
    await writeLease(this.runDir(run.id), this.o.nodeId);
    this.queue.enqueue(run);
    this.pump();
  }

  /** Starts what the queue allows, then refreshes positions and ETAs. */
  private pump(): void {
    if (!this.closing) {
      for (const job of this.queue.takeReady()) {
        if (isBatch(job)) this.launchBatch(job);
        else this.launch(job);
      }
    }
    this.refreshQueueInfo();
    this.ensureTicking();
  }

  /** Queues a batch in the fair queue (it runs when its user's turn comes, like a run). */
  enqueueBatch(batch: QueueBatch): void {
    if (this.closing) throw new ServiceError("conflict", "the optimiser is shutting down");
    this.batches.add(batch);
    this.queue.enqueue(batch);
    this.pump();
  }

  private launchBatch(batch: QueueBatch): void {
    batch.setQueuePosition(null);
    batch
      .run(this.pool)
      .catch((error: unknown) => this.o.log.error("batch.failed", { batchId: batch.id, error }))
      .finally(() => {
        this.batches.delete(batch);
        this.queue.finish(batch.id);
        this.pump();
      });
  }

  private launch(run: LiveRun): void {
    run.status = "running";
    run.startedAt = new Date();
    run.queuePosition = null;
    const crashAt = this.crashNextAt ?? undefined;
    this.crashNextAt = null;
    const job: WorkerJob = {
      runId: run.id,
      params: run.params,
      contentPath: run.contentPath!,
      stylePaths: run.stylePaths,
      initImagePath: run.initImagePath,
      previewFps: this.o.previewFps,
      previewMime: this.o.previewMime ?? "image/webp",
      checkpointEvery: this.o.checkpointEvery,
      checkpointPath: path.join(this.runDir(run.id), "checkpoint.png"),
      finalPath: this.finalImagePath(run.id),
      ...(crashAt !== undefined ? { crashAtIteration: crashAt } : {}),
    };
    try {
      run.worker = this.pool.run(job, {
        onMessage: (message) => this.onWorkerMessage(run, message),
        onEnd: (end) => void this.onWorkerEnd(run, end),
      });
    } catch (error) {
      void this.onWorkerEnd(run, { kind: "failed", error: `could not start a worker: ${(error as Error).message}` });
      return;
    }
    this.o.log.info("run.started", { runId: run.id, roomId: run.roomId, threadId: run.worker.threadId });
    this.o.db.run
      .update({ where: { id: run.id }, data: { status: "running", startedAt: run.startedAt } })
      .catch((error) => this.o.log.error("run.db_update_failed", { runId: run.id, error }));
    const room = this.roomOf(run);
    if (room) this.o.broadcast.runUpdate(room);
  }

  private roomOf(run: LiveRun): LiveRoom | null {
    const room = this.o.rooms.get(run.roomId);
    return room && room.run === run ? room : null;
  }

  // ───────────────────────────── worker events ─────────────────────────────

  private onWorkerMessage(run: LiveRun, message: WorkerToMain): void {
    const room = this.roomOf(run);
    switch (message.type) {
      case "started":
        run.backend = message.backend;
        run.modelHash = message.modelHash;
        this.backend = message.backend;
        this.o.db.run
          .update({ where: { id: run.id }, data: { backend: message.backend, modelHash: message.modelHash } })
          .catch((error) => this.o.log.error("run.db_update_failed", { runId: run.id, error }));
        return;
      case "iteration": {
        const e = message.event;
        run.iteration = e.iteration;
        run.computeMs += e.ms;
        this.speed.observeIteration(run.id, e.width * e.height, e.ms);
        run.msPerIteration = run.msPerIteration === null ? e.ms : 0.8 * run.msPerIteration + 0.2 * e.ms;
        const pixels = e.width * e.height;
        if (pixels > 0) {
          const rate = e.ms / pixels;
          this.msPerPixelIteration =
            this.msPerPixelIteration === null ? rate : 0.9 * this.msPerPixelIteration + 0.1 * rate;
        }
        const stats: IterationStats = {
          runId: run.id,
          iteration: e.iteration,
          scale: e.scale,
          total: e.total,
          content: e.content,
          style: e.style,
          tv: e.tv,
          ms: e.ms,
        };
        if (room) {
          room.pushStats(stats);
          this.o.broadcast.stats(room, stats);
        }
        return;
      }
      case "preview": {
        const frame: PreviewFrame = {
          roomId: run.roomId,
          runId: run.id,
          iteration: message.iteration,
          mime: message.mime,
          width: message.width,
          height: message.height,
          data: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
          encodedAt: message.encodedAt,
        };
        if (room) {
          room.latestPreview = frame;
          this.o.broadcast.preview(room, frame);
        }
        return;
      }
      case "checkpoint":
        run.checkpointPath = this.relative(message.path);
        this.o.db.run
          .update({
            where: { id: run.id },
            data: {
              checkpointPath: run.checkpointPath,
              iterations: message.iteration,
              computeMs: Math.round(run.computeMs),
            },
          })
          .catch((error) => this.o.log.error("run.db_update_failed", { runId: run.id, error }));
        this.o.log.debug("run.checkpoint", { runId: run.id, iteration: message.iteration });
        return;
      case "updated":
        this.o.log.info("run.weights_applied", {
          runId: run.id,
          fromIteration: message.iteration + 1,
          weights: message.weights,
        });
        return;
      case "update-refused":
        this.o.log.warn("run.weights_refused", { runId: run.id, weights: message.weights, error: message.error });
        return;
      default:
        return;
    }
  }

  private async onWorkerEnd(run: LiveRun, end: WorkerEnd): Promise<void> {
    run.worker = null;
    this.speed.runEnded(run.id, end.kind === "done", run.backend);
    let status: RunStatus;
    let error: string | null = null;
    if (end.kind === "done") {
      status = "completed";
      run.iteration = end.iteration;
      run.checkpointPath = this.relative(end.path);
    } else if (end.kind === "cancelled") {
      status = run.stopReason === "shutdown" ? "interrupted" : "cancelled";
      if (end.checkpointPath) run.checkpointPath = this.relative(end.checkpointPath);
    } else if (run.stopReason === "cancel") {
      status = "cancelled";
    } else if (run.stopReason === "shutdown") {
      status = "interrupted";
      error = "the optimiser was shut down while this run was going";
    } else {
      status = "failed";
      // the full error (it may name server paths) goes to the log; members get it without paths
      this.o.log.error("run.worker_failed", { runId: run.id, roomId: run.roomId, error: end.error });
      error = memberVisibleError(end.error);
    }
    await this.finish(run, status, error);
    const room = this.roomOf(run);
    if (status === "failed" && room) this.o.broadcast.error(room, `the run failed: ${error}`);
  }

  /** Records a run's end everywhere: memory, database, queue, lease, room. */
  private async finish(run: LiveRun, status: RunStatus, error: string | null): Promise<void> {
    run.status = status;
    run.error = error;
    run.finishedAt = new Date();
    run.etaSeconds = null;
    run.queuePosition = null;
    this.queue.finish(run.id);
    this.queue.removeWaiting(run.id);
    this.active.delete(run.id);
    const kept = await this.keepOutcome(run);
    const level = status === "failed" ? "error" : "info";
    this.o.log[level](`run.${status}`, {
      runId: run.id,
      roomId: run.roomId,
      iteration: run.iteration,
      computeMs: Math.round(run.computeMs),
      error,
    });
    try {
      await this.o.db.run.update({
        where: { id: run.id },
        data: {
          status,
          error,
          finishedAt: run.finishedAt,
          iterations: run.iteration,
          computeMs: Math.round(run.computeMs),
          checkpointPath: run.checkpointPath,
          // live edits changed the params the run actually used: keep the record honest
          params: serializeRunParams(run.params),
          activeRoomId: null,
          finalImageId: run.finalImageId,
          lossHistory: serializeLossHistory(kept.history),
        },
      });
    } catch (dbError) {
      this.o.log.error("run.db_update_failed", { runId: run.id, error: dbError });
    }
    await removeLease(this.runDir(run.id)).catch(() => {});
    const room = this.roomOf(run);
    if (room) {
      this.recomputeRestartNeeded(room);
      this.o.broadcast.runUpdate(room);
      // late joiners get the exact kept image; those present already have the worker's last frame
      if (kept.frame) room.latestPreview = kept.frame;
    }
    run.markEnded();
    this.pump();
  }

  /** Stores what an ending run leaves (its image, its loss curve); a failure to store keeps the run's end going. */
  private async keepOutcome(run: LiveRun): Promise<{ history: IterationStats[]; frame: PreviewFrame | null }> {
    const room = this.roomOf(run);
    const history = room ? room.history.filter((h) => h.runId === run.id) : [];
    const final = this.finalImagePath(run.id);
    const checkpoint = run.checkpointPath ? this.absolute(run.checkpointPath) : null;
    try {
      const kept = await keepRunImage(this.o.db, this.o.dataDir, run, {
        finalFile: (await exists(final)) ? final : null,
        checkpointFile: checkpoint && (await exists(checkpoint)) ? checkpoint : null,
        preview: room?.latestPreview?.runId === run.id ? room.latestPreview : null,
      });
      run.finalImageId = kept?.imageId ?? null;
      return { history, frame: kept?.frame ?? null };
    } catch (error) {
      this.o.log.error("run.keep_image_failed", { runId: run.id, error });
      return { history, frame: null };
    }
  }

  // ───────────────────────────── cancel ─────────────────────────────

  /**
   * `run:cancel`: stops every active run of the room (after any start or restart in progress).
   * Queued ones are removed; running ones stop with their image kept as a checkpoint.
   */
  cancelRoom(room: LiveRoom): Promise<void> {
    return this.inRoomOrder(room.id, async () => {
      const stopped = await this.cancelActive(room);
      if (stopped === 0) throw new ServiceError("not_found", "no run is going in this room");
    });
  }

  /** Cancels every active run of the room this node holds, and the room's run if another node holds it; how many. */
  private async cancelActive(room: LiveRoom): Promise<number> {
    const runs = new Set([...this.active.values()].filter((r) => r.roomId === room.id && isActive(r.status)));
    if (room.run && isActive(room.run.status)) runs.add(room.run);
    await Promise.all([...runs].map((run) => this.cancelRun(room, run)));
    return runs.size;
  }

  /** Cancels one run (queued: removed; running: stopped, its image kept as a checkpoint). */
  async cancelRun(room: LiveRoom, run: LiveRun | null = room.run): Promise<void> {
    if (!run || !isActive(run.status)) throw new ServiceError("not_found", "no run is going in this room");
    if (!run.local) {
      const cancelled = (await this.o.remoteCancel?.(room.id)) ?? false;
      if (!cancelled)
        throw new ServiceError("conflict", "the run is held by another optimiser node that did not cancel it");
      run.status = "cancelled";
      return;
    }
    run.stopReason = "cancel";
    if (run.status === "queued") {
      await this.finish(run, "cancelled", null);
      return;
    }
    const worker = run.worker;
    worker?.cancel();
    const timedOut = await Promise.race([
      run.ended.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), CANCEL_GRACE_MS).unref()),
    ]);
    if (timedOut && worker) {
      this.o.log.warn("run.cancel_timeout", { runId: run.id });
      await worker.terminate();
      await run.ended;
    }
  }

  // ───────────────────────────── live edits ─────────────────────────────

  /**
   * A document field changed: a running (or queued) run follows weight and iteration edits
   * from the next iteration on; any other change marks the room "restart needed".
   * Returns whether this field now needs a restart.
   */
  onDocumentEdit(room: LiveRoom, field: RoomField, value: unknown, authorId: string): boolean {
    const run = room.run;
    if (!run || !isActive(run.status) || !run.local) return this.recomputeRestartNeeded(room).includes(field);
    let weights: LiveWeights | null = null;
    if (LIVE_SCALAR_FIELDS.includes(field)) {
      run.params = { ...run.params, [field]: value };
      weights = { [field]: value as number };
    } else if (field === "iterations") {
      run.params = { ...run.params, iterations: value as number };
      weights = { iterations: value as number };
    } else if (field === "styles" && isLiveStyles(run.params.styles, value as StyleRef[])) {
      const styles = value as StyleRef[];
      run.params = { ...run.params, styles };
      weights = { styleBlendWeights: styles.map((s) => s.weight) };
    }
    if (weights) {
      run.liveEdits.push({ iteration: run.iteration, field, value, authorId });
      run.worker?.update(weights);
    }
    return this.recomputeRestartNeeded(room).includes(field);
  }

  /** The fields whose document value differs from what the current run uses and that it cannot follow live. */
  recomputeRestartNeeded(room: LiveRoom): RoomField[] {
    const run = room.run;
    const fields: RoomField[] = [];
    if (run && isActive(run.status)) {
      for (const field of ROOM_FIELDS) {
        if (LIVE_FIELDS.includes(field)) continue;
        if (field === "styles") {
          if (!isLiveStyles(run.params.styles, room.document.styles)) fields.push(field);
        } else if (!isDeepStrictEqual(room.document[field], run.params[field])) {
          fields.push(field);
        }
      }
    }
    if (!isDeepStrictEqual(fields, room.restartNeeded)) {
      room.restartNeeded = fields;
      this.o.broadcast.restartNeeded(room);
    }
    return fields;
  }

  // ───────────────────────────── queue info ─────────────────────────────

  private remainingSeconds(run: LiveRun): number | null {
    const perIteration = run.msPerIteration ?? this.estimateMsPerIteration(run.params);
    if (perIteration === null) return null;
    return (Math.max(0, run.params.iterations - run.iteration) * perIteration) / 1000;
  }

  private estimateMsPerIteration(params: RunParams): number | null {
    return this.msPerPixelIteration === null ? null : this.msPerPixelIteration * params.size * params.size;
  }

  /** Positions and ETAs of every run this node holds; sends run:update where something changed. */
  private refreshQueueInfo(): void {
    const runningJobs = this.queue.runningJobs();
    const waitingJobs = this.queue.waitingOrder();
    const running = runningJobs.filter(isRun);
    for (const run of running) run.etaSeconds = roundEta(this.remainingSeconds(run));
    // a batch's length is not estimated: the runs behind one get no ETA
    const starts = estimateStartTimes(
      runningJobs.map((j) => (isBatch(j) ? 0 : (this.remainingSeconds(j) ?? 0))),
      this.queue.size.concurrency,
      waitingJobs.map((j) => (isBatch(j) ? null : this.remainingSeconds(j))),
    );
    waitingJobs.forEach((job, i) => {
      if (isBatch(job)) return job.setQueuePosition(i + 1);
      job.queuePosition = i + 1;
      job.etaSeconds = roundEta(starts[i] ?? null);
    });
    for (const run of [...running, ...waitingJobs.filter(isRun)]) {
      const room = this.roomOf(run);
      if (room) this.o.broadcast.runUpdate(room);
    }
  }

  private ensureTicking(): void {
    if (this.active.size === 0) {
      if (this.tickTimer) clearInterval(this.tickTimer);
      this.tickTimer = null;
      return;
    }
    if (this.tickTimer) return;
    this.tickTimer = setInterval(() => this.refreshQueueInfo(), TICK_MS);
    this.tickTimer.unref();
  }

  // ───────────────────────────── results ─────────────────────────────

  /**
   * Saves a run's final image (or, with `preview`, its current image) as a Result with full
   * provenance. The final image is kept under DATA_DIR/runs, so this works after a restart.
   */
  async saveResult(
    room: LiveRoom,
    user: User,
    request: { runId: string; title: string; isPublic: boolean; preview: boolean },
  ): Promise<string> {
    const run = await this.findRun(room, request.runId);
    const image = request.preview ? await this.currentImageOf(room, run) : await this.finalImageOf(run);
    const stored = await storeRgbResult(
      this.o.db,
      { ...image, channels: 3 },
      // its own Image row: visibility follows this result only (the file itself is shared)
      { dataDir: this.o.dataDir, ownerId: user.id, ownRow: true },
    );
    const styleImageIds = run.params.styles.map((s) => s.imageId);
    const provenance: Provenance = {
      method: "gatys-ecker-bethge-2015",
      runId: run.id,
      roomId: run.roomId,
      authorId: run.authorId,
      savedBy: user.id,
      savedAt: new Date().toISOString(),
      kind: request.preview ? "preview" : "final",
      params: run.params,
      seed: run.params.seed,
      backend: run.backend,
      modelHash: run.modelHash,
      iterations: run.iteration,
      targetIterations: run.params.iterations,
      status: run.status,
      timings: {
        createdAt: run.createdAt.toISOString(),
        startedAt: run.startedAt?.toISOString() ?? null,
        finishedAt: run.finishedAt?.toISOString() ?? null,
        computeMs: Math.round(run.computeMs),
      },
      contentImageId: run.params.contentImageId,
      styleImageIds,
      styleWeights: run.params.styles.map((s) => s.weight),
      resumedFromId: run.resumedFromId,
      liveEdits: run.liveEdits,
      width: image.width,
      height: image.height,
    };
    const result = await this.o.db.result.create({
      data: {
        runId: run.id,
        imageId: stored.id,
        authorId: user.id,
        title: request.title,
        isPublic: request.isPublic,
        provenance: serializeProvenance(provenance),
        contentImageId: run.params.contentImageId,
        styleImageIds: serializeStyleImageIds(styleImageIds),
      },
    });
    run.resultIds.push(result.id);
    this.o.log.info("result.saved", {
      resultId: result.id,
      runId: run.id,
      roomId: room.id,
      userId: user.id,
      preview: request.preview,
    });
    this.o.broadcast.resultSaved(room, {
      runId: run.id,
      resultId: result.id,
      title: request.title,
      isPublic: request.isPublic,
      author: user,
    });
    if (room.run === run) this.o.broadcast.runUpdate(room);
    return result.id;
  }

  private async findRun(room: LiveRoom, runId: string): Promise<LiveRun> {
    if (room.run?.id === runId) return room.run;
    const row = await this.o.db.run.findFirst({ where: { id: runId, roomId: room.id } });
    const params = row ? readRunParams(row) : null;
    if (!row || !params) throw new ServiceError("not_found", `run ${runId} is not a run of this room`);
    const run = this.liveRunFromRow(row, params);
    const results = await this.o.db.result.findMany({ where: { runId }, select: { id: true } });
    run.resultIds = results.map((r) => r.id);
    return run;
  }

  private async finalImageOf(run: LiveRun): Promise<RgbImage> {
    if (run.status !== "completed") {
      throw new ServiceError("conflict", `the run is ${run.status}, not completed: save its current preview instead`);
    }
    const file = this.finalImagePath(run.id);
    if (!(await exists(file))) throw new ServiceError("not_found", "the run's final image is missing");
    return decodeImage(file);
  }

  /** The freshest full-quality image: from the worker while it runs, else the latest checkpoint/final file, else the preview. */
  private async currentImageOf(room: LiveRoom, run: LiveRun): Promise<RgbImage> {
    if (run.worker && run.status === "running") {
      const image = await run.worker.snapshot();
      if (image) return image;
    }
    const final = this.finalImagePath(run.id);
    if (await exists(final)) return decodeImage(final);
    if (run.checkpointPath && (await exists(this.absolute(run.checkpointPath))))
      return decodeImage(this.absolute(run.checkpointPath));
    if (room.latestPreview?.runId === run.id) return decodeImage(room.latestPreview.data);
    throw new ServiceError("not_found", "this run has no image yet");
  }

  // ───────────────────────────── shutdown, health, tests ─────────────────────────────

  /**
   * Stops every running job with a fresh checkpoint and marks it interrupted (resumable);
   * queued runs stay queued in the database and are picked up by the next start.
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const batch of this.batches) {
      this.queue.removeWaiting(batch.id);
      batch.cancel();
    }
    const running = [...this.active.values()];
    await Promise.all(
      running.map(async (run) => {
        if (run.status === "queued") {
          this.queue.removeWaiting(run.id);
          this.active.delete(run.id);
          await removeLease(this.runDir(run.id)).catch(() => {});
          return;
        }
        run.stopReason = "shutdown";
        const worker = run.worker;
        if (worker) {
          const checkpoint = await worker.checkpoint(10_000);
          if (checkpoint) run.checkpointPath = this.relative(checkpoint);
          await worker.dispose();
        }
        await this.finish(
          run,
          "interrupted",
          `the optimiser was shut down at iteration ${run.iteration}; resume from its checkpoint`,
        );
      }),
    );
    await this.pool.close();
  }

  health(): { workers: number; running: number; queued: number; threads: number; idleThreads: number } {
    const size = this.queue.size;
    const pool = this.pool.size;
    return {
      workers: size.concurrency,
      running: size.running,
      queued: size.waiting,
      threads: pool.threads,
      idleThreads: pool.idle,
    };
  }

  /** Test/drill hooks: kill a run's thread for real, or make the next worker throw. */
  debugTerminateWorker(runId: string): Promise<number> {
    const worker = this.active.get(runId)?.worker;
    if (!worker) throw new Error(`run ${runId} has no worker on this node`);
    return worker.terminate();
  }
  debugCrashNextRunAt(iteration: number): void {
    this.crashNextAt = iteration;
  }
}

function roundEta(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds * 10) / 10;
}

/** Weights-only styles edits are live unless they zero every weight (nothing to normalise). */
function isLiveStyles(before: StyleRef[], after: StyleRef[]): boolean {
  return isLiveStylesEdit(before, after) && after.some((s) => s.weight > 0);
}
