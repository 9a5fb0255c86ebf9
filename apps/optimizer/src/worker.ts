/**
 * One run's worker thread: builds the engine run from the job, streams per-iteration stats,
 * throttled encoded previews and periodic checkpoints to the service, follows live weight
 * edits, and writes the final image. Runs off the service's event loop, so a slow iteration
 * never delays socket traffic; a crash here kills only this thread.
 *
 * Started by job-worker.ts through worker-entry.mjs, which registers tsx in the thread.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { encodeImage, initBackend, stylize, type RgbImage, type RunHandle, type StylizeOptions } from "@atelier/engine";
import type { MainToWorker, WorkerJob, WorkerToMain } from "./worker-messages.ts";

const job = workerData as WorkerJob;
const port = parentPort!;

function post(message: WorkerToMain, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Writes next to the target and renames, so a crash never leaves a half-written image. */
async function writeImageAtomically(image: RgbImage, target: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const bytes = await encodeImage(image, "png");
  const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, bytes);
  await rename(temp, target);
}

function engineOptions(signal: AbortSignal): StylizeOptions {
  const p = job.params;
  return {
    content: job.contentPath,
    styles: p.styles.map((s, i) => ({ image: job.stylePaths[i]!, weight: s.weight })),
    size: p.size,
    iterations: p.iterations,
    optimizer: p.optimizer,
    learningRate: p.learningRate,
    contentWeight: p.contentWeight,
    styleWeight: p.styleWeight,
    tvWeight: p.tvWeight,
    styleScale: p.styleScale,
    originalColors: p.originalColors,
    init: job.initImagePath ? { image: job.initImagePath } : p.init,
    seed: p.seed,
    pooling: p.pooling,
    contentLayers: p.contentLayers,
    styleLayers: p.styleLayers,
    multiscale: p.multiscale,
    signal,
  };
}

async function main(): Promise<void> {
  const abort = new AbortController();
  let handle: RunHandle | null = null;
  let iteration = 0;
  let checkpointWritten: string | null = null;

  const checkpoint = async (requestId?: number) => {
    if (!handle) return;
    const image = await handle.currentImage();
    await writeImageAtomically(image, job.checkpointPath);
    checkpointWritten = job.checkpointPath;
    post({ type: "checkpoint", iteration, path: job.checkpointPath, requestId });
  };

  port.on("message", (message: MainToWorker) => {
    switch (message.type) {
      case "update":
        if (!handle) return;
        try {
          handle.update(message.weights);
          post({ type: "updated", iteration, weights: message.weights });
        } catch (error) {
          // the service validated the edit; the engine refusing it is worth a log, not a crash
          post({ type: "update-refused", weights: message.weights, error: errorMessage(error) });
        }
        return;
      case "cancel":
        abort.abort(new Error("cancelled"));
        return;
      case "snapshot":
        if (!handle) {
          post({ type: "snapshot", requestId: message.requestId, image: null, error: "the run has not started" });
          return;
        }
        handle.currentImage().then(
          (image) => {
            const data = image.data.slice(); // a copy: the engine may still hold the original
            post({ type: "snapshot", requestId: message.requestId, image: { ...image, data } }, [data.buffer as ArrayBuffer]);
          },
          (error) => post({ type: "snapshot", requestId: message.requestId, image: null, error: errorMessage(error) }),
        );
        return;
      case "checkpoint":
        checkpoint(message.requestId).catch((error) =>
          post({ type: "failed", error: `checkpoint failed: ${errorMessage(error)}` }),
        );
        return;
    }
  });

  // Previews: at most previewFps per second; one encode in flight, frames in between are skipped.
  const previewInterval = 1000 / job.previewFps;
  let lastPreviewAt = 0;
  let encoding: Promise<void> | null = null;
  const sendPreview = (image: RgbImage, at: number) => {
    const format = job.previewMime === "image/webp" ? "webp" : "jpeg";
    encoding = encodeImage(image, format, 80)
      .then((bytes) => {
        const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
        post(
          { type: "preview", iteration: at, width: image.width, height: image.height, mime: job.previewMime, data, encodedAt: Date.now() },
          [data.buffer as ArrayBuffer],
        );
      })
      .catch((error) => post({ type: "failed", error: `preview encoding failed: ${errorMessage(error)}` }))
      .finally(() => {
        encoding = null;
      });
  };

  await initBackend();
  handle = stylize(engineOptions(abort.signal));
  // backend and model hash are known once the weights are loaded (before the first iteration)
  handle.ready.then(
    (info) => post({ type: "started", backend: info.backend, modelHash: info.modelHash }),
    () => {}, // the failure surfaces in the iteration loop below
  );

  try {
    for await (const event of handle) {
      iteration = event.iteration;
      post({ type: "iteration", event });
      if (job.crashAtIteration !== undefined && iteration >= job.crashAtIteration) {
        // an uncaught exception outside any promise chain: the thread dies, as on a real bug
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
    await encoding;
    sendPreview(final, iteration); // the last frame everyone sees is the final image
    await encoding;
    await writeImageAtomically(final, job.finalPath);
    post({ type: "done", iteration, width: final.width, height: final.height, path: job.finalPath });
  } catch (error) {
    if (abort.signal.aborted) {
      // keep the image reached so far: a restart can continue from it
      try {
        await checkpoint();
      } catch {
        /* nothing to keep */
      }
      post({ type: "cancelled", iteration, checkpointPath: checkpointWritten });
    } else {
      post({ type: "failed", error: errorMessage(error) });
    }
  }
}

main().catch((error) => post({ type: "failed", error: errorMessage(error) }));
