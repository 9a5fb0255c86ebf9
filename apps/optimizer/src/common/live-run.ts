/**
 * A run as the service holds it while it lives (queued, running, or mirrored from another node),
 * the queue's entries (a run, or a batch such as a sweep), and the run's public view (RunInfo).
 * Data and small pure helpers only: rooms/room-registry.ts and runs/manager.ts both use it, neither owns it.
 */
import type { LiveWeights, RgbImage } from "@atelier/engine";
import type { LiveEdit, RenderLarge, RunInfo, RunParams, RunStatus } from "@atelier/protocol";

/** What the run parts ask of a run's engine job (engine-slots' JobHandle is one). */
export interface RunJob {
  /** follow a live edit from the next iteration on */
  update(weights: LiveWeights): void;
  /** stop, keeping the image as a checkpoint */
  cancel(): void;
  /** the current image; null when the job did not answer in time */
  snapshot(): Promise<RgbImage | null>;
  /** writes a checkpoint now; its path, or null when the job did not answer in time */
  checkpoint(timeoutMs?: number): Promise<string | null>;
  /** its engine process's id (logs, drills); null once the process is gone */
  readonly pid: number | null;
  /** kills the job's engine process at once; resolves once it is gone */
  terminate(): Promise<void>;
  /** lets go of the job without ending the run (shutdown) */
  dispose(): Promise<void>;
}

export interface User {
  id: string;
  name: string;
}

/** What a new run starts from instead of its init setting. */
/** `render`: "Render large" — the run's own settings at a larger size, its top level only (runs/render-large.ts) */
export type RunStartImage = { runId: string; render?: RenderLarge } | { imagePath: string };

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
  /** a resumed run: the iteration its image was at, from which it counts on (runs/resume-point.ts) */
  resumeAt?: number;
  liveEdits: LiveEdit[];
  queuePosition: number | null;
  etaSeconds: number | null;
  /** held by this node (queued here or running in one of its engine processes) */
  local: boolean;
  worker: RunJob | null;
  contentPath: string | null;
  stylePaths: string[];
  /** iteration times per level of its plan, for its time left (run-eta.ts addLevelSample) */
  levelSamples: number[][];
  /**
   * the levels its engine process runs (engine EngineInfo.levels: the engine's own plan, coarse
   * levels dropped, a continued run's from its image up), the run-wide index of the first and the
   * iterations done before it; null until the engine said (the estimate then rebuilds the plan)
   */
  levels: { sizes: { width: number; height: number; iterations: number }[]; first: number; from: number } | null;
  /**
   * a large render (run:start render): the size it paints at. Its size, levels and iterations
   * are its own, not the room's: room edits of those neither restart-flag it nor change it.
   * Held in memory by the node that started it.
   */
  render: RenderLarge | null;
  /** short side ÷ long side of its images, once an iteration told */
  aspect: number | null;
  /** the iteration of its latest checkpoint (to resume from it in a new engine process) */
  checkpointIteration: number | null;
  /** times its engine process was killed under it and it went on in a new one */
  engineRestarts: number;
  /** why the service ended it, when it did (cancel / shutdown), so a process exit is not called a crash */
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
    levelSamples: [],
    levels: null,
    render: null,
    aspect: null,
    checkpointIteration: null,
    engineRestarts: 0,
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
