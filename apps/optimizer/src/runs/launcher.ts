/**
 * Runs a queued run on one of this node's engine processes and turns what the process says
 * (started, iterations, previews, checkpoints, its end) into run state, database updates and
 * room broadcasts.
 */
import type { IterationStats, RunStatus } from "@atelier/protocol";
import { memberVisibleError } from "../common/errors.ts";
import type { JobHandle, WorkerEnd, WorkerPool } from "../engine-slots/slot-pool.ts";
import type { LiveRun } from "../common/live-run.ts";
import type { RunRuntime, RunSink } from "./core.ts";
import { addLevelSample } from "./eta.ts";
import type { PreviewFrame } from "../rooms/live-room.ts";
import type { WorkerJob, WorkerToMain } from "../engine-slots/slot-messages.ts";
import { metrics } from "../common/metrics.ts";

/** Records a run's end (runs/end.ts). */
export type FinishRun = (run: LiveRun, status: RunStatus, error: string | null) => Promise<void>;

/** The status and member-visible error a worker's end means, given why the service stopped it (if it did). */
export function endStatus(
  end: WorkerEnd,
  stopReason: LiveRun["stopReason"],
): { status: RunStatus; error: string | null } {
  if (end.kind === "done") return { status: "completed", error: null };
  if (end.kind === "cancelled") return { status: stopReason === "shutdown" ? "interrupted" : "cancelled", error: null };
  if (stopReason === "cancel") return { status: "cancelled", error: null };
  if (stopReason === "shutdown")
    return { status: "interrupted", error: "the optimiser was shut down while this run was going" };
  return { status: "failed", error: memberVisibleError(end.error) };
}

/** Engine processes killed under one run that it survives (an OOM kill that repeats must end it). */
const MAX_ENGINE_RESTARTS = 2;

/**
 * Whether a run whose engine process died goes on in a new one (from its checkpoint) rather than
 * failing: only when the process was killed from outside (SIGKILL: the OOM killer, kill -9) while
 * nobody stopped the run, a few times at most. A native abort (SIGABRT) or an exception is the
 * engine's own failure on this job, which a retry would most likely repeat: the run fails.
 */
export function shouldResumeAfter(
  end: WorkerEnd,
  run: Pick<LiveRun, "stopReason" | "engineRestarts">,
  closing: boolean,
): boolean {
  return (
    end.kind === "failed" &&
    end.signal === "SIGKILL" &&
    run.stopReason === null &&
    !closing &&
    run.engineRestarts < MAX_ENGINE_RESTARTS
  );
}

export class RunLauncher {
  /** one-shot fault injection for crash tests: the next run's engine process throws, or aborts natively, at this iteration */
  crashNextAt: { iteration: number; how: "throw" | "abort" } | null = null;
  /** tells the room a run failed (embedded); a worker's failure reaches rooms through the run's state */
  onFailed: ((run: LiveRun, message: string) => void) | null = null;
  /** each run's file uploads to the store, in order (see keeping) */
  private readonly uploads = new Map<string, Promise<void>>();

  constructor(
    private readonly core: RunRuntime,
    private readonly sink: RunSink,
    private readonly pool: WorkerPool,
    private readonly finish: FinishRun,
  ) {}

  /** The job an engine process runs for this run. */
  jobOf(run: LiveRun): WorkerJob {
    const o = this.core.o;
    const crash = this.crashNextAt;
    this.crashNextAt = null;
    return {
      runId: run.id,
      params: run.params,
      contentPath: run.contentPath!,
      stylePaths: run.stylePaths,
      initImagePath: run.initImagePath,
      previewFps: o.previewFps,
      previewMime: o.previewMime,
      checkpointEvery: o.checkpointEvery,
      checkpointPath: this.core.files.checkpointFile(run.id),
      finalPath: this.core.files.finalImagePath(run.id),
      ...(crash?.how === "throw" ? { crashAtIteration: crash.iteration } : {}),
      ...(crash?.how === "abort" ? { abortAtIteration: crash.iteration } : {}),
    };
  }

  launch(run: LiveRun, resume?: { startIteration: number }): void {
    const { db, log } = this.core.o;
    run.status = "running";
    run.startedAt = new Date();
    if (!resume) metrics.jobWait.observe(Math.max(0, run.startedAt.getTime() - run.createdAt.getTime()) / 1000);
    run.queuePosition = null;
    const job = { ...this.jobOf(run), ...(resume ? { startIteration: resume.startIteration } : {}) };
    let handle: JobHandle;
    try {
      handle = this.pool.run(job, {
        onMessage: (message) => this.onWorkerMessage(run, message),
        onEnd: (end) => void this.onWorkerEnd(run, end),
      });
    } catch (error) {
      void this.onWorkerEnd(run, { kind: "failed", error: `could not start a worker: ${(error as Error).message}` });
      return;
    }
    run.worker = handle;
    log.info("run.started", { runId: run.id, roomId: run.roomId, pid: handle.pid });
    db.run
      .update({ where: { id: run.id }, data: { status: "running", startedAt: run.startedAt } })
      .catch((error) => log.error("run.db_update_failed", { runId: run.id, error }));
    this.sink.started(run);
  }

