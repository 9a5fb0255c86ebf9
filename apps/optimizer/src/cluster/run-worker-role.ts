/**
 * The worker role (cluster mode): a BullMQ worker that runs queued runs on this process's
 * engine processes, one job per slot (ATELIER_WORKERS). It claims the Run row, publishes the
 * run's state, stats and previews on the run bus, follows the run's control channel (cancel,
 * live edits), and records the run's end itself, so no gateway owns a run. A job whose
 * previous holder died (its BullMQ lock expired: kill -9, lost machine) comes back to a
 * worker with its row still `running`: the worker resumes it from its last checkpoint
 * (image and iteration count).
 */
import { Worker, type Job } from "bullmq";
import { readRunParams, type Db } from "@atelier/db";
import { adapterLabel, detectAdapter } from "@atelier/engine";
import { parseFieldEdit, runJobData, sweepJobData, type RunControl, type WorkerSlots } from "@atelier/protocol";
import { memberVisibleError } from "../common/errors.ts";
import { isLeaseHeld, readLease, writeLease } from "../runs/lease.ts";
import { engineSpec, WorkerPool } from "../engine-slots/slot-pool.ts";
import { ACTIVE, toRunInfo, type LiveRun } from "../common/live-run.ts";
import type { Logger } from "../common/log.ts";
import { expectedBackend, type Settings } from "../config.ts";
import { RunBus, redisClient } from "./run-bus.ts";
import type { RunRuntime } from "../runs/core.ts";
import { applyLiveEdit } from "../runs/edits.ts";
import { finishRun } from "../runs/end.ts";
import { RunFiles } from "../runs/files.ts";
import { RunLauncher } from "../runs/launcher.ts";
import { busSink } from "./run-bus-sink.ts";
import { liveRunFromRow } from "../runs/views.ts";
import { SpeedTracker } from "../runs/speed-model.ts";
import { SweepWorker } from "../sweeps/sweep-job.ts";
import { isGpuWorker } from "./placement.ts";

/** The BullMQ queue of runs and sweep cells for CPU workers (keys `<prefix>bull:runs:*`; job names "run", "sweep"). */
export const RUN_QUEUE = "runs";
/** The same for GPU workers (placement.ts's isGpuWorker): the dispatcher puts big jobs there. */
export const RUN_QUEUE_GPU = "runs-gpu";
/**
 * A killed worker's job is taken over after its lock expires (LOCK_MS) and the next stalled
 * check of a live worker (STALLED_CHECK_MS): ≤ 15 s, inside the 30 s target.
 */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;
/** how often a worker renews its slots key, and how long the key outlives a silent worker */
const SLOTS_RENEW_MS = 2_000;
const SLOTS_TTL_MS = 6_000;
/** the sorted set of live workers' ids, scored by when their slots key expires */
export const WORKER_REGISTRY = "workers";
/** the run's lease file in DATA_DIR (runs/lease.ts) is refreshed this often while a worker holds the run */
const LEASE_RENEW_MS = 10_000;

/** The worker's settings (`workers`: its jobs at once, one per GPU) and what it works with. */
type RunWorkerOptions = Pick<
  Settings,
  | "dataDir"
  | "redisPrefix"
  | "workers"
  | "backend"
  | "engineThreads"
  | "testNoOnnx"
  | "previewFps"
  | "previewMime"
  | "checkpointEvery"
  | "workerIdleMs"
  | "prewarm"
> & {
  db: Db;
  log: Logger;
  redisUrl: string;
  workerId: string;
};

export class RunWorker {
  private readonly bus: RunBus;
  private readonly pool: WorkerPool;
  private readonly runtime: RunRuntime;
  private readonly launcher: RunLauncher;
  private readonly sweeps: SweepWorker;
  private readonly finish: (run: LiveRun, status: LiveRun["status"], error: string | null) => Promise<void>;
  private bull: Worker | null = null;
  private slotsTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private closing = false;
  /** webgpu (and auto) workers: the GPU adapter their runs use, advertised with the slots */
  private adapter: NonNullable<WorkerSlots["adapter"]> | null = null;
  /** the backend it advertises until an engine process reports the one it loaded */
  private advertised: string;

