/**
 * Messages between the service (main thread) and a run's worker thread. Plain structured-
 * clone data; image bytes travel as transferable Uint8Arrays.
 */
import type { IterationEvent, LiveWeights, RgbImage } from "@atelier/engine";
import type { RunParams } from "@atelier/protocol";

export type PreviewMime = "image/webp" | "image/jpeg";

/** Everything a worker needs to run one job; given as `workerData`. */
export interface WorkerJob {
  runId: string;
  params: RunParams;
  /** absolute paths of the content and style files (resolved through storage) */
  contentPath: string;
  stylePaths: string[];
  /** resume/restart: start from this image file instead of params.init */
  initImagePath: string | null;
  previewFps: number;
  previewMime: PreviewMime;
  checkpointEvery: number;
  /** absolute paths the worker writes to (atomically: temp file + rename) */
  checkpointPath: string;
  finalPath: string;
  /**
   * Fault injection for the crash tests and drills: throw an uncaught exception from the
   * worker thread when it reaches this iteration (a real thread death, not a message).
   */
  crashAtIteration?: number;
}

export type MainToWorker =
  | { type: "update"; weights: LiveWeights }
  | { type: "cancel" }
  /** the current image, raw RGB (for a restart's init or a preview result) */
  | { type: "snapshot"; requestId: number }
  /** write a checkpoint now (graceful shutdown) */
  | { type: "checkpoint"; requestId: number };

export type WorkerToMain =
  | { type: "started"; backend: string; modelHash: string }
  | { type: "iteration"; event: IterationEvent }
  | { type: "updated"; iteration: number; weights: LiveWeights }
  | { type: "update-refused"; weights: LiveWeights; error: string }
  | {
      type: "preview";
      iteration: number;
      width: number;
      height: number;
      mime: PreviewMime;
      data: Uint8Array;
      /** Date.now() right after encoding, for latency measurements */
      encodedAt: number;
    }
  | { type: "checkpoint"; iteration: number; path: string; requestId?: number }
  | { type: "snapshot"; requestId: number; image: RgbImage | null; error?: string }
  | { type: "done"; iteration: number; width: number; height: number; path: string }
  | { type: "cancelled"; iteration: number; checkpointPath: string | null }
  | { type: "failed"; error: string };
