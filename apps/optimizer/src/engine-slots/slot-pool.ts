/**
 * The service's side of the worker threads. Each running job has a thread of its own; a
 * thread that finished a job cleanly stays loaded (backend, VGG-19 weights) and takes the
 * next one, which saves the many seconds of start-up a fresh thread needs. A thread that
 * crashed, failed or was killed is never reused.
 *
 * A job's end — finished, cancelled, failed, uncaught exception, thread death — is turned
 * into exactly one `onEnd` call.
 */
import { Worker } from "node:worker_threads";
import type { LiveWeights, RgbImage } from "@atelier/engine";
import type { Logger } from "../common/log.ts";
import type { MainToWorker, WorkerJob, WorkerToMain } from "./slot-messages.ts";
import { workerThreadEnv } from "../config.ts";
import { metrics } from "../common/metrics.ts";

export type WorkerEnd =
  | { kind: "done"; iteration: number; width: number; height: number; path: string }
  | { kind: "cancelled"; iteration: number; checkpointPath: string | null }
  | { kind: "failed"; error: string };

export interface JobEvents {
  onMessage(message: WorkerToMain): void;
  onEnd(end: WorkerEnd): void;
}

/** a plain-JS entry that registers tsx in the thread, then loads engine-slots/slot-body.ts */
const WORKER_URL = new URL("./slot-entry.mjs", import.meta.url);

/** Recycle a thread after this many jobs, so slow leaks (if any) cannot pile up. */
const MAX_JOBS_PER_THREAD = 50;

class WorkerThread {
  readonly worker: Worker;
  job: JobHandle | null = null;
  jobsRun = 0;
  dead = false;
  idleTimer: NodeJS.Timeout | null = null;
  private lastError: Error | null = null;

  constructor(
    backend: string,
    private readonly onDeath: (thread: WorkerThread) => void,
  ) {
    this.worker = new Worker(WORKER_URL, { env: workerThreadEnv(backend) });
    this.worker.on("message", (message: WorkerToMain) => this.job?.handle(message));
    this.worker.on("error", (error) => {
      // an uncaught exception inside the thread; 'exit' follows
      this.lastError = error;
    });
    this.worker.on("exit", (code) => {
      this.dead = true;
      // died under a job: the pool replaces it with a fresh engine for the next one
      if (this.job) metrics.engineRestarts.inc();
      const reason = this.lastError
        ? `worker crashed: ${this.lastError.message}`
        : `worker thread died unexpectedly (exit code ${code})`;
      this.job?.end({ kind: "failed", error: reason });
      this.onDeath(this);
    });
  }

  send(message: MainToWorker): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  /** Ends the thread normally (its job aborted), or terminates it if it does not end in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.dead) return;
    const ended = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.send({ type: "exit" });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), timeoutMs)));
    const outcome = await Promise.race([ended, late]);
    clearTimeout(timer);
    if (outcome === "late") await this.worker.terminate();
  }
}

/** One job on one thread: what the run manager talks to. */
export class JobHandle {
  private ended = false;
  private nextRequestId = 1;
  private readonly pending = new Map<number, (message: WorkerToMain) => void>();

  constructor(
    private readonly thread: WorkerThread,
    readonly runId: string,
    private readonly events: JobEvents,
    private readonly release: (thread: WorkerThread, reusable: boolean) => void,
  ) {}

