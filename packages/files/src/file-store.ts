/*
 * Where images and run files (checkpoints, final images, sweep cells, run leases) are kept, by
 * key: a relative path with forward slashes, such as `images/<sha256>.png` or
 * `runs/<runId>/checkpoint.png`. Every node of a cluster must see the same store. Two
 * implementations: a directory all nodes share (SharedDirectory: DATA_DIR on one machine, or a
 * network mount) and an S3 bucket (S3FileStore, s3-file-store.ts).
 * The engine reads and writes image files by path: it gets `fetchLocal(key)` (the stored bytes
 * in a file on this machine) and writes to `localPath(key)`, then `storeLocal(key)` keeps it.
 */
import { createReadStream } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { writeFileAtomic } from "./atomic-write.ts";

/** a stored file being read: its bytes as a stream, and its size (for Content-Length) */
export type StoredStream = { stream: Readable; size: number };

export interface FileStore {
  /** the bytes at `key`, null when there is none */
  read(key: string): Promise<Buffer | null>;
  /**
   * Stores `bytes` at `key` whole: a reader sees the old file or the new one, never part of one.
   * `reuseExisting`: a content-addressed file already there with the same size is kept.
   */
  write(key: string, bytes: Uint8Array | string, options?: { reuseExisting?: boolean }): Promise<void>;
  /** size and last write (ms since the epoch) of the file at `key`, null when there is none */
  stat(key: string): Promise<{ size: number; modifiedAt: number } | null>;
  /** removes the file at `key` (nothing when there is none) */
  remove(key: string): Promise<void>;
  /** the bytes at `key` as a stream (image responses never hold a whole file), null when there is none */
  readStream(key: string): Promise<StoredStream | null>;
  /**
   * Where this machine keeps `key`'s bytes, for writers that take a path (the engine): write
   * there, then `storeLocal(key)`. For a shared directory it is the stored file itself; for a
   * remote store, a file in this machine's cache of it.
   */
  localPath(key: string): string;
  /** the key of a path `localPath` gave (null for a path outside the store) */
  keyOf(localPath: string): string | null;
  /** `localPath(key)` holding the stored bytes (fetched when remote), null when the store has none */
  fetchLocal(key: string): Promise<string | null>;
  /** keeps what a writer put at `localPath(key)` in the store (nothing to do for a shared directory) */
  storeLocal(key: string): Promise<void>;
  /** throws an error that says what to fix when the store cannot be used (checked at start-up) */
  check(): Promise<void>;
  /** what the store is, for logs (`directory /data`, `s3://bucket/prefix`) */
  readonly description: string;
}

/** A key is a relative path inside the store: no `..`, no absolute path, no backslashes. */
export function checkKey(key: string): string {
  const parts = key.split("/");
  if (key === "" || key.includes("\\") || key.startsWith("/") || parts.some((p) => p === "" || p === "." || p === ".."))
    throw new Error(`not a file store key: "${key.slice(0, 200)}"`);
  return key;
}

export class SharedDirectory implements FileStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get description(): string {
    return `directory ${this.root}`;
  }

  localPath(key: string): string {
    return path.join(this.root, ...checkKey(key).split("/"));
  }

  keyOf(localPath: string): string | null {
    const relative = path.relative(this.root, path.resolve(localPath));
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return null;
    return relative.split(path.sep).join("/");
  }

  async read(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.localPath(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async write(key: string, bytes: Uint8Array | string, options: { reuseExisting?: boolean } = {}): Promise<void> {
    return writeFileAtomic(this.localPath(key), bytes, options);
  }

  async stat(key: string): Promise<{ size: number; modifiedAt: number } | null> {
    const s = await stat(this.localPath(key)).catch(() => null);
    return s?.isFile() ? { size: s.size, modifiedAt: s.mtimeMs } : null;
  }

  async remove(key: string): Promise<void> {
    await rm(this.localPath(key), { force: true });
  }

  async readStream(key: string): Promise<StoredStream | null> {
    const file = this.localPath(key);
    const s = await stat(file).catch(() => null);
    if (!s?.isFile()) return null;
    return { stream: createReadStream(file), size: s.size };
  }

  async fetchLocal(key: string): Promise<string | null> {
    return (await this.stat(key)) ? this.localPath(key) : null;
  }

  async storeLocal(key: string): Promise<void> {
    // the writer wrote the stored file itself; a missing one is the writer's bug, said here
    if (!(await this.stat(key))) throw new Error(`nothing was written at ${key}`);
  }

  async check(): Promise<void> {
    // the directory is created by the first write; nothing can be wrong with it before that
  }
}
