import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import path from "node:path";
import { createDb, migrate, providerOf, readMigrations, type Db } from "../src/index.ts";
import { exerciseModel } from "./model-exercise.ts";
import { createTempDatabase, describePostgres, pgReachable } from "./pg-support.ts";
import { prismaCli, schemaFromEmptySql, tempDir } from "./support.ts";

/*
 * The PostgreSQL path against the local server. Each run uses fresh databases
 * (atelier_test_<random>) and drops them afterwards. When the server is unreachable this
 * fails under CI=true and is skipped (with the reason printed) elsewhere.
 */
const unreachable = await pgReachable();
const inCi = process.env.CI === "true" || process.env.CI === "1";
if (unreachable && !inCi) console.warn(`[@atelier/db] skipping the PostgreSQL tests: ${unreachable}`);

describe.skipIf(unreachable !== null && !inCi)("PostgreSQL (DATABASE_URL=postgresql://…)", () => {
  const drops: (() => Promise<void>)[] = [];
  let url = "";
  let db: Db | null = null;

  beforeAll(async () => {
    if (unreachable) throw new Error(`CI=true and ${unreachable}`);
    const temp = await createTempDatabase("db");
    drops.push(temp.drop);
    url = temp.url;
  });
  afterAll(async () => {
    await db?.$disconnect();
    for (const drop of drops.reverse()) await drop();
  });

  it("migrates a fresh database with prisma-compatible bookkeeping", async () => {
    const report = await migrate(url);
    expect(report.provider).toBe("postgresql");
    expect(report.applied).toEqual(readMigrations("postgresql").map((m) => m.name));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
      expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count, r.logs, r.rolled_back_at])).toEqual(
        readMigrations("postgresql").map((m) => [m.name, m.checksum, 1, null, null]),
      );
      for (const r of rows) {
        expect(r.finished_at).toBeInstanceOf(Date);
        expect(r.started_at).toBeInstanceOf(Date);
        expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
      }
      const cols = await c.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      );
      expect(cols.rows.map((r) => r.column_name)).toEqual([
        "id",
        "checksum",
        "finished_at",
        "migration_name",
        "logs",
        "rolled_back_at",
        "started_at",
        "applied_steps_count",
      ]);
    } finally {
      await c.end();
    }
  });

  it("the prisma CLI (`migrate status`) sees the runner's bookkeeping as up to date", async () => {
    const config = path.join(import.meta.dirname, "prisma-pg.config.ts");
    const status = await prismaCli(["migrate", "status", "--config", config], { DATABASE_URL: url });
    expect(status.stdout + status.stderr).toContain("Database schema is up to date");
    expect(status.code).toBe(0);
    // and a database the runner has not touched is reported as behind
    const empty = await createTempDatabase("empty");
    drops.push(empty.drop);
    const behind = await prismaCli(["migrate", "status", "--config", config], { DATABASE_URL: empty.url });
    expect(behind.stdout + behind.stderr).toMatch(/not yet been applied/);
    expect(behind.code).not.toBe(0);
  });

  it("does the same CRUD, unique rules and cascades through @prisma/adapter-pg", async () => {
    db = await createDb({ url });
    expect(providerOf(db)).toBe("postgresql");
    await exerciseModel(db);
  });

  it("re-migrating applies nothing, concurrently too", async () => {
    const reports = await Promise.all([migrate(url), migrate(url)]);
    for (const r of reports) expect(r.applied).toEqual([]);
    const again = await createDb({ url });
    try {
      const user = await again.user.create({ data: { email: "again@example.com" } });
      expect(await again.user.findUnique({ where: { email: "again@example.com" } })).toEqual(user);
    } finally {
      await again.$disconnect();
    }
  });

  it("two fresh starts at once migrate once (advisory lock)", async () => {
    const temp = await createTempDatabase("lock");
    drops.push(temp.drop);
    const reports = await Promise.all([migrate(temp.url), migrate(temp.url), migrate(temp.url)]);
    expect(reports.flatMap((r) => r.applied)).toEqual(readMigrations("postgresql").map((m) => m.name));
  });

  it("the PostgreSQL migrations produce exactly the schema of prisma/postgresql/schema.prisma", async () => {
    const fresh = await createTempDatabase("fresh");
    drops.push(fresh.drop);
    const t = tempDir();
    try {
      const sql = await schemaFromEmptySql(path.join("prisma", "postgresql", "schema.prisma"), t.dir);
      const c = new pg.Client({ connectionString: fresh.url });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    } finally {
      t.remove();
    }
    expect(await describePostgres(url)).toEqual(await describePostgres(fresh.url));
  });

  it("a database that does not exist gives a clear error", async () => {
    await expect(createDb({ url: url.replace(/\/[^/]*$/, "/atelier_test_does_not_exist") })).rejects.toThrow(
      /does not exist/,
    );
  });
});
