/**
 * The service's side of the engine processes (the slots' engines). Each running job has a
 * child process of its own (child_process.fork, IPC in "advanced" serialization); a process that
 * finished a job cleanly stays loaded (backend, VGG-19 weights) and takes the next one, which
 * saves the many seconds of start-up a fresh one needs, and is recycled after
 * MAX_JOBS_PER_PROCESS jobs. One that crashed, failed or was killed is never reused. A native
 * abort, an out-of-memory kill or a `kill -9` ends that process only: the service, its other
 * slots and its sockets go on, and the job's end says how it died (`signal`) so the run can be
 * resumed or failed.
 *
 * A job's end — finished, cancelled, failed, uncaught exception, process death — is turned
 * into exactly one `onEnd` call.
 */
import { fork, type ChildProcess } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import type { LiveWeights, RgbImage } from "@atelier/engine";
import type { Logger } from "../common/log.ts";
import type { MainToWorker, WorkerJob, WorkerToMain } from "./slot-messages.ts";
import { engineProcessEnv, threadsPerSlot, type Settings } from "../config.ts";
import { metrics } from "../common/metrics.ts";

export type WorkerEnd =
  | { kind: "done"; iteration: number; width: number; height: number; path: string }
  | { kind: "cancelled"; iteration: number; checkpointPath: string | null }
  /** `signal`: the engine process was killed by it (SIGKILL: OOM killer or kill -9; SIGABRT: a native abort) */
  | { kind: "failed"; error: string; signal?: NodeJS.Signals };

export interface JobEvents {
  onMessage(message: WorkerToMain): void;
  onEnd(end: WorkerEnd): void;
}

/** a plain-JS entry that registers tsx in the process, then loads engine-slots/slot-body.ts */
const ENTRY = fileURLToPath(new URL("./slot-entry.mjs", import.meta.url));

/** Recycle a process after this many jobs, so slow leaks (if any) cannot pile up. */
const MAX_JOBS_PER_PROCESS = 50;

/** How an engine process is started: its backend ("auto": ONNX Runtime, else wasm), threads, test hooks. */
export interface EngineSpec {
  backend: string;
  /** intra-op threads of the process (cores ÷ slots) */
  threads: number;
  /** test hook: ONNX Runtime cannot be loaded in the process */
  noOnnx?: boolean;
}

/** The engine processes' spec from the service's settings: threads default to cores ÷ slots. */
export function engineSpec(o: Pick<Settings, "backend" | "engineThreads" | "testNoOnnx">, slots: number): EngineSpec {
  return {
    backend: o.backend,
    threads: o.engineThreads ?? threadsPerSlot(os.availableParallelism(), slots),
    ...(o.testNoOnnx ? { noOnnx: true } : {}),
  };
}

class EngineProcess {
  readonly child: ChildProcess;
  job: JobHandle | null = null;
  jobsRun = 0;
  dead = false;
  idleTimer: NodeJS.Timeout | null = null;
  /** the backend it reported once loaded */
  backend: string | null = null;
  private readonly exited: Promise<void>;

  constructor(
    spec: EngineSpec,
    private readonly onDeath: (engine: EngineProcess) => void,
    onWarm: (engine: EngineProcess, backend: string) => void,
  ) {
    this.child = fork(ENTRY, spec.noOnnx ? ["--no-onnx"] : [], {
      env: engineProcessEnv(spec.backend, spec.threads),
      execArgv: [],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (message: WorkerToMain) => {
      if (message.type === "warm" || message.type === "started") {
        this.backend = message.backend;
        onWarm(this, message.backend);
      }
      this.job?.handle(message);
    });
    // a failed spawn or a message that could not be sent; 'exit' follows when the process is gone
    this.child.on("error", () => {});
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.dead = true;
        // died under a job: the pool replaces it with a fresh engine for the next one
        if (this.job) metrics.engineRestarts.inc();
        const reason = signal
          ? `the engine process was killed (${signal}${signal === "SIGABRT" ? ": a native abort" : signal === "SIGKILL" ? ": out of memory or killed" : ""})`
          : `the engine process exited unexpectedly (exit code ${code})`;
        this.job?.end({ kind: "failed", error: reason, ...(signal ? { signal } : {}) });
        this.onDeath(this);
        resolve();
      });
    });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  send(message: MainToWorker): void {
    if (this.dead || !this.child.connected) return;
    // an error here means the process is going away: its 'exit' ends the job
    this.child.send(message, undefined, {}, () => {});
  }

  /** Kills the process at once (SIGKILL); resolves once it is gone. */
  kill(): Promise<void> {
    if (!this.dead) this.child.kill("SIGKILL");
    return this.exited;
  }

  /** Ends the process normally (its job aborted, exit code 0), or kills it if it does not end in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.dead) return;
    this.send({ type: "exit" });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), timeoutMs)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === "late") await this.kill();
  }
}

/** One job on one engine process: what the run manager talks to. */
export class JobHandle {
  private ended = false;
  private nextRequestId = 1;
  private readonly pending = new Map<number, (message: WorkerToMain) => void>();