  constructor(private readonly o: RunWorkerOptions) {
    this.bus = new RunBus(o.redisUrl, o.redisPrefix, o.log);
    this.runtime = {
      o: { ...o, nodeId: o.workerId },
      files: new RunFiles(o.db, o.dataDir),
      active: new Map(),
      speed: new SpeedTracker(expectedBackend(o.backend)),
      backend: null,
      adapter: null,
    };
    this.advertised = o.backend;
    this.pool = new WorkerPool({
      log: o.log,
      idleMs: o.workerIdleMs,
      engine: engineSpec(o, o.workers),
      onBackend: (backend) => {
        this.runtime.backend = backend;
        this.runtime.speed.setBackend(backend);
      },
    });
    const sink = busSink(this.bus, this.runtime, o.workerId, o.log);
    const noSlots = { forget: () => {}, pump: () => {} }; // BullMQ frees the slot when the processor returns
    this.finish = (run, status, error) => finishRun(this.runtime, sink, noSlots, run, status, error);
    this.launcher = new RunLauncher(this.runtime, sink, this.pool, this.finish);
    this.sweeps = new SweepWorker({
      db: o.db,
      bus: this.bus,
      pool: this.pool,
      files: this.runtime.files,
      log: o.log,
      workerId: o.workerId,
    });
  }

  get running(): number {
    return this.runtime.active.size + this.sweeps.running;
  }

  /** For GET /health: healthy while it takes jobs and reaches Redis. */
  health(): {
    ok: boolean;
    worker: string;
    concurrency: number;
    running: number;
    redis: string;
    backend: string;
    adapter?: string;
    gpu: boolean;
  } {
    const redis = this.bus.redis.status;
    return {
      ok: !this.closing && redis === "ready" && Boolean(this.bull?.isRunning()),
      worker: this.o.workerId,
      concurrency: this.o.workers,
      running: this.running,
      redis,
      backend: this.backend,
      // the adapter its last run reported, else the one it detected at start
      ...(this.runtime.adapter || this.adapter ? { adapter: this.runtime.adapter ?? this.adapterText() } : {}),
      gpu: isGpuWorker({ backend: this.backend, adapter: this.adapter }),
    };
  }

  private get backend(): string {
    return this.runtime.backend ?? this.advertised;
  }

  private adapterText(): string | undefined {
    const a = this.adapter;
    return a ? `${adapterLabel(a)}${a.software ? ", software" : ""}` : undefined;
  }

