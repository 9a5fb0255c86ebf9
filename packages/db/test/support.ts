import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { findRepoRoot } from "../src/paths.ts";

const run = promisify(execFile);

export function tempDir(prefix = "atelier-db-test-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the real prisma CLI from the repo root (prisma.config.ts applies). */
export async function prismaCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const root = findRepoRoot();
  try {
    const { stdout, stderr } = await run(path.join(root, "node_modules", ".bin", "prisma"), args, {
      cwd: root,
      env: { ...process.env, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1", ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? "", stderr: err.stderr ?? "", code: typeof err.code === "number" ? err.code : 1 };
  }
}

/** The SQL that creates the schema from nothing, straight from the schema file (what the migrations must add up to). */
export async function schemaFromEmptySql(schemaFile: string, scratchDir: string): Promise<string> {
  // prisma.config.ts opens its SQLite adapter even for a diff: give it a scratch file
  const r = await prismaCli(["migrate", "diff", "--from-empty", "--to-schema-datamodel", schemaFile, "--script"], {
    DATABASE_URL: `file:${path.join(scratchDir, "cli-scratch.db")}`,
  });
  if (r.code !== 0) throw new Error(`prisma migrate diff failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Tables, columns, indexes and foreign keys of a SQLite file (without Prisma's bookkeeping), comparable across creation paths. */
export async function describeSqlite(file: string): Promise<unknown> {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(file, { readonly: true });
  try {
    const tables = (
      db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations' ORDER BY name`,
        )
        .all() as { name: string }[]
    ).map((t) => t.name);
    return tables.map((table) => {
      const q = JSON.stringify(table);
      // by name: ALTER TABLE ADD COLUMN appends, a fresh CREATE TABLE has the schema's order
      const columns = (db.prepare(`PRAGMA table_info(${q})`).all() as { cid: number; name: string }[])
        .map(({ cid: _cid, ...c }) => c)
        .sort((a, b) => a.name.localeCompare(b.name));
      const indexes = (
        db.prepare(`PRAGMA index_list(${q})`).all() as { name: string; unique: number; origin: string }[]
      )
        .map((ix) => ({
          name: ix.name,
          unique: ix.unique,
          origin: ix.origin,
          columns: (db.prepare(`PRAGMA index_info(${JSON.stringify(ix.name)})`).all() as { name: string }[]).map(
            (c) => c.name,
          ),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const foreignKeys = (db.prepare(`PRAGMA foreign_key_list(${q})`).all() as Record<string, unknown>[])
        .map(({ id: _id, seq: _seq, ...fk }) => fk)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      return { table, columns, indexes, foreignKeys };
    });
  } finally {
    db.close();
  }
}