  constructor(
    private readonly engine: EngineProcess,
    readonly runId: string,
    private readonly events: JobEvents,
    private readonly release: (engine: EngineProcess, reusable: boolean) => void,
  ) {}

  /** the engine process's id (logs; the crash tests kill it) */
  get pid(): number | null {
    return this.engine.pid;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** @internal a message from the engine process */
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
    this.engine.job = null;
    // a clean end leaves the engine reusable; after a failure its state is not trusted
    this.release(this.engine, end.kind !== "failed" && !this.engine.dead);
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
      this.engine.send(build(requestId));
    });
  }

  update(weights: LiveWeights): void {
    if (!this.ended) this.engine.send({ type: "update", runId: this.runId, weights });
  }

  cancel(): void {
    if (!this.ended) this.engine.send({ type: "cancel", runId: this.runId });
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

  /** Kills the process at once (a test of crash handling, or a stuck cancel): reported as a failure. */
  terminate(): Promise<void> {
    return this.engine.kill();
  }

  /** Ends the job and its engine without reporting anything more (the caller records the outcome). */
  async dispose(): Promise<void> {
    this.ended = true;
    this.rejectPending("the worker was stopped");
    this.engine.job = null;
    await this.engine.stop();
    this.engine.dead = true;
  }
}

export interface WorkerPoolOptions {
  log: Logger;
  /** how the engine processes start (backend, threads, test hooks) */
  engine: EngineSpec;
  /** an engine process reported the backend it loaded */
  onBackend?: (backend: string) => void;
  /** keep a finished engine loaded this long for the next job (ms) */
  idleMs?: number;
}

export class WorkerPool {
  private readonly idle: EngineProcess[] = [];
  private readonly all = new Set<EngineProcess>();
  private closed = false;

  constructor(private readonly o: WorkerPoolOptions) {}

  /** Starts an engine process and loads backend and weights into it, ready for the first job. */
  prewarm(): void {
    if (this.closed) return;
    const engine = this.spawn();
    engine.send({ type: "warm" });
    this.park(engine);
  }

  private spawn(): EngineProcess {
    const engine = new EngineProcess(
      this.o.engine,
      (t) => {
        this.all.delete(t);
        this.unpark(t);
      },
      (_, backend) => this.loaded(backend),
    );
    this.all.add(engine);
    return engine;
  }

  private lastBackend: string | null = null;

  /** Logs the backend the engine processes run once, and again whenever it changes (a fallback). */
  private loaded(backend: string): void {
    if (backend === this.lastBackend) return;
    this.lastBackend = backend;
    const wanted = this.o.engine.backend;
    if (wanted === "auto" && backend !== "onnx") {
      this.o.log.warn("engine.fallback", {
        backend,
        message: `ONNX Runtime could not be loaded in the engine process: running on ${backend}`,
      });
    } else {
      this.o.log.info("engine.backend", { backend, threads: this.o.engine.threads });
    }
    this.o.onBackend?.(backend);
  }

  private park(engine: EngineProcess): void {
    if (this.closed || engine.dead) {
      void engine.stop();
      return;
    }
    this.idle.push(engine);
    engine.idleTimer = setTimeout(
      () => {
        this.unpark(engine);
        this.all.delete(engine);
        void engine.stop();
        this.o.log.debug("worker.idle_exit", { pid: engine.pid });
      },
      this.o.idleMs ?? 10 * 60_000,
    );
    engine.idleTimer.unref();
    // an idle engine process must not keep the service alive
    engine.child.unref();
    engine.child.channel?.unref();
  }

  private unpark(engine: EngineProcess): void {
    const i = this.idle.indexOf(engine);
    if (i >= 0) this.idle.splice(i, 1);
    if (engine.idleTimer) clearTimeout(engine.idleTimer);
    engine.idleTimer = null;
  }

  /** Runs a job on an idle loaded engine, or a new one. */
  run(job: WorkerJob, events: JobEvents): JobHandle {
    if (this.closed) throw new Error("the worker pool is closed");
    let engine = this.idle.pop();
    if (engine) this.unpark(engine);
    else engine = this.spawn();
    engine.child.ref();
    engine.child.channel?.ref();
    const handle = new JobHandle(engine, job.runId, events, (t, reusable) => {
      t.jobsRun += 1;
      if (reusable && t.jobsRun < MAX_JOBS_PER_PROCESS) {
        this.park(t);
      } else {
        this.all.delete(t);
        // a failed job's process may be wedged: killed; a recycled one ends normally
        void (reusable ? t.stop() : t.kill());
      }
    });
    engine.job = handle;
    engine.send({ type: "job", job });
    return handle;
  }

  get size(): { threads: number; idle: number } {
    return { threads: this.all.size, idle: this.idle.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const engine of this.idle) if (engine.idleTimer) clearTimeout(engine.idleTimer);
    this.idle.length = 0;
    await Promise.all([...this.all].map((t) => t.stop()));
    this.all.clear();
  }
}
