import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import path from "node:path";
import { findRepoRoot, migrate } from "../src/index.ts";
import { postgresSchemaFrom } from "../src/pg-schema.ts";
import { describeSqlite, schemaFromEmptySql, tempDir } from "./support.ts";

const root = findRepoRoot();

describe("schema drift", () => {
  it("prisma/postgresql/schema.prisma is the generated copy of prisma/schema.prisma (run `npm run db:pg-schema`)", () => {
    const source = readFileSync(path.join(root, "prisma", "schema.prisma"), "utf8");
    const committed = readFileSync(path.join(root, "prisma", "postgresql", "schema.prisma"), "utf8");
    expect(committed).toBe(postgresSchemaFrom(source));
  });

  it("the SQLite migrations produce exactly the schema of prisma/schema.prisma (add a migration: see packages/db/README.md)", async () => {
    const t = tempDir();
    try {
      const migrated = path.join(t.dir, "migrated.db");
      await migrate(`file:${migrated}`);
      const fresh = path.join(t.dir, "fresh.db");
      const db = new Database(fresh);
      db.exec(await schemaFromEmptySql(path.join("prisma", "schema.prisma"), t.dir));
      db.close();
      expect(await describeSqlite(migrated)).toEqual(await describeSqlite(fresh));
    } finally {
      t.remove();
    }
  });
});