  private onWorkerMessage(run: LiveRun, message: WorkerToMain): void {
    const { db, log } = this.core.o;
    switch (message.type) {
      case "started":
        run.backend = message.backend;
        run.modelHash = message.modelHash;
        run.levels = message.levels
          ? { sizes: message.levels, first: message.firstLevel ?? 0, from: message.fromIteration ?? 0 }
          : null;
        this.core.backend = message.backend;
        this.core.adapter = message.adapter ?? null;
        this.core.speed.setBackend(message.backend);
        // the run record names the GPU adapter a webgpu run ran on
        db.run
          .update({
            where: { id: run.id },
            data: {
              backend: message.adapter ? `${message.backend} on ${message.adapter}` : message.backend,
              modelHash: message.modelHash,
            },
          })
          .catch((error) => log.error("run.db_update_failed", { runId: run.id, error }));
        return;
      case "iteration": {
        const e = message.event;
        run.iteration = e.iteration;
        run.computeMs += e.ms;
        metrics.iterations.inc({ backend: run.backend ?? "unknown" });
        addLevelSample(run.levelSamples, e.scale, e.ms);
        if (e.width > 0 && e.height > 0) run.aspect = Math.min(e.width, e.height) / Math.max(e.width, e.height);
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
        this.sink.stats(run, stats);
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
        this.sink.preview(run, frame);
        return;
      }
      case "checkpoint":
        // the row names the checkpoint once the store has it (another node may resume from it)
        void this.keeping(run.id, async () => {
          run.checkpointPath = await this.core.files.keep(message.path);
          run.checkpointIteration = message.iteration;
          await db.run
            .update({
              where: { id: run.id },
              data: {
                checkpointPath: run.checkpointPath,
                iterations: message.iteration,
                computeMs: Math.round(run.computeMs),
              },
            })
            .catch((error) => log.error("run.db_update_failed", { runId: run.id, error }));
          log.debug("run.checkpoint", { runId: run.id, iteration: message.iteration });
        });
        return;
      case "updated":
        log.info("run.weights_applied", {
          runId: run.id,
          fromIteration: message.iteration + 1,
          weights: message.weights,
        });
        return;
      case "update-refused":
        log.warn("run.weights_refused", { runId: run.id, weights: message.weights, error: message.error });
        return;
      default:
        return;
    }
  }

  /** The run's engine process was killed: the run goes on in a new one from its latest checkpoint (else from its start). */
  private async resumeInNewProcess(run: LiveRun, end: WorkerEnd): Promise<void> {
    run.engineRestarts += 1;
    const checkpoint = await this.core.files.existingCheckpoint(run.checkpointPath);
    const from = checkpoint ? (run.checkpointIteration ?? 0) : 0;
    this.core.o.log.warn("run.engine_lost", {
      runId: run.id,
      roomId: run.roomId,
      error: end.kind === "failed" ? end.error : end.kind,
      resumeFrom: from,
    });
    if (checkpoint) run.initImagePath = checkpoint;
    run.iteration = from;
    // the levels measured so far are redone: the time left follows the new process's speed
    run.levelSamples = [];
    run.levels = null;
    this.launch(run, checkpoint && from > 0 ? { startIteration: from } : undefined);
  }

  /**
   * Runs `keep` after the run's earlier file uploads (one chain per run, so checkpoints reach the
   * store in order and the run's end waits for them); a failed upload is logged, never thrown.
   */
  private keeping(runId: string, keep: () => Promise<void>): Promise<void> {
    const next = (this.uploads.get(runId) ?? Promise.resolve())
      .then(keep)
      .catch((error) => this.core.o.log.error("run.file_store_failed", { runId, error }));
    this.uploads.set(runId, next);
    return next;
  }

  private async onWorkerEnd(run: LiveRun, end: WorkerEnd): Promise<void> {
    run.worker = null;
    if (shouldResumeAfter(end, run, this.core.closing ?? false)) {
      await this.resumeInNewProcess(run, end);
      return;
    }
    if (end.kind === "done") this.core.speed.runEnded({ ...run, width: end.width, height: end.height }, true);
    if (end.kind === "done") {
      run.iteration = end.iteration;
      await this.keeping(run.id, async () => {
        run.checkpointPath = await this.core.files.keep(end.path);
      });
    } else if (end.kind === "cancelled" && end.checkpointPath) {
      const file = end.checkpointPath;
      await this.keeping(run.id, async () => {
        // the checkpoint message kept it already, unless the run ended before that message
        if (run.checkpointPath !== this.core.files.relative(file))
          run.checkpointPath = await this.core.files.keep(file);
      });
    }
    await this.uploads.get(run.id);
    this.uploads.delete(run.id);
    const { status, error } = endStatus(end, run.stopReason);
    if (status === "failed" && end.kind === "failed") {
      // the full error (it may name server paths) goes to the log; members get it without paths
      this.core.o.log.error("run.worker_failed", { runId: run.id, roomId: run.roomId, error: end.error });
    }
    await this.finish(run, status, error);
    if (status === "failed") this.onFailed?.(run, `the run failed: ${error}`);
  }
}
