/**
 * An engine process that runs style jobs, one at a time: it builds the engine run from the job,
 * streams per-iteration stats, throttled encoded previews and periodic checkpoints to the
 * service, follows live weight edits, and writes the final image. A process of its own, so a
 * slow iteration never delays socket traffic and a crash here — an exception, a native abort
 * in ONNX Runtime, an out-of-memory kill — ends only this process and its job. It stays loaded
 * (backend, VGG-19 weights) for the next job, which then starts in about a second.
 *
 * Forked by engine-slots/slot-pool.ts through engine-slots/slot-entry.mjs (which registers tsx)
 * with an IPC channel in "advanced" serialization: image bytes travel as Uint8Arrays, not JSON.
 */
import { writeFileAtomic } from "@atelier/files";
import {
  encodeImage,
  preloadWeights,
  stylize,
  type RgbImage,
  type RunHandle,
  type StylizeOptions,
} from "@atelier/engine";
import { FORMAT_OF_MIME, defaultScalePlan, remainingScalePlan } from "@atelier/protocol";
import type { MainToWorker, WorkerJob, WorkerToMain } from "./slot-messages.ts";
import { styleMasksOf } from "./job-masks.ts";

function post(message: WorkerToMain): void {
  // the service gone (its channel closed): nothing to tell; the disconnect handler ends this process
  if (process.connected) process.send!(message, undefined, {}, () => {});
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A PNG that a crash never leaves half-written. */
async function writeImageAtomically(image: RgbImage, target: string): Promise<void> {
  await writeFileAtomic(target, await encodeImage(image, "png"));
}

/** Iterations done before this job (a resumed run counts on from its checkpoint's iteration). */
function offsetOf(job: WorkerJob): number {
  return job.startIteration ?? 0;
}

function engineOptions(job: WorkerJob, signal: AbortSignal, masks: (RgbImage | undefined)[]): StylizeOptions {
  const p = job.params;
  return {
    content: job.contentPath,
    styles: p.styles.map((s, i) => ({
      image: job.stylePaths[i]!,
      weight: s.weight,
      ...(masks[i] ? { mask: masks[i] } : {}),
    })),
    size: p.size,
    // a resumed job runs only the iterations its checkpoint had not reached
    iterations: Math.max(1, p.iterations - offsetOf(job)),
    optimizer: p.optimizer,
    learningRate: p.learningRate,
    contentWeight: p.contentWeight,
    styleWeight: p.styleWeight,
    tvWeight: p.tvWeight,
    styleScale: p.styleScale,
    originalColors: p.originalColors,
    ...(p.colorControl ? { colorControl: p.colorControl } : {}),
    // a run started from another run's image (continue, restart with changes) goes on from it at
    // its own size; a resumed job's checkpoint follows the rest of its own schedule (resumedScales)
    init: job.initImagePath ? { image: job.initImagePath, continues: offsetOf(job) === 0 } : p.init,
    seed: p.seed,
    pooling: p.pooling,
    contentLayers: p.contentLayers,
    styleLayers: p.styleLayers,
    multiscale: resumedScales(job)?.engine ?? p.multiscale,
    signal,
  };
}

/**
 * A resumed coarse-to-fine job goes on with the rest of the same schedule, from the level its
 * checkpoint was in (that level's size, its remaining iterations, then the finer levels), not
 * with the remainder at full size — which cost up to ~4× the planned time (full-size iterations)
 * and skipped the levels between. Null when the job is not a resumed multiscale one.
 */
function resumedScales(
  job: WorkerJob,
): { engine: { iterationsPerScale: number[]; minSize: number }; firstLevel: number } | null {
  const p = job.params;
  if (!p.multiscale || offsetOf(job) === 0) return null;
  const rest = remainingScalePlan(p.size, defaultScalePlan(p.size, p.iterations, true), offsetOf(job));
  return { engine: { iterationsPerScale: rest.iterations, minSize: rest.minSize }, firstLevel: rest.firstLevel };
}

/** The job this thread is running now. */
interface Current {
  runId: string;
  handle: RunHandle;
  abort: AbortController;
  checkpoint(requestId?: number): Promise<void>;
  iteration(): number;
  /** iterations done before this job started (resume) */
  offset: number;
}
let current: Current | null = null;
/**
 * The job being set up (its masks read) before `current` exists: a cancel that comes then must
 * not be dropped, or the run goes on until the service's grace runs out and kills this process.
 */
let starting: { runId: string; abort: AbortController } | null = null;

async function runJob(job: WorkerJob): Promise<void> {
  const abort = new AbortController();
  starting = { runId: job.runId, abort };
  const handle = stylize(engineOptions(job, abort.signal, await styleMasksOf(job.params, job.contentPath)));
  let checkpointWritten: string | null = null;
  const checkpoint = async (requestId?: number) => {
    const image = await handle.currentImage();
    await writeImageAtomically(image, job.checkpointPath);
    checkpointWritten = job.checkpointPath;
    post({ type: "checkpoint", iteration, path: job.checkpointPath, requestId });
  };
  const offset = offsetOf(job);
  let iteration = offset;
  current = { runId: job.runId, handle, abort, checkpoint, iteration: () => iteration, offset };
  starting = null;

  // backend and model hash are known once the weights are loaded (before the first iteration)
  handle.ready.then(
    (info) =>
      post({
        type: "started",
        backend: info.backend,
        modelHash: info.modelHash,
        ...(info.adapter ? { adapter: adapterText(info.adapter) } : {}),
        ...(info.levels
          ? { levels: info.levels, firstLevel: resumedScales(job)?.firstLevel ?? 0, fromIteration: offset }
          : {}),
      }),
    () => {}, // the failure surfaces in the iteration loop below
  );

  // Previews: at most previewFps per second; one encode in flight, frames in between are skipped.
  const previewInterval = 1000 / job.previewFps;
  let lastPreviewAt = 0;
  let encoding: Promise<void> | null = null;
  // a function, not `await encoding`: TypeScript does not see the assignments made inside sendPreview
  const encodingSettled = (): Promise<void> => encoding ?? Promise.resolve();
  const sendPreview = (image: RgbImage, at: number) => {
    encoding = encodeImage(image, FORMAT_OF_MIME[job.previewMime], 80)
      .then((bytes) => {
        const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
        post({
          type: "preview",
          iteration: at,
          width: image.width,
          height: image.height,
          mime: job.previewMime,
          data,
          encodedAt: Date.now(),
        });
      })
      .catch((error) => post({ type: "failed", error: `preview encoding failed: ${errorMessage(error)}` }))
      .finally(() => {
        encoding = null;
      });
  };

  try {
    // a resumed job's levels are numbered as in the whole run's schedule
    const levelOffset = resumedScales(job)?.firstLevel ?? 0;
    for await (const event of handle) {
      iteration = event.iteration + offset;
      post({
        type: "iteration",
        event: offset === 0 ? event : { ...event, iteration, scale: event.scale + levelOffset },
      });
      if (job.abortAtIteration !== undefined && iteration >= job.abortAtIteration) {
        // a native abort (SIGABRT), as when a native add-on fails: no JS handler runs
        process.abort();
      }
      if (job.crashAtIteration !== undefined && iteration >= job.crashAtIteration) {
        // an uncaught exception outside any promise chain: the process dies, as on a real bug
        setImmediate(() => {
          throw new Error(`injected worker crash at iteration ${iteration}`);
        });
        await new Promise(() => {});
      }
      const now = Date.now();
      if (!encoding && now - lastPreviewAt >= previewInterval) {
        lastPreviewAt = now;
        sendPreview(await handle.currentImage(), iteration);
      }
      if (iteration % job.checkpointEvery === 0) await checkpoint();
    }
    const final = await handle.result;
    await encodingSettled();
    sendPreview(final, iteration); // the last frame everyone sees is the final image
    await encodingSettled();
    await writeImageAtomically(final, job.finalPath);
    post({ type: "done", iteration, width: final.width, height: final.height, path: job.finalPath });
  } catch (error) {
    await encodingSettled();
    if (abort.signal.aborted) {
      // keep the image reached so far: a restart can continue from it
      try {
        await checkpoint();
      } catch {
        /* no image yet */
      }
      post({ type: "cancelled", iteration, checkpointPath: checkpointWritten });
    } else {
      post({ type: "failed", error: errorMessage(error) });
    }
  } finally {
    current = null;
  }
}

async function warm(): Promise<void> {
  const started = Date.now();
  try {
    const { backend } = await preloadWeights(16); // all 16 convolutions: every layer choice is then in memory
    post({ type: "warm", backend, ms: Date.now() - started });
  } catch {
    // a broken setup shows up, with its message, in the first job
  }
}

let running: Promise<void> = Promise.resolve();

// A bug outside any promise chain: the service hears why (a bare exit code would not say), then
// this process ends, as its state can no longer be trusted (the pool never reuses a failed one).
process.on("uncaughtException", (error) => {
  const end = () => process.exit(1);
  if (!process.connected) return end();
  setTimeout(end, 2000); // the message could not leave: end anyway
  process.send!({ type: "failed", error: errorMessage(error) } satisfies WorkerToMain, undefined, {}, end);
});

// The service went away without telling (killed): do not outlive it.
process.on("disconnect", () => {
  current?.abort.abort(new Error("the optimiser is gone"));
  process.exit(0);
});

process.on("message", (message: MainToWorker) => {
  if (message.type === "job") {
    running = runJob(message.job).catch((error) => post({ type: "failed", error: errorMessage(error) }));
    return;
  }
  if (message.type === "exit") {
    // the job stopped (a cancelled job checkpoints first), then the process ends with exit code 0
    current?.abort.abort(new Error("the optimiser is stopping"));
    void running.finally(() => process.exit(0));
    return;
  }
  if (message.type === "warm") {
    void warm();
    return;
  }
  if (message.type === "cancel" && !current && starting?.runId === message.runId) {
    starting.abort.abort(new Error("cancelled"));
    return;
  }
  const job = current;
  if (!job || job.runId !== message.runId) {
    // the job ended meanwhile: answer requests so the service never waits for nothing
    if (message.type === "snapshot")
      post({ type: "snapshot", requestId: message.requestId, image: null, error: "the run is not running" });
    if (message.type === "checkpoint")
      post({ type: "checkpoint-failed", requestId: message.requestId, error: "the run is not running" });
    return;
  }
  switch (message.type) {
    case "update":
      try {
        // the engine counts this job's iterations only: a resumed job's target is shifted by its offset
        job.handle.update(
          message.weights.iterations === undefined
            ? message.weights
            : { ...message.weights, iterations: Math.max(1, message.weights.iterations - job.offset) },
        );
        post({ type: "updated", iteration: job.iteration(), weights: message.weights });
      } catch (error) {
        // the service validated the edit; the engine refusing it is worth a log, not a crash
        post({ type: "update-refused", weights: message.weights, error: errorMessage(error) });
      }
      return;
    case "cancel":
      job.abort.abort(new Error("cancelled"));
      return;
    case "snapshot":
      job.handle.currentImage().then(
        (image) => {
          const data = image.data.slice(); // a copy: the engine may still hold the original
          post({ type: "snapshot", requestId: message.requestId, image: { ...image, data } });
        },
        (error) => post({ type: "snapshot", requestId: message.requestId, image: null, error: errorMessage(error) }),
      );
      return;
    case "checkpoint":
      job
        .checkpoint(message.requestId)
        .catch((error) =>
          post({ type: "checkpoint-failed", requestId: message.requestId, error: errorMessage(error) }),
        );
      return;
  }
});

/** "NVIDIA H100 80GB HBM3", "Mesa llvmpipe (LLVM 15.0.6, 256 bits), software": what /health and the run record say. */
function adapterText(adapter: { vendor: string; device: string; software: boolean }): string {
  const name = adapter.device.toLowerCase().startsWith(adapter.vendor.toLowerCase())
    ? adapter.device
    : `${adapter.vendor} ${adapter.device}`;
  return adapter.software ? `${name}, software` : name;
}
