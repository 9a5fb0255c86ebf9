/**
 * Runs: from `run:start` to a finished Run row. RunManager is the service's one entry point
 * (gateway/server.ts and sweeps/sweep-manager.ts call it); it wires the parts, each in its own file:
 * runs/scheduler.ts (fair queue, positions/ETAs), runs/launcher.ts (engine processes → room),
 * runs/end.ts (a run's end recorded), runs/control.ts (cancel, live edits), runs/recovery.ts
 * (leases, adopting runs of a stopped process), runs/results.ts (saved results),
 * runs/views.ts (a room's current run, mirrors of other nodes' runs).
 */
import { isUniqueViolation, serializeRunParams, type Db } from "@atelier/db";
import {
  formatZodError,
  runParams,
  type FieldEdit,
  type RoomField,
  type RunInfo,
  type RunParams,
  type RunStatus,
  type SpeedModel,
} from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import { KeyedQueue } from "../common/keyed-queue.ts";
import { engineSpec, WorkerPool } from "../engine-slots/slot-pool.ts";
import { removeLease } from "./lease.ts";
import { activeRunLimitRefusal, runSizeRefusal } from "../common/limits.ts";
import { ACTIVE, isActive, type LiveRun, type RunStartImage, type User } from "../common/live-run.ts";
import type { QueueBatch } from "./queue-entry.ts";
import { RunControl } from "./control.ts";
import { RunCore, roomSink, type RunManagerOptions } from "./core.ts";
import { finishRun } from "./end.ts";
import { RunLauncher } from "./launcher.ts";
import type { FileStore } from "@atelier/files";
import type { RunBus } from "../cluster/run-bus.ts";
import { ClusterRuns } from "../cluster/gateway-runs.ts";
import { RunRecovery } from "./recovery.ts";
import { RunWorker } from "../cluster/run-worker-role.ts";
import { saveResult } from "./results.ts";
import { roundEta } from "./eta.ts";
import { LocalScheduler } from "./scheduler.ts";
import { attachLatestRun, liveRunFromRow, mirrorRemote } from "./views.ts";
import { resumeStartIteration } from "./resume-point.ts";
import { renderLargeRunParams } from "./render-large.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import type { SpeedTracker } from "./speed-model.ts";

const HEARTBEAT_MS = 10_000;
const SWEEP_MS = 30_000;

export class RunManager {
  private readonly core: RunCore;
  private readonly pool: WorkerPool;
  private readonly scheduler: LocalScheduler;
  private readonly launcher: RunLauncher;
  private readonly control: RunControl;
  private readonly recovery: RunRecovery;
  /** each room's start/restart/cancel, one after another, so they never interleave */
  private readonly roomOps = new KeyedQueue();
  /** gateway role: runs go to cluster workers (cluster/gateway-runs.ts); null: this node runs them */
  private readonly cluster: ClusterRuns | null;
  /** role "all" in a cluster: this node's own worker of the cluster's queue */
  private readonly clusterWorker: RunWorker | null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly finish: (run: LiveRun, status: RunStatus, error: string | null) => Promise<void>;

  constructor(o: RunManagerOptions) {
    this.core = new RunCore(o);
    this.pool = new WorkerPool({
      log: o.log,
      idleMs: o.workerIdleMs,
      engine: engineSpec(o, o.workers),
      onBackend: (backend) => {
        this.core.backend = backend;
        this.core.speed.setBackend(backend);
      },
    });
    const sink = roomSink(this.core);
    const finish = (run: LiveRun, status: RunStatus, error: string | null) =>
      finishRun(this.core, sink, this.scheduler, run, status, error);
    this.finish = finish;
    this.launcher = new RunLauncher(this.core, sink, this.pool, finish);
    this.launcher.onFailed = (run, message) => {
      const room = this.core.roomOf(run);
      if (room) o.broadcast.error(room, message);
    };
    this.scheduler = new LocalScheduler(this.core, this.pool, (run) =>
      this.launcher.launch(run, run.resumeAt ? { startIteration: run.resumeAt } : undefined),
    );
    // cluster runs (REDIS_URL): a gateway runs no job, a node of role "all" is also a worker of the cluster's queue
    const redisUrl = o.redisUrl;
    this.cluster = redisUrl ? new ClusterRuns(this.core, { ...o, redisUrl }) : null;
    this.clusterWorker =
      redisUrl && o.role !== "gateway" ? new RunWorker({ ...o, redisUrl, workerId: o.nodeId }) : null;
    const cluster = this.cluster;
    this.control = new RunControl(this.core, finish, {
      cancel: (room, run) => (cluster ? cluster.cancel(run) : Promise.resolve(false)),
      forwardEdit: cluster ? (run, edit, authorId) => cluster.forwardEdit(run, edit, authorId) : null,
    });
    this.recovery = new RunRecovery(this.core, (run) => this.scheduler.enqueue(run));
  }

