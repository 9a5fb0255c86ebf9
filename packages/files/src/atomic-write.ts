/*
 * Files that readers never see half-written (images, checkpoints, run leases, CLI outputs): the
 * one implementation of write-to-a-temp-file-then-rename, shared by storage, the engine's CLI and
 * the optimisation service.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";

async function sizeOf(file: string): Promise<number | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

const TEMP_PREFIX = ".tmp-";
/** Temp files older than this were left by a crash (a write takes well under a second). */
const STALE_TEMP_MS = 60 * 60 * 1000;
const swept = new Set<string>();

/** Once per folder and process: remove temp files that a crashed process left behind. */
async function sweepStaleTemps(dir: string): Promise<void> {
  if (swept.has(dir)) return;
  swept.add(dir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  await Promise.all(
    names
      .filter((n) => n.startsWith(TEMP_PREFIX))
      .map(async (n) => {
        const file = path.join(dir, n);
        const s = await stat(file).catch(() => null);
        if (s && now - s.mtimeMs > STALE_TEMP_MS) await rm(file, { force: true });
      }),
  );
}

/**
 * Writes `bytes` to `file` so that readers never see a partial file: a temp file in the same
 * folder (created if missing), then rename. With `reuseExisting`, a content-addressed file that
 * already exists with the right size is kept.
 */
export async function writeFileAtomic(
  file: string,
  bytes: Uint8Array | string,
  options: { reuseExisting?: boolean } = {},
): Promise<void> {
  if (options.reuseExisting && typeof bytes !== "string" && (await sizeOf(file)) === bytes.byteLength) return;
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  await sweepStaleTemps(dir);
  const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
  try {
    await writeFile(temp, bytes, { flag: "wx" });
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
