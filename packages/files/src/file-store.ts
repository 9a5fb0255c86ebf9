/*
 * Where images and run files (checkpoints, final images, sweep cells, run leases) are kept, by
 * key: a relative path with forward slashes, such as `images/<sha256>.png` or
 * `runs/<runId>/checkpoint.png`. Every node of a cluster must see the same store. The first
 * implementation is a directory all nodes share (DATA_DIR: one machine, or a network mount).
 * The engine's worker threads read and write image files by path: they get `localPath(key)`.
 */
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "./atomic-write.ts";

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
  /** a path on this machine with the key's bytes, for readers and writers that take a path */
  localPath(key: string): string;
  /** the key of a path `localPath` gave (null for a path outside the store) */
  keyOf(localPath: string): string | null;
}

/** A key is a relative path inside the store: no `..`, no absolute path, no backslashes. */
function checkKey(key: string): string {
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

  write(key: string, bytes: Uint8Array | string, options: { reuseExisting?: boolean } = {}): Promise<void> {
    return writeFileAtomic(this.localPath(key), bytes, options);
  }

  async stat(key: string): Promise<{ size: number; modifiedAt: number } | null> {
    const s = await stat(this.localPath(key)).catch(() => null);
    return s?.isFile() ? { size: s.size, modifiedAt: s.mtimeMs } : null;
  }

  async remove(key: string): Promise<void> {
    await rm(this.localPath(key), { force: true });
  }
}
