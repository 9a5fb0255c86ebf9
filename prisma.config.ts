// Prisma 6.19 offline: point the engines at /bin/false so `prisma generate` never tries a download,
// and use the JS engine with driver adapters (the Rust engines cannot be fetched here).
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= "/bin/false";
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";

import { mkdirSync } from "node:fs";
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

function sqliteUrl(): string {
  const url = process.env.DATABASE_URL;
  if (url && url.startsWith("file:")) return url;
  // same rule as resolveDataDir() in packages/db/src/paths.ts
  const dataDir = process.env.DATA_DIR?.trim() || "./data";
  return `file:${path.resolve(dataDir, "atelier.db")}`;
}

// The CLI opens the adapter even for `migrate diff`; a missing folder makes it fail obscurely.
function ensureParentDir(url: string): string {
  mkdirSync(path.dirname(url.replace(/^file:/, "")), { recursive: true });
  return url;
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  adapter: async () => new PrismaBetterSQLite3({ url: ensureParentDir(sqliteUrl()) }),
});
