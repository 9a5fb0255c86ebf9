import path from "node:path";
import { resolveDataDir } from "@atelier/db";
import { fileStoreFor, type FileStore } from "@atelier/files";
import { IMAGE_TYPES, formatOfMime } from "@atelier/protocol";

/** Where the files live; every function takes `{ dataDir }` to override resolveDataDir() (tests). */
export type StorageOptions = { dataDir?: string };

export function dataDirOf(options: StorageOptions = {}): string {
  // turbopackIgnore: a run-time folder, not part of the build (see packages/db/src/url.ts)
  return options.dataDir ? path.resolve(/*turbopackIgnore: true*/ options.dataDir) : resolveDataDir();
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The file store of images and run files (@atelier/files): the directory DATA_DIR, or the S3
 * bucket ATELIER_FILES names (with this machine's cache of it in DATA_DIR).
 */
export function fileStoreOf(options: StorageOptions = {}): FileStore {
  return fileStoreFor(dataDirOf(options));
}

/** `images/<sha256>.<ext>`, the image's key in the file store; throws on a row that could not have come from storeImage (no path tricks). */
export function imageKey(image: { sha256: string; mime: string }): string {
  if (!SHA256_HEX.test(image.sha256)) throw new Error(`image has an invalid sha256 "${image.sha256.slice(0, 80)}"`);
  const format = formatOfMime(image.mime);
  if (!format) throw new Error(`image has an unsupported mime type "${image.mime.slice(0, 80)}"`);
  return `images/${image.sha256}.${IMAGE_TYPES[format].ext}`;
}

/** Where this machine keeps the image's file (for a remote store: once fetchLocal fetched it). */
export function imageFilePath(image: { sha256: string; mime: string }, options: StorageOptions = {}): string {
  return fileStoreOf(options).localPath(imageKey(image));
}
