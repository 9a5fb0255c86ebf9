// Writes prisma/postgresql/schema.prisma from prisma/schema.prisma (`npm run db:pg-schema`).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { postgresSchemaFrom } from "../src/pg-schema.ts";
import { findRepoRoot } from "../src/paths.ts";

const root = findRepoRoot();
const source = path.join(root, "prisma", "schema.prisma");
const target = path.join(root, "prisma", "postgresql", "schema.prisma");
mkdirSync(path.dirname(target), { recursive: true });
writeFileSync(target, postgresSchemaFrom(readFileSync(source, "utf8")));
console.log(`wrote ${path.relative(process.cwd(), target)}`);
