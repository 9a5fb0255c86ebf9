import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { dbEnv, type DbEnv } from "./env.ts";

/**
 * The one place that decides where Atelier keeps its files (database, images, thumbnails):
 * `DATA_DIR` if set, else `./data`, resolved against the process's working directory.
 */
export function resolveDataDir(env: DbEnv = dbEnv()): string {
  const configured = env.DATA_DIR?.trim();
  return path.resolve(configured ? configured : "./data");
}

export type Provider = "sqlite" | "postgresql";

function isRepoRoot(dir: string): boolean {
  return existsSync(path.join(dir, "prisma", "schema.prisma"));
}

function walkUp(start: string): string | null {
  let dir = path.resolve(start);
  for (;;) {
    if (isRepoRoot(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function moduleDir(): string | null {
  // Bundlers (next build) may rewrite import.meta.url to something that is not a file URL.
  try {
    const url = import.meta.url;
    return url.startsWith("file:") ? path.dirname(fileURLToPath(url)) : null;
  } catch {
    return null;
  }
}

/**
 * The repository root (the folder holding prisma/schema.prisma): `ATELIER_ROOT` if set, else
 * found from this module's location, else from the working directory upwards.
 */
export function findRepoRoot(): string {
  const configured = dbEnv().ATELIER_ROOT?.trim();
  if (configured) {
    if (!isRepoRoot(configured)) throw new Error(`ATELIER_ROOT=${configured} has no prisma/schema.prisma`);
    return path.resolve(configured);
  }
  const fromModule = moduleDir();
  const found = (fromModule && walkUp(fromModule)) || walkUp(process.cwd());
  if (!found) {
    throw new Error(
      `cannot find the Atelier repository (prisma/schema.prisma) above ${fromModule ?? "?"} or ${process.cwd()}; set ATELIER_ROOT`,
    );
  }
  return found;
}

/** The committed migrations of one provider: prisma/migrations (SQLite), prisma/postgresql/migrations. */
export function migrationsDir(provider: Provider): string {
  const root = findRepoRoot();
  return provider === "sqlite"
    ? path.join(root, "prisma", "migrations")
    : path.join(root, "prisma", "postgresql", "migrations");
}
