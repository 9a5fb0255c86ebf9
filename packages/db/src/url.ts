import path from "node:path";
import { dbEnv } from "./env.ts";
import { resolveDataDir } from "./paths.ts";

export type DatabaseTarget =
  { provider: "sqlite"; file: string; url: string } | { provider: "postgresql"; url: string };

/** The embedded default: DATA_DIR/atelier.db. */
export function defaultSqliteFile(dataDir: string = resolveDataDir()): string {
  return path.join(dataDir, "atelier.db");
}

/**
 * What a database URL points at. `file:` URLs are SQLite files (relative paths resolve against
 * the working directory; query parameters are ignored), `postgres://` and `postgresql://` are
 * PostgreSQL. Anything else is a configuration error, reported with the offending scheme only
 * (never the full URL: it may hold a password).
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (trimmed.startsWith("file:")) {
    const raw = trimmed.slice("file:".length).replace(/\?.*$/, "");
    if (!raw) throw new Error("DATABASE_URL `file:` has no path");
    const file = path.resolve(raw.startsWith("//") ? raw.slice(2) : raw);
    return { provider: "sqlite", file, url: `file:${file}` };
  }
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { provider: "postgresql", url: trimmed };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1] ?? "(none)";
  throw new Error(`unsupported database URL scheme "${scheme}": use file:<path> (SQLite) or postgresql://…`);
}

/**
 * Which database to use: an explicit URL, else an explicit data dir's SQLite file, else
 * DATABASE_URL, else DATA_DIR/atelier.db.
 */
export function resolveDatabaseTarget(options: { url?: string; dataDir?: string } = {}): DatabaseTarget {
  if (options.url) return parseDatabaseUrl(options.url);
  // turbopackIgnore: DATA_DIR is chosen at run time, not a folder of the build to trace (without
  // the comment `next build` warns "Dynamic filesystem access" and traces the whole project)
  if (options.dataDir)
    return parseDatabaseUrl(`file:${defaultSqliteFile(path.resolve(/*turbopackIgnore: true*/ options.dataDir))}`);
  const env = dbEnv().DATABASE_URL?.trim();
  if (env) return parseDatabaseUrl(env);
  return parseDatabaseUrl(`file:${defaultSqliteFile()}`);
}
