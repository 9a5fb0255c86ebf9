/**
 * The service's side of one run's worker thread: starts it (TypeScript through tsx, see
 * worker-entry.mjs), turns
 * its messages into callbacks, and turns any way it can end — finished, cancelled, failed,
 * uncaught exception, thread death — into exactly one `onEnd` call.
 */
import { Worker } from "node:worker_threads";
import type { LiveWeights, RgbImage } from "@atelier/engine";
import type { MainToWorker, WorkerJob, WorkerToMain } from "./worker-messages.ts";

export type WorkerEnd =
  | { kind: "done"; iteration: number; width: number; height: number; path: string }
  | { kind: "cancelled"; iteration: number; checkpointPath: string | null }
  | { kind: "failed"; error: string };

export interface JobWorkerEvents {
  onMessage(message: WorkerToMain): void;
  onEnd(end: WorkerEnd): void;
}

/** a plain-JS entry that registers tsx in the thread, then loads worker.ts */
const WORKER_URL = new URL("./worker-entry.mjs", import.meta.url);

export class JobWorker {
  private readonly worker: Worker;
  private ended = false;
  private nextRequestId = 1;
  private readonly pending = new Map<number, (message: WorkerToMain) => void>();
  private lastError: Error | null = null;

  constructor(job: WorkerJob, private readonly events: JobWorkerEvents) {
    this.worker = new Worker(WORKER_URL, { workerData: job });
    this.worker.on("message", (message: WorkerToMain) => this.handle(message));
    this.worker.on("error", (error) => {
      // an uncaught exception inside the thread; 'exit' follows
      this.lastError = error;
    });
    this.worker.on("exit", (code) => {
      this.rejectPending(`worker thread exited (code ${code})`);
      const reason = this.lastError
        ? `worker crashed: ${this.lastError.message}`
        : `worker thread died unexpectedly (exit code ${code})`;
      this.end({ kind: "failed", error: reason });
    });
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  private handle(message: WorkerToMain): void {
    if (this.ended) return;
    if ((message.type === "snapshot" || message.type === "checkpoint") && message.requestId !== undefined) {
      const resolve = this.pending.get(message.requestId);
      this.pending.delete(message.requestId);
      resolve?.(message);
    }
    switch (message.type) {
      case "done":
        this.end({ kind: "done", iteration: message.iteration, width: message.width, height: message.height, path: message.path });
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

  private end(end: WorkerEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.rejectPending("the run ended");
    this.events.onEnd(end);
    // its work is over (or it is broken): free the thread and its tensors
    void this.worker.terminate();
  }

  private rejectPending(reason: string): void {
    for (const resolve of this.pending.values()) resolve({ type: "failed", error: reason });
    this.pending.clear();
  }

  private send(message: MainToWorker): void {
    if (!this.ended) this.worker.postMessage(message);
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
      this.send(build(requestId));
    });
  }

  update(weights: LiveWeights): void {
    this.send({ type: "update", weights });
  }

  cancel(): void {
    this.send({ type: "cancel" });
  }

  /** The current image as raw RGB, or null (not started, ended, or no answer in time). */
  async snapshot(timeoutMs = 30_000): Promise<RgbImage | null> {
    const reply = await this.request((requestId) => ({ type: "snapshot", requestId }), timeoutMs);
    return reply.type === "snapshot" ? reply.image : null;
  }

  /** Writes a checkpoint now; resolves with its path, or null. */
  async checkpoint(timeoutMs = 30_000): Promise<string | null> {
    const reply = await this.request((requestId) => ({ type: "checkpoint", requestId }), timeoutMs);
    return reply.type === "checkpoint" ? reply.path : null;
  }

  /** Kills the thread at once (shutdown, or a test of crash handling). An unplanned end is reported as failed. */
  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  /** Ends the thread without reporting anything more (the service already recorded the outcome). */
  async dispose(): Promise<void> {
    this.ended = true;
    this.rejectPending("the worker was stopped");
    await this.worker.terminate();
  }

  get isEnded(): boolean {
    return this.ended;
  }
}
