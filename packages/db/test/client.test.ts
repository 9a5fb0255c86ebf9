import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { defaultRoomDocument } from "@atelier/protocol";
import {
  closeDb,
  createDb,
  findRepoRoot,
  getDb,
  readMigrations,
  resolveDataDir,
  roleOf,
  serializeRoomDocument,
} from "../src/index.ts";
import { parseDatabaseUrl, resolveDatabaseTarget } from "../src/url.ts";
import { tempDir } from "./support.ts";

const run = promisify(execFile);
const env = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await closeDb();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("data dir and database URL resolution", () => {
  it("DATA_DIR, else ./data, against the working directory", () => {
    delete process.env.DATA_DIR;
    expect(resolveDataDir()).toBe(path.resolve("data"));
    process.env.DATA_DIR = "  ";
    expect(resolveDataDir()).toBe(path.resolve("data"));
    process.env.DATA_DIR = "rel/dir";
    expect(resolveDataDir()).toBe(path.resolve("rel/dir"));
    process.env.DATA_DIR = "/abs/dir";
    expect(resolveDataDir()).toBe("/abs/dir");
  });

  it("url > dataDir > DATABASE_URL > DATA_DIR/atelier.db", () => {
    process.env.DATA_DIR = "/d";
    delete process.env.DATABASE_URL;
    expect(resolveDatabaseTarget()).toEqual({ provider: "sqlite", file: "/d/atelier.db", url: "file:/d/atelier.db" });
    process.env.DATABASE_URL = "postgresql://u@h/db";
    expect(resolveDatabaseTarget()).toEqual({ provider: "postgresql", url: "postgresql://u@h/db" });
    expect(resolveDatabaseTarget({ dataDir: "/t" })).toMatchObject({ file: "/t/atelier.db" });
    expect(resolveDatabaseTarget({ url: "file:./x.db?connection_limit=1", dataDir: "/t" })).toMatchObject({
      file: path.resolve("x.db"),
    });
    expect(parseDatabaseUrl("file:///abs/a.db")).toMatchObject({ file: "/abs/a.db" });
    expect(parseDatabaseUrl("postgres://u@h/db").provider).toBe("postgresql");
    expect(() => parseDatabaseUrl("file:")).toThrow(/no path/);
    expect(() => parseDatabaseUrl("mysql://root:pw@h/db")).toThrow(/"mysql"/);
  });

  it("finds the repository (migrations) from the module, whatever the working directory", () => {
    expect(existsSync(path.join(findRepoRoot(), "prisma", "schema.prisma"))).toBe(true);
  });
});

describe("getDb", () => {
  it("is a lazy per-process singleton on DATA_DIR/atelier.db, migrated on first use", async () => {
    const t = tempDir();
    cleanups.push(t.remove);
    process.env.DATA_DIR = t.dir;
    delete process.env.DATABASE_URL;
    expect(existsSync(path.join(t.dir, "atelier.db"))).toBe(false);
    const [a, b] = await Promise.all([getDb(), getDb()]);
    expect(a).toBe(b);
    expect(await getDb()).toBe(a);
    expect(existsSync(path.join(t.dir, "atelier.db"))).toBe(true);
    await a.user.create({ data: { email: "x@example.com" } });
    await closeDb();
    const c = await getDb();
    expect(c).not.toBe(a);
    expect(await c.user.count()).toBe(1);
  });

  it("does not cache a failed start", async () => {
    process.env.DATABASE_URL = "mysql://nope";
    await expect(getDb()).rejects.toThrow(/unsupported database URL/);
    const t = tempDir();
    cleanups.push(t.remove);
    process.env.DATABASE_URL = `file:${path.join(t.dir, "ok.db")}`;
    const db = await getDb();
    expect(await db.user.count()).toBe(0);
  });
});

describe("roleOf", () => {
  it("owner without a row, member roles, unknown role strings and strangers", async () => {
    const t = tempDir();
    cleanups.push(t.remove);
    const db = await createDb({ dataDir: t.dir });
    cleanups.push(() => db.$disconnect());
    const [owner, viewer, odd, stranger] = await Promise.all(
      ["o", "v", "x", "s"].map((n) => db.user.create({ data: { email: `${n}@example.com` } })),
    );
    const room = await db.room.create({
      data: {
        name: "r",
        ownerId: owner!.id,
        document: serializeRoomDocument(defaultRoomDocument()),
        members: {
          create: [
            { userId: viewer!.id, role: "viewer" },
            { userId: odd!.id, role: "admin" },
          ],
        },
      },
    });
    expect(await roleOf(db, room.id, owner!.id)).toBe("owner");
    expect(await roleOf(db, room.id, viewer!.id)).toBe("viewer");
    expect(await roleOf(db, room.id, odd!.id)).toBeNull();
    expect(await roleOf(db, room.id, stranger!.id)).toBeNull();
    expect(await roleOf(db, "no-such-room", owner!.id)).toBeNull();
  });
});

describe("several processes starting on a fresh database", () => {
  it("migrate it exactly once", async () => {
    const t = tempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, "atelier.db");
    const script = `import { migrate } from ${JSON.stringify(path.join(findRepoRoot(), "packages/db/src/migrate.ts"))};
      const r = await migrate(process.argv[1]); console.log(JSON.stringify(r.applied));`;
    const tsx = path.join(findRepoRoot(), "node_modules", ".bin", "tsx");
    const outputs = await Promise.all(
      [0, 1, 2].map(() =>
        run(tsx, ["--input-type=module", "-e", script, `file:${file}`], { cwd: t.dir }).then(
          (r) => JSON.parse(r.stdout) as string[],
        ),
      ),
    );
    expect(outputs.flat()).toEqual(readMigrations("sqlite").map((m) => m.name));
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) AS n FROM _prisma_migrations").get()).toEqual({
        n: readMigrations("sqlite").length,
      });
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      db.close();
    }
  });
});
