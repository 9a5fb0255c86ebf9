import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { migrationsDir, type Provider } from "./paths.ts";
import { parseDatabaseUrl, type DatabaseTarget } from "./url.ts";

/*
 * Applies the committed migrations (prisma/migrations for SQLite, prisma/postgresql/migrations
 * for PostgreSQL) and records them in `_prisma_migrations` exactly as `prisma migrate deploy`
 * does, so the prisma CLI (`migrate status`, `migrate deploy`) sees the same state.
 * Why our own runner: `prisma migrate deploy` fails on PostgreSQL with Prisma 6.19 (known bug),
 * and spawning the CLI on every start would be slow and needs the dev dependency at runtime.
 * Unlike the CLI, each migration runs in one transaction together with its bookkeeping row,
 * so a failing migration leaves nothing behind (no half-applied, "failed" state to resolve).
 */

export type Migration = { name: string; sql: string; checksum: string };

export type MigrateReport = {
  provider: Provider;
  /** names of the migrations applied by this call, in order */
  applied: string[];
  /** how many were already applied before this call */
  alreadyApplied: number;
  /** e.g. an applied migration whose file changed since */
  warnings: string[];
};

/** sha256 (hex) of the migration file's bytes, as Prisma records it. */
export function migrationChecksum(sql: string | Buffer): string {
  return createHash("sha256").update(sql).digest("hex");
}

/** The committed migrations of a provider, in the order Prisma applies them (folder name). */
export function readMigrations(provider: Provider, dir: string = migrationsDir(provider)): Migration[] {
  if (!existsSync(dir)) throw new Error(`migrations folder ${dir} does not exist`);
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const file = path.join(dir, name, "migration.sql");
      if (!existsSync(file)) throw new Error(`migration ${name} has no migration.sql (${file})`);
      const bytes = readFileSync(file);
      return { name, sql: bytes.toString("utf8"), checksum: migrationChecksum(bytes) };
    });
}

type AppliedRow = {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
};

/** What is left to apply; throws on a migration recorded as failed (what `migrate deploy` calls P3009). */
function plan(migrations: Migration[], rows: AppliedRow[]): { pending: Migration[]; done: number; warnings: string[] } {
  const failed = rows.filter((r) => r.finished_at == null && r.rolled_back_at == null);
  if (failed.length > 0) {
    throw new Error(
      `migration ${failed.map((r) => r.migration_name).join(", ")} failed earlier and is recorded as unfinished in ` +
        "_prisma_migrations; fix the database by hand, then mark it with `prisma migrate resolve`",
    );
  }
  const finished = new Map<string, string>();
  for (const r of rows)
    if (r.finished_at != null && r.rolled_back_at == null) finished.set(r.migration_name, r.checksum);
  const warnings: string[] = [];
  for (const m of migrations) {
    const recorded = finished.get(m.name);
    if (recorded !== undefined && recorded !== m.checksum) {
      warnings.push(`migration ${m.name} was modified after it was applied (checksum differs)`);
    }
  }
  const known = new Set(migrations.map((m) => m.name));
  for (const name of finished.keys()) {
    if (!known.has(name))
      warnings.push(`migration ${name} is applied in the database but missing from the migrations folder`);
  }
  const pending = migrations.filter((m) => !finished.has(m.name));
  return { pending, done: migrations.length - pending.length, warnings };
}

/** Prisma writes SQLite timestamps in this form: 2026-11-28T09:59:29.809+00:00 */
function sqliteTimestamp(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

// The table definitions are the ones Prisma's schema engine creates.
const SQLITE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

const PG_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Prisma's own advisory lock key for migrations: CLI and runner exclude each other. */
const PG_MIGRATION_LOCK = 72707369;

async function migrateSqlite(file: string, migrations: Migration[]): Promise<MigrateReport> {
  mkdirSync(path.dirname(file), { recursive: true });
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(file, { timeout: 30_000 });
  try {
    // WAL: the web app and the optimiser read while the other writes. Persistent in the file.
    db.pragma("journal_mode = WAL");
    // Prisma's table-redefining migrations need foreign keys off; the pragma is a no-op inside a
    // transaction, so switch it off around the transaction and check the keys before commit.
    db.pragma("foreign_keys = OFF");
    // IMMEDIATE takes the write lock first: two processes starting together migrate one after the other.
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(SQLITE_MIGRATIONS_TABLE);
      const rows = db
        .prepare(
          `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
        )
        .all() as AppliedRow[];
      const { pending, done, warnings } = plan(migrations, rows);
      const insert = db.prepare(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
      );
      for (const m of pending) {
        const startedAt = sqliteTimestamp(new Date());
        try {
          db.exec(m.sql);
        } catch (e) {
          throw new Error(`migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
        }
        insert.run(randomUUID(), m.checksum, sqliteTimestamp(new Date()), m.name, startedAt);
      }
      const violations = db.pragma("foreign_key_check") as unknown[];
      if (violations.length > 0) {
        throw new Error(
          `migrations left ${violations.length} foreign key violation(s): ${JSON.stringify(violations.slice(0, 5))}`,
        );
      }
      db.exec("COMMIT");
      return { provider: "sqlite", applied: pending.map((m) => m.name), alreadyApplied: done, warnings };
    } catch (e) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw e;
    }
  } finally {
    db.close();
  }
}

async function migratePostgres(url: string, migrations: Migration[]): Promise<MigrateReport> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PG_MIGRATION_LOCK]);
    try {
      await client.query(PG_MIGRATIONS_TABLE);
      const { rows } = await client.query<AppliedRow>(
        `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
      );
      const { pending, done, warnings } = plan(migrations, rows);
      for (const m of pending) {
        const startedAt = new Date();
        await client.query("BEGIN");
        try {
          // no parameters: the simple query protocol runs the whole multi-statement script
          await client.query(m.sql);
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
             VALUES ($1, $2, now(), $3, NULL, NULL, $4, 1)`,
            [randomUUID(), m.checksum, m.name, startedAt],
          );
          await client.query("COMMIT");
        } catch (e) {
          await client.query("ROLLBACK").catch(() => {});
          throw new Error(`migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
        }
      }
      return { provider: "postgresql", applied: pending.map((m) => m.name), alreadyApplied: done, warnings };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PG_MIGRATION_LOCK]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** Brings the database at `url` (file:… or postgresql://…) up to the committed migrations. */
export async function migrate(url: string, options: { migrationsDir?: string } = {}): Promise<MigrateReport> {
  return migrateTarget(parseDatabaseUrl(url), options);
}

export async function migrateTarget(
  target: DatabaseTarget,
  options: { migrationsDir?: string } = {},
): Promise<MigrateReport> {
  const migrations = readMigrations(target.provider, options.migrationsDir);
  const report =
    target.provider === "sqlite"
      ? await migrateSqlite(target.file, migrations)
      : await migratePostgres(target.url, migrations);
  for (const w of report.warnings) console.warn(`[@atelier/db] ${w}`);
  return report;
}
