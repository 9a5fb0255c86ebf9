// Test-only prisma config for PostgreSQL: lets the prisma CLI look at a test database
// (`prisma migrate status --config packages/db/test/prisma-pg.config.ts`, DATABASE_URL=postgresql://…).
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= "/bin/false";
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";

import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

const root = process.env.ATELIER_ROOT?.trim() || path.resolve(import.meta.dirname, "..", "..", "..");

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join(root, "prisma", "postgresql", "schema.prisma"),
  migrations: { path: path.join(root, "prisma", "postgresql", "migrations") },
  adapter: async () => {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL (postgresql://…) is not set");
    return new PrismaPg({ connectionString: url });
  },
});
