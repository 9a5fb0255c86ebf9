/**
 * A run as the service holds it while it lives (queued, running, or mirrored from another node),
 * the queue's entries (a run, or a batch such as a sweep), and the run's public view (RunInfo).
 * Data and small pure helpers only: rooms/room-registry.ts and runs/manager.ts both use it, neither owns it.
 */
import type { LiveEdit, RunInfo, RunParams, RunStatus } from "@atelier/protocol";
import type { JobHandle, WorkerPool } from "../engine-slots/slot-pool.ts";

export interface User {
  id: string;
  name: string;
}

/** What a new run starts from instead of its init setting. */
export type RunStartImage = { runId: string } | { imagePath: string };

export interface LiveRun {
  id: string;
  roomId: string;
  authorId: string;
  /** the fairness key of the queue: whoever started it */
  userId: string;
  status: RunStatus;
  /** the params in effect now (live edits update them) */
  params: RunParams;
  iteration: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  computeMs: number;
  backend: string | null;
  modelHash: string | null;
  /** relative to DATA_DIR */
  checkpointPath: string | null;
  error: string | null;
  resultIds: string[];
  /** the Image row of what the run left, once it ended */
  finalImageId: string | null;
  resumedFromId: string | null;
  /** absolute path of the image this run starts from (restart / resume), if any */
  initImagePath: string | null;
  liveEdits: LiveEdit[];
  queuePosition: number | null;
  etaSeconds: number | null;
  /** held by this node (queued here or running in one of its threads) */
  local: boolean;
  worker: JobHandle | null;
  contentPath: string | null;
  stylePaths: string[];
  msPerIteration: number | null;
  /** why the service ended it, when it did (cancel / shutdown), so a thread exit is not called a crash */
  stopReason: "cancel" | "shutdown" | null;
  ended: Promise<void>;
  markEnded: () => void;
  /** last run:update sent, to skip identical ones */
  lastSentInfo: string | null;
}

export const ACTIVE: RunStatus[] = ["queued", "running"];
export function isActive(status: RunStatus): boolean {
  return ACTIVE.includes(status);
}

function newEnded(): { ended: Promise<void>; markEnded: () => void } {
  let markEnded!: () => void;
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  return { ended, markEnded };
}

type RunIdentity = Pick<LiveRun, "id" | "roomId" | "authorId" | "status" | "params" | "iteration" | "createdAt">;

/** A run object: the given fields, everything else at its not-yet-started value; its queue key is its author. */
export function newLiveRun(fields: RunIdentity & Partial<Omit<LiveRun, keyof RunIdentity>>): LiveRun {
  return {
    userId: fields.authorId,
    startedAt: null,
    finishedAt: null,
    computeMs: 0,
    backend: null,
    modelHash: null,
    checkpointPath: null,
    error: null,
    resultIds: [],
    finalImageId: null,
    resumedFromId: null,
    initImagePath: null,
    liveEdits: [],
    queuePosition: null,
    etaSeconds: null,
    local: false,
    worker: null,
    contentPath: null,
    stylePaths: [],
    msPerIteration: null,
    stopReason: null,
    lastSentInfo: null,
    ...newEnded(),
    ...fields,
  };
}

export function toRunInfo(run: LiveRun): RunInfo {
  return {
    runId: run.id,
    status: run.status,
    authorId: run.authorId,
    params: run.params,
    iteration: run.iteration,
    iterations: run.params.iterations,
    queuePosition: run.status === "queued" ? run.queuePosition : null,
    etaSeconds: isActive(run.status) ? run.etaSeconds : null,
    error: run.error,
    resultIds: [...run.resultIds],
    finalImageId: run.finalImageId,
  };
}

/** A batch of small jobs (a sweep): one queue entry, so the whole batch counts as one job of its user. */
export interface QueueBatch {
  kind: "batch";
  id: string;
  userId: string;
  /** runs the batch's jobs on the pool one after another; resolves when they all ended */
  run(pool: WorkerPool): Promise<void>;
  /** seconds its jobs still need at `msPerPixelIteration` (null: unknown), for the ETAs of the runs behind it */
  secondsLeft(msPerPixelIteration: number | null): number | null;
  /** its 1-based place in the queue while it waits, null once it runs */
  setQueuePosition(position: number | null): void;
  /** stops it (shutdown): no further jobs start, the running one is cancelled */
  cancel(): void;
}
export type QueueEntry = LiveRun | QueueBatch;
export function isBatch(job: QueueEntry): job is QueueBatch {
  return "kind" in job && job.kind === "batch";
}
export function isRun(job: QueueEntry): job is LiveRun {
  return !isBatch(job);
}
