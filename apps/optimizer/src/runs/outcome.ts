/**
 * What a run leaves behind when it ends — its image as a content-addressed Image row and its
 * loss curve on the Run row — and how a room that is opened later gets them back as its view
 * (chart + a preview frame), so nothing a run painted vanishes with the optimiser's memory.
 */
import { readLossHistory, type Db, type Image } from "@atelier/db";
import { isImageMime, type IterationStats } from "@atelier/protocol";
import { fileStoreOf, inspectImage, readImageBytes, storeRgbResult } from "@atelier/storage";
import type { PreviewFrame } from "../rooms/live-room.ts";

/** Where the image a run leaves comes from, best first. */
export type KeptImageSource = { kind: "file"; file: string } | { kind: "preview"; frame: PreviewFrame };

/**
 * The freshest full-quality image a run left: its final image, else its last checkpoint, else
 * (a run stopped before its first checkpoint) its last preview frame; null when it painted nothing.
 */
export function chooseKeptImage(candidates: {
  finalFile: string | null;
  checkpointFile: string | null;
  preview: PreviewFrame | null;
}): KeptImageSource | null {
  if (candidates.finalFile) return { kind: "file", file: candidates.finalFile };
  if (candidates.checkpointFile) return { kind: "file", file: candidates.checkpointFile };
  if (candidates.preview) return { kind: "preview", frame: candidates.preview };
  return null;
}

/** The bytes of a run's image file (a path in the file store, as the engine's threads write them). */
async function readRunFile(dataDir: string, file: string): Promise<Buffer> {
  const store = fileStoreOf({ dataDir });
  const key = store.keyOf(file);
  const bytes = key ? await store.read(key) : null;
  if (!bytes) throw new Error(`the run's image ${key ?? "(outside the file store)"} is missing`);
  return bytes;
}

/**
 * Stores the kept image as its own Image row owned by the run's author (the file is shared by
 * identical bytes; the row's visibility follows the run's room, see storage's canViewImage).
 */
async function storeKeptImage(db: Db, dataDir: string, authorId: string, source: KeptImageSource): Promise<Image> {
  const bytes = source.kind === "file" ? await readRunFile(dataDir, source.file) : source.frame.data;
  return storeRgbResult(db, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    dataDir,
    ownerId: authorId,
    ownRow: true,
  });
}

/** A stored image as a preview frame (what clients draw and download); null for a type frames cannot carry. */
export async function frameOfImage(
  image: Pick<Image, "sha256" | "mime" | "width" | "height">,
  dataDir: string,
  ids: { roomId: string; runId: string; iteration: number },
): Promise<PreviewFrame | null> {
  if (!isImageMime(image.mime)) return null;
  const data = await readImageBytes(image, { dataDir });
  return { ...ids, mime: image.mime, width: image.width, height: image.height, data, encodedAt: Date.now() };
}

/** A checkpoint file (PNG, written by the worker) as a preview frame. */
async function frameOfFile(
  dataDir: string,
  file: string,
  ids: { roomId: string; runId: string; iteration: number },
): Promise<PreviewFrame> {
  const data = await readRunFile(dataDir, file);
  const info = await inspectImage(data, { maxBytes: Number.MAX_SAFE_INTEGER });
  return { ...ids, mime: info.mime, width: info.width, height: info.height, data, encodedAt: Date.now() };
}

/**
 * The view of an ended run as a late joiner gets it: its loss curve and its image as a frame
 * (the kept image, else the checkpoint an interrupted run left). Missing files are no frame,
 * never an error: the room still opens.
 */
export async function restoreRunView(
  db: Db,
  dataDir: string,
  row: { id: string; roomId: string; iterations: number; lossHistory: string; finalImageId: string | null },
  checkpointFile: string | null,
): Promise<{ history: IterationStats[]; frame: PreviewFrame | null }> {
  const history = readLossHistory(row);
  const ids = { roomId: row.roomId, runId: row.id, iteration: row.iterations };
  try {
    if (row.finalImageId) {
      const image = await db.image.findUnique({ where: { id: row.finalImageId } });
      if (image) return { history, frame: await frameOfImage(image, dataDir, ids) };
    }
    if (checkpointFile) return { history, frame: await frameOfFile(dataDir, checkpointFile, ids) };
  } catch {
    // the file went missing (or is unreadable): show the chart without a frame
  }
  return { history, frame: null };
}

/**
 * Keeps an ending run's image: stored as an Image row, and returned as the frame the room shows
 * from now on (the exact final pixels, which the last throttled preview may not be). Failures
 * are logged by the caller and keep nothing: the run still ends.
 */
export async function keepRunImage(
  db: Db,
  dataDir: string,
  run: { id: string; roomId: string; authorId: string; iteration: number },
  candidates: Parameters<typeof chooseKeptImage>[0],
): Promise<{ imageId: string; frame: PreviewFrame | null } | null> {
  const source = chooseKeptImage(candidates);
  if (!source) return null;
  const image = await storeKeptImage(db, dataDir, run.authorId, source);
  const frame =
    source.kind === "preview"
      ? source.frame
      : await frameOfImage(image, dataDir, { roomId: run.roomId, runId: run.id, iteration: run.iteration });
  return { imageId: image.id, frame };
}
