/**
 * Messages between the service and an engine process, over its IPC channel in "advanced"
 * serialization (V8's structured clone): image bytes travel as Uint8Arrays, not as JSON.
 */
import type { IterationEvent, LiveWeights, RgbImage } from "@atelier/engine";
import type { PreviewMime, RunParams } from "@atelier/protocol";
import type { Settings } from "../config.ts";

/** Everything a worker needs to run one job: its run, its files, and the service's preview and checkpoint settings. */
export interface WorkerJob extends Pick<Settings, "previewFps" | "previewMime" | "checkpointEvery"> {
  runId: string;
  params: RunParams;
  /** absolute paths of the content and style files (resolved through storage) */
  contentPath: string;
  stylePaths: string[];
  /** resume/restart: start from this image file instead of params.init */
  initImagePath: string | null;
  /**
   * Resume: the iteration the init image (a checkpoint) was taken at. The job runs the
   * remaining `params.iterations - startIteration` iterations and numbers them from here.
   */
  startIteration?: number;
  /** absolute paths the worker writes to (atomically: temp file + rename) */
  checkpointPath: string;
  finalPath: string;
  /**
   * Fault injection for the crash tests and drills: throw an uncaught exception from the
   * engine process when it reaches this iteration (a real process death, not a message).
   */
  crashAtIteration?: number;
  /** Fault injection: the engine process calls process.abort() (SIGABRT, as a native crash) at this iteration. */
  abortAtIteration?: number;
}

export type MainToWorker =
  /** run this job (the thread runs one job at a time and is reused for the next) */
  | { type: "job"; job: WorkerJob }
  /** load the backend and the weights now, so the first job starts sooner */
  | { type: "warm" }
  | { type: "update"; runId: string; weights: LiveWeights }
  | { type: "cancel"; runId: string }
  /** the current image, raw RGB (for a preview result) */
  | { type: "snapshot"; runId: string; requestId: number }
  /** write a checkpoint now (graceful shutdown) */
  | { type: "checkpoint"; runId: string; requestId: number }
  /** stop any job and end the process normally (exit code 0) */
  | { type: "exit" };

export type WorkerToMain =
  | { type: "warm"; backend: string; ms: number }
  /** adapter: webgpu's GPU adapter, "vendor device" (software ones say so) */
  /**
   * levels: those the engine runs for this job (a resumed job: the rest of its schedule), with
   * `firstLevel` the run-wide index of the first of them and `fromIteration` the iterations done
   * before it (0 unless resumed)
   */
  | {
      type: "started";
      backend: string;
      modelHash: string;
      adapter?: string;
      levels?: { width: number; height: number; iterations: number }[];
      firstLevel?: number;
      fromIteration?: number;
    }
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
  | { type: "checkpoint-failed"; requestId: number; error: string }
  | { type: "snapshot"; requestId: number; image: RgbImage | null; error?: string }
  | { type: "done"; iteration: number; width: number; height: number; path: string }
  | { type: "cancelled"; iteration: number; checkpointPath: string | null }
  | { type: "failed"; error: string };
