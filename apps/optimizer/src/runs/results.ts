/**
 * Saved results: a run's final image (or, with `preview`, its current image) stored as a
 * Result with full provenance. The final image is kept under DATA_DIR/runs, so this works
 * after a restart and on any node.
 */
import { serializeProvenance, serializeStyleImageIds } from "@atelier/db";
import type { RgbImage } from "@atelier/engine";
import type { Provenance } from "@atelier/protocol";
import { storeRgbResult } from "@atelier/storage";
import { ServiceError } from "../common/errors.ts";
import type { LiveRun, User } from "../common/live-run.ts";
import type { RunCore } from "./core.ts";
import { findRoomRun } from "./views.ts";
import type { LiveRoom } from "../rooms/live-room.ts";

/**
 * Image decoding for results, loaded on first use: the engine module brings tfjs with it,
 * which the service's main thread otherwise never needs (the math runs in engine processes).
 */
async function decodeImage(source: string | Uint8Array): Promise<RgbImage> {
  const engine = await import("@atelier/engine");
  return engine.decodeImage(source);
}

export async function saveResult(
  core: RunCore,
  room: LiveRoom,
  user: User,
  request: { runId: string; title: string; isPublic: boolean; preview: boolean },
): Promise<string> {
  const { db, dataDir, log, broadcast } = core.o;
  const run = await findRoomRun(core, room, request.runId);
  const image = request.preview ? await currentImageOf(core, room, run) : await finalImageOf(core, run);
  const stored = await storeRgbResult(
    db,
    { ...image, channels: 3 },
    // its own Image row: visibility follows this result only (the file itself is shared)
    { dataDir, ownerId: user.id, ownRow: true },
  );
  const styleImageIds = run.params.styles.map((s) => s.imageId);
  const provenance: Provenance = {
    method: "gatys-ecker-bethge-2015",
    runId: run.id,
    roomId: run.roomId,
    authorId: run.authorId,
    savedBy: user.id,
    savedAt: new Date().toISOString(),
    kind: request.preview ? "preview" : "final",
    params: run.params,
    seed: run.params.seed,
    backend: run.backend,
    modelHash: run.modelHash,
    iterations: run.iteration,
    targetIterations: run.params.iterations,
    status: run.status,
    timings: {
      createdAt: run.createdAt.toISOString(),
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      computeMs: Math.round(run.computeMs),
    },
    contentImageId: run.params.contentImageId,
    styleImageIds,
    styleWeights: run.params.styles.map((s) => s.weight),
    resumedFromId: run.resumedFromId,
    liveEdits: run.liveEdits,
    width: image.width,
    height: image.height,
  };
  const result = await db.result.create({
    data: {
      runId: run.id,
      imageId: stored.id,
      authorId: user.id,
      title: request.title,
      isPublic: request.isPublic,
      provenance: serializeProvenance(provenance),
      contentImageId: run.params.contentImageId,
      styleImageIds: serializeStyleImageIds(styleImageIds),
    },
  });
  run.resultIds.push(result.id);
  log.info("result.saved", {
    resultId: result.id,
    runId: run.id,
    roomId: room.id,
    userId: user.id,
    preview: request.preview,
  });
  broadcast.resultSaved(room, {
    runId: run.id,
    resultId: result.id,
    title: request.title,
    isPublic: request.isPublic,
    author: user,
  });
  if (room.run === run) broadcast.runUpdate(room);
  return result.id;
}

async function finalImageOf(core: RunCore, run: LiveRun): Promise<RgbImage> {
  if (run.status !== "completed") {
    throw new ServiceError("conflict", `the run is ${run.status}, not completed: save its current preview instead`);
  }
  const file = core.files.finalImagePath(run.id);
  if (!(await core.files.exists(file))) throw new ServiceError("not_found", "the run's final image is missing");
  return decodeImage(file);
}

/** The freshest full-quality image: from the worker while it runs, else the latest checkpoint/final file, else the preview. */
async function currentImageOf(core: RunCore, room: LiveRoom, run: LiveRun): Promise<RgbImage> {
  if (run.worker && run.status === "running") {
    const image = await run.worker.snapshot();
    if (image) return image;
  }
  const final = core.files.finalImagePath(run.id);
  if (await core.files.exists(final)) return decodeImage(final);
  const checkpoint = await core.files.existingCheckpoint(run.checkpointPath);
  if (checkpoint) return decodeImage(checkpoint);
  if (room.latestPreview?.runId === run.id) return decodeImage(room.latestPreview.data);
  throw new ServiceError("not_found", "this run has no image yet");
}
