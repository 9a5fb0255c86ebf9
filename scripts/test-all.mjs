#!/usr/bin/env node
// `npm test`: every test of the monorepo on a fresh clone — installs what is missing
// (dependencies, Debian's Chromium), starts PostgreSQL/Redis if they stopped, then runs the
// unit and integration suites (one package at a time: 2 cores, CPU-bound engine tests) and
// the Playwright journeys.
import { existsSync } from "node:fs";
import path from "node:path";
import { ensureChromium, ensureDependencies, ensureServices, findWeights, log, repoRoot, runOrExit } from "./lib/setup.mjs";

process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.TURBO_TELEMETRY_DISABLED = "1";
process.env.CHECKPOINT_DISABLE = "1";

ensureDependencies();
await ensureServices();
const weights = findWeights();
if (!weights) {
  console.error("[atelier] VGG-19 weights not found: set ATELIER_VGG19 to a weights folder or run `npm run weights`");
  process.exit(1);
}
process.env.ATELIER_VGG19 ??= weights;
log(`VGG-19 weights: ${process.env.ATELIER_VGG19}`);

const started = Date.now();
runOrExit("npx", ["turbo", "run", "test", "--concurrency=1", "--continue=never", "--output-logs=full"]);
if (existsSync(path.join(repoRoot, "e2e", "playwright.config.ts"))) {
  ensureChromium();
  runOrExit("npm", ["run", "test:e2e", "-w", "@atelier/e2e"]);
}
log(`all tests passed in ${Math.round((Date.now() - started) / 1000)} s`);
