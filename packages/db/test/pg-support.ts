import pg from "pg";
import { PG_ADMIN_URL } from "../src/testing.ts";

export { createTempDatabase } from "../src/testing.ts";

export async function pgReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (e) {
    return `PostgreSQL at ${PG_ADMIN_URL.replace(/\/\/[^@]*@/, "//…@")} is not reachable: ${(e as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Columns, indexes and constraints of the public schema (without Prisma's bookkeeping table). */
export async function describePostgres(url: string): Promise<unknown> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const columns = await c.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default, character_maximum_length, datetime_precision
         FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
        ORDER BY table_name, column_name`,
    );
    const indexes = await c.query(
      `SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename, indexname`,
    );
    const constraints = await c.query(
      `SELECT cl.relname AS table_name, co.conname, pg_get_constraintdef(co.oid) AS def
         FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = 'public' AND cl.relname <> '_prisma_migrations' ORDER BY 1, 2`,
    );
    return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
  } finally {
    await c.end();
  }
}
