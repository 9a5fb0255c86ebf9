/**
 * Throwaway databases for test suites (import from "@atelier/db/testing"; not for production
 * code). By default a suite gets a SQLite file in its temp DATA_DIR; with
 * ATELIER_TEST_DB=postgresql (the PostgreSQL pass of `npm test`) it gets a fresh database
 * atelier_test_<label>_<random> on the local server (ATELIER_TEST_PG_URL, default
 * postgresql://postgres@127.0.0.1:5432/test), dropped afterwards.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { dbEnv } from "./env.ts";
import type { Provider } from "./paths.ts";

/** The local PostgreSQL server of every machine of this project (trust auth). */
export const PG_ADMIN_URL = dbEnv().ATELIER_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

function urlFor(database: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh, empty PostgreSQL database; `drop()` removes it (also when clients are still connected). */
export async function createTempDatabase(
  label = "t",
): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `atelier_test_${label}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: urlFor(name),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Which database the suites run against: ATELIER_TEST_DB=postgresql, else SQLite. */
export function testDatabaseProvider(): Provider {
  const wanted = dbEnv().ATELIER_TEST_DB?.trim().toLowerCase() || "sqlite";
  if (wanted !== "sqlite" && wanted !== "postgresql") {
    throw new Error(`ATELIER_TEST_DB must be "sqlite" or "postgresql", got "${wanted}"`);
  }
  return wanted;
}

export interface TestDatabase {
  provider: Provider;
  /** a DATABASE_URL for it */
  url: string;
  /** removes a PostgreSQL database (a SQLite file goes with its DATA_DIR) */
  drop(): Promise<void>;
}

/** A fresh database for one test file: see the module comment. */
export async function createTestDatabase(label: string, dataDir: string): Promise<TestDatabase> {
  if (testDatabaseProvider() === "postgresql") {
    const temp = await createTempDatabase(label);
    return { provider: "postgresql", url: temp.url, drop: temp.drop };
  }
  return { provider: "sqlite", url: `file:${path.join(dataDir, "atelier.db")}`, drop: async () => {} };
}