  async start(): Promise<void> {
    await this.runtime.speed.load(this.o.db, this.o.log);
    if (this.o.prewarm) for (let i = 0; i < this.o.workers; i++) this.pool.prewarm();
    // webgpu runs on the adapter Vulkan shows; auto takes webgpu first when that adapter is a real
    // GPU (the engine's autoOrder): either way, the adapter says which queue this worker takes from
    if (this.o.backend === "webgpu" || this.o.backend === "auto") {
      const adapter = await detectAdapter();
      this.adapter = adapter && { vendor: adapter.vendor, device: adapter.device, software: adapter.software };
      if (this.o.backend === "auto" && adapter && !adapter.software) this.advertised = "webgpu";
    }
    const gpu = isGpuWorker({ backend: this.backend, adapter: this.adapter });
    this.o.log.info("worker.placement", { backend: this.backend, adapter: this.adapterText() ?? null, gpu });
    this.bull = new Worker(gpu ? RUN_QUEUE_GPU : RUN_QUEUE, (job) => this.process(job), {
      connection: redisClient(this.o.redisUrl, this.o.log, "bull-worker"),
      prefix: `${this.o.redisPrefix}bull`,
      concurrency: this.o.workers,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      // a run survives many worker deaths: each one resumes it from its checkpoint
      maxStalledCount: 1000,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
    this.bull.on("error", (error) => this.o.log.warn("worker.queue_error", { error }));
    await this.bull.waitUntilReady();
    await this.renewSlots();
    this.slotsTimer = setInterval(() => void this.renewSlots(), SLOTS_RENEW_MS);
    this.slotsTimer.unref();
    this.leaseTimer = setInterval(() => void this.renewLeases(), LEASE_RENEW_MS);
    this.leaseTimer.unref();
  }

  /** Keeps the lease of every run held here fresh: a second job for the same run (Redis lost its state) sees it is held. */
  private async renewLeases(): Promise<void> {
    for (const run of this.runtime.active.values()) {
      await writeLease(this.runtime.files.store, run.id, this.o.workerId).catch((error: unknown) =>
        this.o.log.warn("runs.lease_write_failed", { runId: run.id, error }),
      );
    }
  }

  /**
   * Tells the dispatcher this worker's capacity: a key that expires when the worker goes silent,
   * listed in a sorted set scored by that expiry (the dispatcher reads the set, never KEYS, which
   * walks every key of the Redis and blocks it meanwhile).
   */
  private async renewSlots(): Promise<void> {
    // backend and adapter: what cluster/placement.ts needs to tell a GPU worker from a CPU one
    const slots: WorkerSlots = {
      workerId: this.o.workerId,
      concurrency: this.o.workers,
      running: this.running,
      backend: this.backend,
      adapter: this.adapter,
    };
    await this.bus.redis
      .multi()
      .set(`${this.o.redisPrefix}worker:${this.o.workerId}`, JSON.stringify(slots), "PX", SLOTS_TTL_MS)
      .zadd(`${this.o.redisPrefix}${WORKER_REGISTRY}`, Date.now() + SLOTS_TTL_MS, this.o.workerId)
      .exec()
      .catch((error: unknown) => this.o.log.warn("worker.slots_failed", { error }));
  }

  private async process(job: Job): Promise<void> {
    if (job.name === "sweep") {
      const sweep = sweepJobData.safeParse(job.data);
      if (sweep.success) return this.sweeps.process(sweep.data.sweepId, sweep.data.cell);
      this.o.log.warn("worker.invalid_job", { jobId: job.id });
      return;
    }
    const parsed = runJobData.safeParse(job.data);
    if (!parsed.success) {
      this.o.log.warn("worker.invalid_job", { jobId: job.id });
      return;
    }
    const { db, log } = this.o;
    const row = await db.run.findUnique({ where: { id: parsed.data.runId } });
    // cancelled or ended while it waited (or a duplicate job): nothing to do
    if (!row || !ACTIVE.includes(row.status as LiveRun["status"])) return;
    const params = readRunParams(row);
    const run = params ? liveRunFromRow(row, params) : null;
    if (!run) {
      await db.run.updateMany({
        where: { id: row.id, status: { in: ACTIVE } },
        data: { status: "failed", error: "its stored params are no longer valid", activeRoomId: null },
      });
      return;
    }
    run.local = true;
    const files = this.runtime.files;
    // a job for a run another live worker still holds (its job was lost and added again): leave it to that worker
    if (row.status === "running" && isLeaseHeld(await readLease(files.store, run.id))) {
      log.warn("worker.run_held_elsewhere", { runId: run.id });
      return;
    }
    // a row already `running` was held by a worker that died: continue from its checkpoint
    const checkpoint = row.status === "running" ? await files.existingCheckpoint(row.checkpointPath) : null;
    this.runtime.active.set(run.id, run);
    // listening before the claim, so a cancel sent right after it is not missed
    const stopControl = await this.bus.onControl(run.id, (control) => this.onControl(run, control));
    try {
      const claimed = await db.run.updateMany({
        where: { id: run.id, status: { in: ACTIVE } },
        data: { status: "running" },
      });
      if (claimed.count === 0) return;
      await writeLease(files.store, run.id, this.o.workerId);
      try {
        Object.assign(run, await files.resolveImages(run.params, run.authorId));
      } catch (error) {
        await this.finish(run, "failed", memberVisibleError((error as Error).message));
        return;
      }
      run.initImagePath = checkpoint ?? (await this.startImage(row.resumedFromId, run.id));
      if (!checkpoint) run.iteration = 0;
      // the loss history in Redis goes on from the checkpoint: what the dead holder showed after it is redone
      if (row.status === "running") await this.bus.trimHistory(run.id, run.iteration).catch(() => {});
      if (run.stopReason === "cancel") {
        await this.finish(run, "cancelled", null);
        return;
      }
      this.launcher.launch(run, checkpoint ? { startIteration: row.iterations } : undefined);
      if (row.status === "running") await this.announceResume(run, checkpoint);
      await run.ended;
    } finally {
      this.runtime.active.delete(run.id);
      await stopControl();
      log.debug("worker.job_done", { runId: run.id, status: run.status });
    }
  }

  /** What a new run starts from: the image the run it continues left, or the image its gateway named (a promoted sweep cell). */
  private async startImage(resumedFromId: string | null, runId: string): Promise<string | null> {
    const files = this.runtime.files;
    if (resumedFromId) return files.imageToContinueFrom(resumedFromId);
    const named = await this.bus.initImage(runId).catch(() => null);
    return named ? files.existingCheckpoint(named) : null;
  }

  /** Tells every gateway (and through them the room) that this worker took over a run another one left. */
  private async announceResume(run: LiveRun, checkpoint: string | null): Promise<void> {
    const files = this.runtime.files;
    const written = checkpoint
      ? ((await files.store.stat(files.relative(checkpoint)).catch(() => null))?.modifiedAt ?? null)
      : null;
    const sinceCheckpointMs = written === null ? null : Math.round(Date.now() - written);
    this.o.log.warn("run.resumed", {
      runId: run.id,
      roomId: run.roomId,
      workerId: this.o.workerId,
      iteration: run.iteration,
      fromCheckpoint: checkpoint !== null,
      sinceCheckpointMs,
    });
    await this.bus
      .publish({
        type: "resumed",
        roomId: run.roomId,
        runId: run.id,
        workerId: this.o.workerId,
        iteration: run.iteration,
        sinceCheckpointMs,
      })
      .catch((error: unknown) => this.o.log.warn("worker.publish_failed", { error }));
  }

  /** A gateway asks: cancel the run, or follow a document edit (same rules as embedded mode; repeats are ignored). */
  private onControl(run: LiveRun, control: RunControl): void {
    if (control.type === "cancel") {
      run.stopReason = "cancel";
      run.worker?.cancel();
      return;
    }
    // checked here, where it comes off the wire: the engine gets its field's type
    const parsed = parseFieldEdit(control.field, control.value);
    if (!parsed.ok) {
      this.o.log.warn("worker.invalid_edit", { runId: run.id, error: parsed.error });
      return;
    }
    const step = applyLiveEdit(run, parsed.edit, control.authorId);
    if (!step) return;
    run.params = step.params;
    run.liveEdits = step.liveEdits;
    run.worker?.update(step.weights);
    void this.bus.setInfo(toRunInfo(run)).catch(() => {});
  }

  /**
   * Stops taking jobs and lets go of the running ones without ending them: their rows stay
   * `running` with their last checkpoint, so another worker resumes them once their locks
   * expire (the same path as a crash, minus the crash).
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.slotsTimer) clearInterval(this.slotsTimer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.bus.redis
      .multi()
      .del(`${this.o.redisPrefix}worker:${this.o.workerId}`)
      .zrem(`${this.o.redisPrefix}${WORKER_REGISTRY}`, this.o.workerId)
      .exec()
      .catch(() => null);
    await this.sweeps.close();
    for (const run of this.runtime.active.values()) {
      const worker = run.worker;
      if (!worker) continue;
      // the checkpoint's own message records it on the row (runs/launcher.ts)
      await worker.checkpoint(10_000);
      await worker.dispose();
    }
    await this.bull?.close(true);
    await this.pool.close();
    this.runtime.speed.stop();
    await this.bus.close();
  }
}