  get threadId(): number {
    return this.thread.worker.threadId;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** @internal a message from the thread */
  handle(message: WorkerToMain): void {
    if (this.ended) return;
    if (
      message.type === "snapshot" ||
      message.type === "checkpoint-failed" ||
      (message.type === "checkpoint" && message.requestId !== undefined)
    ) {
      const resolve = this.pending.get(message.requestId!);
      this.pending.delete(message.requestId!);
      resolve?.(message);
      if (message.type !== "checkpoint") return;
    }
    switch (message.type) {
      case "done":
        this.end({
          kind: "done",
          iteration: message.iteration,
          width: message.width,
          height: message.height,
          path: message.path,
        });
        return;
      case "cancelled":
        this.end({ kind: "cancelled", iteration: message.iteration, checkpointPath: message.checkpointPath });
        return;
      case "failed":
        this.end({ kind: "failed", error: message.error });
        return;
      default:
        this.events.onMessage(message);
    }
  }

  /** @internal */
  end(end: WorkerEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.rejectPending("the run ended");
    this.thread.job = null;
    // a clean end leaves the thread reusable; after a failure its state is not trusted
    this.release(this.thread, end.kind !== "failed" && !this.thread.dead);
    this.events.onEnd(end);
  }

  private rejectPending(reason: string): void {
    for (const resolve of this.pending.values()) resolve({ type: "failed", error: reason });
    this.pending.clear();
  }

  private request(build: (requestId: number) => MainToWorker, timeoutMs: number): Promise<WorkerToMain> {
    if (this.ended) return Promise.resolve({ type: "failed", error: "the run has ended" });
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve({ type: "failed", error: `the worker did not answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(requestId, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      this.thread.send(build(requestId));
    });
  }

  update(weights: LiveWeights): void {
    if (!this.ended) this.thread.send({ type: "update", runId: this.runId, weights });
  }

  cancel(): void {
    if (!this.ended) this.thread.send({ type: "cancel", runId: this.runId });
  }

  /** The current image as raw RGB, or null (not started, ended, or no answer in time). */
  async snapshot(timeoutMs = 30_000): Promise<RgbImage | null> {
    const reply = await this.request((requestId) => ({ type: "snapshot", runId: this.runId, requestId }), timeoutMs);
    return reply.type === "snapshot" ? reply.image : null;
  }

  /** Writes a checkpoint now; resolves with its path, or null. */
  async checkpoint(timeoutMs = 30_000): Promise<string | null> {
    const reply = await this.request((requestId) => ({ type: "checkpoint", runId: this.runId, requestId }), timeoutMs);
    return reply.type === "checkpoint" ? reply.path : null;
  }

  /** Kills the thread at once (a test of crash handling, or a stuck cancel): reported as a failure. */
  terminate(): Promise<number> {
    return this.thread.terminate();
  }

  /** Ends the job and its thread without reporting anything more (the caller records the outcome). */
  async dispose(): Promise<void> {
    this.ended = true;
    this.rejectPending("the worker was stopped");
    this.thread.job = null;
    await this.thread.stop();
    this.thread.dead = true;
  }
}

export interface WorkerPoolOptions {
  log: Logger;
  /** the engine backend the threads run (ATELIER_BACKEND in their environment) */
  backend: string;
  /** keep a finished thread loaded this long for the next job (ms) */
  idleMs?: number;
}

export class WorkerPool {
  private readonly idle: WorkerThread[] = [];
  private readonly all = new Set<WorkerThread>();
  private closed = false;

  constructor(private readonly o: WorkerPoolOptions) {}

  /** Starts a thread and loads backend and weights into it, ready for the first job. */
  prewarm(): void {
    if (this.closed) return;
    const thread = this.spawn();
    thread.send({ type: "warm" });
    this.park(thread);
  }

  private spawn(): WorkerThread {
    const thread = new WorkerThread(this.o.backend, (t) => {
      this.all.delete(t);
      this.unpark(t);
    });
    this.all.add(thread);
    return thread;
  }

  private park(thread: WorkerThread): void {
    if (this.closed || thread.dead) {
      void thread.terminate();
      return;
    }
    this.idle.push(thread);
    thread.idleTimer = setTimeout(
      () => {
        this.unpark(thread);
        this.all.delete(thread);
        void thread.terminate();
        this.o.log.debug("worker.idle_exit", { threadId: thread.worker.threadId });
      },
      this.o.idleMs ?? 10 * 60_000,
    );
    thread.idleTimer.unref();
    // an idle thread must not keep the process alive
    thread.worker.unref();
  }

  private unpark(thread: WorkerThread): void {
    const i = this.idle.indexOf(thread);
    if (i >= 0) this.idle.splice(i, 1);
    if (thread.idleTimer) clearTimeout(thread.idleTimer);
    thread.idleTimer = null;
  }

  /** Runs a job on an idle loaded thread, or a new one. */
  run(job: WorkerJob, events: JobEvents): JobHandle {
    if (this.closed) throw new Error("the worker pool is closed");
    let thread = this.idle.pop();
    if (thread) this.unpark(thread);
    else thread = this.spawn();
    thread.worker.ref();
    const handle = new JobHandle(thread, job.runId, events, (t, reusable) => {
      t.jobsRun += 1;
      if (reusable && t.jobsRun < MAX_JOBS_PER_THREAD) {
        this.park(t);
      } else {
        this.all.delete(t);
        void t.terminate();
      }
    });
    thread.job = handle;
    thread.send({ type: "job", job });
    return handle;
  }

  get size(): { threads: number; idle: number } {
    return { threads: this.all.size, idle: this.idle.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const thread of this.idle) if (thread.idleTimer) clearTimeout(thread.idleTimer);
    this.idle.length = 0;
    await Promise.all([...this.all].map((t) => t.stop()));
    this.all.clear();
  }
}
