import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { existsSync, mkdirSync, readFileSync, writeFileSync, cpSync } from "node:fs";
import path from "node:path";
import { createDb, migrate, readMigrations, migrationsDir, type Db } from "../src/index.ts";
import { migrationChecksum } from "../src/migrate.ts";
import { exerciseModel } from "./model-exercise.ts";
import { prismaCli, tempDir } from "./support.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function scratch() {
  const t = tempDir();
  cleanups.push(t.remove);
  return t.dir;
}
async function open(dataDir: string): Promise<Db> {
  const db = await createDb({ dataDir });
  cleanups.push(() => db.$disconnect());
  return db;
}

type MigrationRow = {
  id: string;
  checksum: string;
  finished_at: string | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: string | null;
  started_at: string;
  applied_steps_count: number;
};
function migrationRows(file: string): MigrationRow[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM _prisma_migrations ORDER BY migration_name`).all() as MigrationRow[];
  } finally {
    db.close();
  }
}

describe("SQLite (embedded default)", () => {
  it("creates and migrates DATA_DIR/atelier.db on first use, with prisma's bookkeeping", async () => {
    const dir = path.join(scratch(), "nested", "data");
    const db = await open(dir);
    const file = path.join(dir, "atelier.db");
    expect(existsSync(file)).toBe(true);
    expect(await db.user.count()).toBe(0);

    const migrations = readMigrations("sqlite");
    expect(migrations.length).toBeGreaterThan(0);
    const rows = migrationRows(file);
    expect(rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const [i, row] of rows.entries()) {
      const m = migrations[i]!;
      expect(row.checksum).toBe(m.checksum);
      expect(row.checksum).toBe(
        migrationChecksum(readFileSync(path.join(migrationsDir("sqlite"), m.name, "migration.sql"))),
      );
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
      // the format prisma's schema engine writes
      expect(row.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
      expect(row.finished_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    }
  });

  it("does the CRUD, unique rules and cascades of the model", async () => {
    const db = await open(scratch());
    await exerciseModel(db);
  });

  it("re-migrating applies nothing (second start)", async () => {
    const dir = scratch();
    const first = await open(dir);
    await first.user.create({ data: { email: "keep@example.com" } });
    const file = path.join(dir, "atelier.db");
    const before = migrationRows(file);
    const report = await migrate(`file:${file}`);
    expect(report.applied).toEqual([]);
    expect(report.alreadyApplied).toBe(readMigrations("sqlite").length);
    const second = await open(dir);
    expect(await second.user.count()).toBe(1);
    expect(migrationRows(file)).toEqual(before);
  });

  // (Separate processes racing to migrate are covered in client.test.ts; this one races in one process.)
  it("three concurrent migrations of one new file in one process apply each migration once", async () => {
    const file = path.join(scratch(), "atelier.db");
    const reports = await Promise.all([migrate(`file:${file}`), migrate(`file:${file}`), migrate(`file:${file}`)]);
    expect(reports.flatMap((r) => r.applied)).toEqual(readMigrations("sqlite").map((m) => m.name));
    expect(migrationRows(file)).toHaveLength(readMigrations("sqlite").length);
  });

  it("the prisma CLI sees the runner's state as up to date, and vice versa", async () => {
    const dir = scratch();
    const ours = path.join(dir, "ours.db");
    await migrate(`file:${ours}`);
    const status = await prismaCli(["migrate", "status"], { DATABASE_URL: `file:${ours}` });
    expect(status.stdout + status.stderr).toContain("Database schema is up to date");
    expect(status.code).toBe(0);
    const deploy = await prismaCli(["migrate", "deploy"], { DATABASE_URL: `file:${ours}` });
    expect(deploy.code).toBe(0);
    expect(deploy.stdout + deploy.stderr).toMatch(/No pending migrations to apply/);

    const theirs = path.join(dir, "theirs.db");
    const cli = await prismaCli(["migrate", "deploy"], { DATABASE_URL: `file:${theirs}` });
    expect(cli.code, cli.stderr).toBe(0);
    const report = await migrate(`file:${theirs}`);
    expect(report.applied).toEqual([]);
    const [a, b] = [migrationRows(ours), migrationRows(theirs)].map((rows) =>
      rows.map(({ checksum, migration_name, logs, rolled_back_at, applied_steps_count }) => ({
        checksum,
        migration_name,
        logs,
        rolled_back_at,
        applied_steps_count,
      })),
    );
    expect(a).toEqual(b);
  });

  it("an existing database gets only the new migrations, keeping its data", async () => {
    const dir = scratch();
    const folder = path.join(dir, "migrations");
    cpSync(migrationsDir("sqlite"), folder, { recursive: true });
    const file = path.join(dir, "atelier.db");
    await migrate(`file:${file}`, { migrationsDir: folder });
    const before = new Database(file);
    before.prepare(`INSERT INTO "User" (id, email) VALUES ('u1', 'kept@example.com')`).run();
    before.close();
    mkdirSync(path.join(folder, "29991231000000_add_nickname"));
    writeFileSync(
      path.join(folder, "29991231000000_add_nickname", "migration.sql"),
      `ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n`,
    );
    const report = await migrate(`file:${file}`, { migrationsDir: folder });
    expect(report.applied).toEqual(["29991231000000_add_nickname"]);
    expect(report.alreadyApplied).toBe(readMigrations("sqlite").length);
    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare(`SELECT email, nickname FROM "User"`).all()).toEqual([
        { email: "kept@example.com", nickname: null },
      ]);
    } finally {
      after.close();
    }
    // an edited, already applied migration is reported, not re-applied
    writeFileSync(
      path.join(folder, "29991231000000_add_nickname", "migration.sql"),
      `ALTER TABLE "User" ADD COLUMN "nick" TEXT;\n`,
    );
    const edited = await migrate(`file:${file}`, { migrationsDir: folder });
    expect(edited.applied).toEqual([]);
    expect(edited.warnings.join()).toMatch(/29991231000000_add_nickname was modified after it was applied/);
  });

  it("a failing migration changes nothing and says which one failed", async () => {
    const dir = scratch();
    const folder = path.join(dir, "migrations");
    cpSync(migrationsDir("sqlite"), folder, { recursive: true });
    const file = path.join(dir, "atelier.db");
    await migrate(`file:${file}`, { migrationsDir: folder });
    mkdirSync(path.join(folder, "29991231000000_broken"));
    writeFileSync(
      path.join(folder, "29991231000000_broken", "migration.sql"),
      `CREATE TABLE "Extra" ("id" TEXT NOT NULL PRIMARY KEY);\nALTER TABLE "NoSuchTable" ADD COLUMN "x" TEXT;\n`,
    );
    await expect(migrate(`file:${file}`, { migrationsDir: folder })).rejects.toThrow(/29991231000000_broken failed/);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'Extra'`).all()).toEqual([]);
    } finally {
      db.close();
    }
    expect(migrationRows(file).map((r) => r.migration_name)).toEqual(readMigrations("sqlite").map((m) => m.name));
  });

  it("refuses a database with a migration recorded as failed by the CLI", async () => {
    const file = path.join(scratch(), "atelier.db");
    await migrate(`file:${file}`);
    const db = new Database(file);
    db.prepare(`UPDATE _prisma_migrations SET finished_at = NULL`).run();
    db.close();
    await expect(migrate(`file:${file}`)).rejects.toThrow(/failed earlier/);
  });

  it("rejects unknown database URL schemes without echoing the URL", async () => {
    await expect(createDb({ url: "mysql://user:secret@host/db" })).rejects.toThrow(
      /unsupported database URL scheme "mysql"/,
    );
    await expect(createDb({ url: "mysql://user:secret@host/db" })).rejects.not.toThrow(/secret/);
  });
});
