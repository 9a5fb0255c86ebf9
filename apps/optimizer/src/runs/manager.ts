/**
 * Runs: from `run:start` to a finished Run row. RunManager builds the run service's parts, each
 * in its own file, and holds the node's side of them: start (recovery, timers), shutdown and
 * health. The gateway (gateway/run-handlers.ts) and sweeps call the parts directly:
 * `starter` (runs/starter.ts: start, restart, cancel a room's run), `control` (runs/control.ts:
 * cancel one run, live edits), `core` (runs/core.ts: the runs held here, files, learned speed),
 * `scheduler` (runs/scheduler.ts: the fair queue, positions/ETAs), `launcher` (runs/launcher.ts:
 * engine slots → room), `cluster` (cluster/gateway-runs.ts, with REDIS_URL). Also here:
 * runs/end.ts (a run's end recorded), runs/recovery.ts (leases, adopting runs of a stopped
 * process), runs/results.ts (saved results), runs/views.ts (a room's current run, mirrors of
 * other nodes' runs).
 */
import type { RunStatus } from "@atelier/protocol";
import { engineSpec, WorkerPool } from "../engine-slots/slot-pool.ts";
import { removeLease } from "./lease.ts";
import type { LiveRun } from "../common/live-run.ts";
import { RunControl } from "./control.ts";
import { RunCore, roomSink, type RunManagerOptions } from "./core.ts";
import { finishRun } from "./end.ts";
import { RunLauncher } from "./launcher.ts";
import { ClusterRuns } from "../cluster/gateway-runs.ts";
import { RunRecovery } from "./recovery.ts";
import { RunWorker } from "../cluster/run-worker-role.ts";
import { LocalScheduler } from "./scheduler.ts";
import { RunStarter } from "./starter.ts";

const HEARTBEAT_MS = 10_000;
const SWEEP_MS = 30_000;

export class RunManager {
  /** what the parts share: the runs this node holds, their files, the learned speed */
  readonly core: RunCore;
  /** `run:start` / restart / `run:cancel` of a room, one at a time per room */
  readonly starter: RunStarter;
  /** cancelling one run, live edits */
  readonly control: RunControl;
  /** this node's fair queue of runs and sweeps (embedded mode) */
  readonly scheduler: LocalScheduler;
  /** runs a queued run on an engine slot (its crash hook is a test/drill hook) */
  readonly launcher: RunLauncher;
  /** gateway role: runs go to cluster workers (cluster/gateway-runs.ts); null: this node runs them */
  readonly cluster: ClusterRuns | null;
  private readonly pool: WorkerPool;
  private readonly recovery: RunRecovery;
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
    const cluster = redisUrl ? new ClusterRuns(this.core, { ...o, redisUrl }) : null;
    this.cluster = cluster;
    this.clusterWorker =
      redisUrl && o.role !== "gateway" ? new RunWorker({ ...o, redisUrl, workerId: o.nodeId }) : null;
    this.control = new RunControl(this.core, finish, {
      cancel: (room, run) => (cluster ? cluster.cancel(run) : Promise.resolve(false)),
      forwardEdit: cluster ? (run, edit, authorId) => cluster.forwardEdit(run, edit, authorId) : null,
    });
    this.starter = new RunStarter(
      this.core,
      this.control,
      (run, initImagePath) => (cluster ? cluster.submitted(run, initImagePath) : this.scheduler.enqueue(run)),
      Boolean(cluster),
    );
    this.recovery = new RunRecovery(this.core, (run) => this.scheduler.enqueue(run));
  }

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
    await this.recovery.recoverStaleRuns();
    if (this.core.o.prewarm) for (let i = 0; i < this.core.o.workers; i++) this.pool.prewarm();
    const heartbeat = setInterval(() => void this.recovery.heartbeat(), HEARTBEAT_MS);
    const sweep = setInterval(() => {
      this.recovery.recoverStaleRuns().catch((error) => this.core.o.log.error("runs.sweep_failed", { error }));
    }, SWEEP_MS);
    heartbeat.unref();
    sweep.unref();
    this.timers.push(heartbeat, sweep);
  }

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
}