  /** the deployment's speed for estimates before Start (runs/speed-model.ts), learned from completed runs */
  get speed(): SpeedTracker {
    return this.core.speed;
  }
  /**
   * The speed model for the estimate before Start, with the wait a run started now would have
   * behind the jobs this node holds (embedded mode; a gateway holds none and says nothing of it).
   */
  estimateSpeed(): SpeedModel {
    const speed = this.core.speed.current();
    return this.cluster ? speed : { ...speed, queueWaitSeconds: roundEta(this.scheduler.newJobWait()) ?? 0 };
  }

  /** the backend the last worker reported (for /health) */
  get backend(): string | null {
    return this.core.backend;
  }
  /** webgpu: the GPU adapter the last worker reported (for /health) */
  get adapter(): string | null {
    return this.core.adapter;
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /** Recovers runs left behind by a stopped process, then keeps leases fresh and sweeps periodically. */
  async start(): Promise<void> {
    // what completed runs taught this deployment (every node reads the same Run rows)
    await this.core.speed.load(this.core.o.db, this.core.o.log);
    // a gateway holds no run: the dispatcher works from the database, workers resume from checkpoints
    if (this.cluster) {
      await this.cluster.start();
      await this.clusterWorker?.start();
      return;
    }
    await this.recoverStaleRuns();
    if (this.core.o.prewarm) for (let i = 0; i < this.core.o.workers; i++) this.pool.prewarm();
    const heartbeat = setInterval(() => void this.recovery.heartbeat(), HEARTBEAT_MS);
    const sweep = setInterval(() => {
      this.recoverStaleRuns().catch((error) => this.core.o.log.error("runs.sweep_failed", { error }));
    }, SWEEP_MS);
    heartbeat.unref();
    sweep.unref();
    this.timers.push(heartbeat, sweep);
  }

  /** Runs marked running/queued whose holder is gone: running → interrupted, queued → this node's queue. */
  recoverStaleRuns(): Promise<void> {
    return this.recovery.recoverStaleRuns();
  }

  // ───────────────────────────── rooms ─────────────────────────────

  /** Gives a freshly loaded room its current run: one this node holds, else the latest Run row. */
  async attachLatestRun(room: LiveRoom): Promise<void> {
    await attachLatestRun(this.core, room);
    await this.cluster?.fillLive(room);
  }

  /** Cluster mode: keeps a copy of the room's run that another node reports. */
  mirrorRemote(room: LiveRoom, info: RunInfo | null, restartNeeded: RoomField[]): void {
    mirrorRemote(room, info, restartNeeded);
  }

  /** File paths of the run's images, checking that they exist and that the user may use them. */
  resolveImages(params: RunParams, userId: string): Promise<{ contentPath: string; stylePaths: string[] }> {
    return this.core.files.resolveImages(params, userId);
  }

  // ───────────────────────────── starting ─────────────────────────────

  /**
   * Starts a run from the room's document. With `restart`, the room's current run is cancelled
   * first and the new one starts from its latest image (or an interrupted/finished run's
   * checkpoint or final image). `from`: start from the image an earlier run of the room left
   * (branching), or from an image file (a promoted sweep cell).
   */
  startRun(room: LiveRoom, user: User, restart: boolean, from?: RunStartImage): Promise<LiveRun> {
    if (this.core.closing) return Promise.reject(new ServiceError("conflict", "the optimiser is shutting down"));
    // one start at a time per room: a second one sent meanwhile is refused, not queued behind it
    // (checked and claimed synchronously, so two starts cannot both pass)
    if (this.roomOps.busy(room.id))
      return Promise.reject(new ServiceError("conflict", "a run is being started or stopped in this room; try again"));
    return this.roomOps.run(room.id, () => this.startRunNow(room, user, restart, from));
  }

  /** The room's settings, or for a large render the finished run's own, overridden for this run only. */
  private async paramsToRun(room: LiveRoom, from?: RunStartImage): Promise<RunParams> {
    if (from && "runId" in from && from.render)
      return renderLargeRunParams(this.core.o.db, room.id, from.runId, from.render, this.core.o.limits);
    const parsed = runParams.safeParse(room.document);
    if (!parsed.success) throw new ServiceError("invalid", `cannot start: ${formatZodError(parsed.error)}`);
    return parsed.data;
  }

  private async startRunNow(room: LiveRoom, user: User, restart: boolean, from?: RunStartImage): Promise<LiveRun> {
    const { db, log, limits } = this.core.o;
    const files = this.core.files;
    const params = await this.paramsToRun(room, from);
    const overCap = runSizeRefusal(params, limits);
    if (overCap) throw new ServiceError("limit", overCap);
    const paths = await files.resolveImages(params, user.id);
    // checked before anything is cancelled: a refused branch leaves the going run alone
    const fromRunId = from && "runId" in from ? from.runId : null;
    const branchImage = fromRunId
      ? await files.imageOfRoomRun(room.id, fromRunId)
      : from && "imagePath" in from
        ? from.imagePath
        : null;

    const previous = room.run;
    // the user's queued/running runs, not counting the one a restart replaces (checked before
    // anything is cancelled, so a refused restart leaves the going run alone)
    const replaced = restart && previous && isActive(previous.status) ? [previous.id] : [];
    const active = await db.run.count({
      where: { authorId: user.id, status: { in: ACTIVE }, id: { notIn: replaced } },
    });
    const tooMany = activeRunLimitRefusal(active, limits);
    if (tooMany) throw new ServiceError("limit", tooMany);
    if (previous && isActive(previous.status)) {
      if (!restart) throw new ServiceError("conflict", "a run is already going in this room (restart it instead)");
      await this.control.cancelActive(room);
    }
    // the previous run may have been replaced while we waited (another node, a recovered run)
    if (room.run && room.run !== previous && isActive(room.run.status)) {
      throw new ServiceError("conflict", "another run was started in this room meanwhile");
    }
    const initImagePath = branchImage ?? (restart && previous ? await files.imageToContinueFrom(previous.id) : null);
    const resumedFromId = branchImage ? fromRunId : initImagePath && previous ? previous.id : null;
    // an interrupted run restarted as it was runs only what it had left (a cluster's workers
    // resume their runs themselves, from the run's own checkpoint)
    const startIteration = this.cluster
      ? 0
      : resumeStartIteration(previous ?? null, params, Boolean(!branchImage && resumedFromId));

    let row: Awaited<ReturnType<Db["run"]["create"]>>;
    try {
      row = await db.run.create({
        data: {
          roomId: room.id,
          authorId: user.id,
          params: serializeRunParams(params),
          seed: params.seed,
          status: "queued",
          resumedFromId,
          iterations: startIteration,
          // the database's own guard: a second active run of the room violates the unique index
          activeRoomId: room.id,
        },
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ServiceError("conflict", "another run is already going in this room (started elsewhere)");
      throw error;
    }
    const run = liveRunFromRow(row, params);
    Object.assign(run, { local: !this.cluster, initImagePath, ...paths });
    if (startIteration > 0) run.resumeAt = startIteration;
    room.attachRun(run);
    this.core.recomputeRestartNeeded(room);
    log.info("run.queued", {
      runId: run.id,
      roomId: room.id,
      userId: user.id,
      resumedFromId,
      startIteration,
      size: params.size,
      iterations: params.iterations,
    });
    if (this.cluster) await this.cluster.submitted(run, initImagePath);
    else await this.scheduler.enqueue(run);
    return run;
  }

  /** where images and run files are kept (sweeps keep their cells' images there too) */
  get fileStore(): FileStore {
    return this.core.files.store;
  }

  /** cluster mode: the run bus (sweeps travel on it too); null when this node runs its own queue */
  get clusterBus(): RunBus | null {
    return this.cluster?.bus ?? null;
  }

  /** cluster mode: the dispatcher looks at the queue now rather than on its next round */
  dispatchSoon(): void {
    this.cluster?.dispatchSoon();
  }

  /** Queues a batch in the fair queue (it runs when its user's turn comes, like a run). */
  enqueueBatch(batch: QueueBatch): void {
    if (this.core.closing) throw new ServiceError("conflict", "the optimiser is shutting down");
    this.scheduler.enqueueBatch(batch);
  }

  // ───────────────────────────── control ─────────────────────────────

  /**
   * `run:cancel`: stops every active run of the room (after any start or restart in progress).
   * Queued ones are removed; running ones stop with their image kept as a checkpoint.
   */
  cancelRoom(room: LiveRoom): Promise<void> {
    return this.roomOps.run(room.id, async () => {
      const stopped = await this.control.cancelActive(room);
      if (stopped === 0) throw new ServiceError("not_found", "no run is going in this room");
    });
  }

  /** Cancels one run (queued: removed; running: stopped, its image kept as a checkpoint). */
  cancelRun(room: LiveRoom, run: LiveRun | null = room.run): Promise<void> {
    return this.control.cancelRun(room, run);
  }

  /** A document field changed: live-edits the going run where it can; whether the field now needs a restart. */
  onDocumentEdit(room: LiveRoom, edit: FieldEdit, authorId: string): boolean {
    return this.control.onDocumentEdit(room, edit, authorId);
  }

  /** The fields whose document value differs from what the current run uses and that it cannot follow live. */
  recomputeRestartNeeded(room: LiveRoom): RoomField[] {
    return this.core.recomputeRestartNeeded(room);
  }

  /** Saves a run's final (or current) image as a Result with full provenance (runs/results.ts). */
  saveResult(
    room: LiveRoom,
    user: User,
    request: { runId: string; title: string; isPublic: boolean; preview: boolean },
  ): Promise<string> {
    return saveResult(this.core, room, user, request);
  }

  // ───────────────────────────── shutdown, health, tests ─────────────────────────────

  /**
   * Stops every running job with a fresh checkpoint and marks it interrupted (resumable);
   * queued runs stay queued in the database and are picked up by the next start.
   */
  async shutdown(): Promise<void> {
    this.core.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    this.scheduler.stop();
    const held = [...this.core.active.values()];
    await Promise.all(
      held.map(async (run) => {
        if (run.status === "queued") {
          this.scheduler.forget(run.id);
          this.core.active.delete(run.id);
          await removeLease(this.core.files.store, run.id).catch(() => {});
          return;
        }
        run.stopReason = "shutdown";
        const worker = run.worker;
        if (worker) {
          const checkpoint = await worker.checkpoint(10_000);
          if (checkpoint) run.checkpointPath = this.core.files.relative(checkpoint);
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
    this.core.speed.stop();
    // its running jobs checkpoint and stay `running`: another worker of the cluster resumes them
    await this.clusterWorker?.close();
    await this.cluster?.close();
  }

  health(): { workers: number; running: number; queued: number; threads: number; idleThreads: number } {
    const size = this.scheduler.size;
    const pool = this.pool.size;
    return {
      workers: size.concurrency,
      running: this.clusterWorker?.running ?? size.running,
      queued: size.waiting,
      threads: pool.threads,
      idleThreads: pool.idle,
    };
  }

  /** Test/drill hooks: kill a run's engine process for real, or make the next one throw or abort natively. */
  debugTerminateWorker(runId: string): Promise<void> {
    const worker = this.core.active.get(runId)?.worker;
    if (!worker) throw new Error(`run ${runId} has no worker on this node`);
    return worker.terminate();
  }
  debugEnginePid(runId: string): number | null {
    return this.core.active.get(runId)?.worker?.pid ?? null;
  }
  debugCrashNextRunAt(iteration: number, how: "throw" | "abort" = "throw"): void {
    this.launcher.crashNextAt = { iteration, how };
  }
}
