#!/usr/bin/env node
// `npm test`: every test of the monorepo on a fresh clone — installs what is missing
// (dependencies, Debian's Chromium, Mesa's software Vulkan driver), starts PostgreSQL/Redis if they stopped, then runs the
// unit and integration suites (one package at a time: 2 cores, CPU-bound engine tests), the
// web app's and the service's suites once more against PostgreSQL, and the Playwright
// journeys, and prints one closing line with the counts of all of them.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import {
  ensureChromium,
  ensureDependencies,
  ensureServices,
  ensureSoftwareVulkan,
  findWeights,
  log,
  repoRoot,
  run,
} from "./lib/setup.mjs";

process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.TURBO_TELEMETRY_DISABLED = "1";
process.env.CHECKPOINT_DISABLE = "1";

// Every workspace whose `test` script turbo runs (vitest), so a new package is counted too.
const workspaces = ["apps", "packages"].flatMap((group) =>
  readdirSync(path.join(repoRoot, group))
    .map((name) => `${group}/${name}`)
    .filter((ws) => {
      const manifest = path.join(repoRoot, ws, "package.json");
      return existsSync(manifest) && Boolean(JSON.parse(readFileSync(manifest, "utf8")).scripts?.test);
    }),
);
const vitestReport = (ws) => path.join(repoRoot, ws, ".vitest", "results.json");
// The integration suites that also run once against PostgreSQL (ATELIER_TEST_DB=postgresql:
// each test file gets a throwaway database, see packages/db/src/testing.ts).
const postgresWorkspaces = { "apps/web": "@atelier/web", "apps/optimizer": "@atelier/optimizer" };
const postgresReport = (ws) => path.join(repoRoot, ws, ".vitest", "results-postgresql.json");
const e2eReport = path.join(repoRoot, "e2e", "test-results", "results.json");

function countVitest(file) {
  const r = JSON.parse(readFileSync(file, "utf8"));
  return {
    passed: r.numPassedTests ?? 0,
    failed: r.numFailedTests ?? 0,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
  };
}

/** The titles of the journeys that failed first and passed on a retry. */
function flakyJourneys(report) {
  const titles = [];
  const walk = (suite, path) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests ?? []) if (test.status === "flaky") titles.push([...path, spec.title].join(" › "));
    }
    for (const child of suite.suites ?? []) walk(child, [...path, child.title]);
  };
  for (const suite of report.suites ?? []) walk(suite, [suite.title]);
  return titles;
}

// A flaky journey (failed, then passed on the retry) counts as failed, and is named loudly.
function countPlaywright(file) {
  const report = JSON.parse(readFileSync(file, "utf8"));
  const s = report.stats ?? {};
  const flaky = s.flaky ?? 0;
  if (flaky > 0) {
    console.error(`\n[atelier] FLAKY: ${flaky} journey(s) failed and only passed on a retry; counted as failed:`);
    for (const title of flakyJourneys(report)) console.error(`[atelier]   ${title}`);
  }
  return { passed: s.expected ?? 0, failed: (s.unexpected ?? 0) + flaky, skipped: s.skipped ?? 0 };
}

function summary() {
  const total = { passed: 0, failed: 0, skipped: 0 };
  const add = (c) => {
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
  };
  for (const ws of workspaces) {
    for (const file of [vitestReport(ws), postgresReport(ws)]) if (existsSync(file)) add(countVitest(file));
  }
  if (existsSync(e2eReport)) add(countPlaywright(e2eReport));
  return total;
}

function finish(status) {
  const t = summary();
  console.log(`\nTests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
  process.exit(status !== 0 ? status : t.failed > 0 ? 1 : 0);
}

ensureDependencies();
// Lint first (typecheck, ESLint, Prettier, knip): a lint error fails the run before the long suites start.
log("lint: npm run lint");
const lintStatus = run("npm", ["run", "lint"]);
if (lintStatus !== 0) {
  console.error("[atelier] lint failed (npm run lint): fix the errors above, or `npm run lint:fix` for formatting");
  finish(lintStatus);
}
await ensureServices();
// the engine's webgpu tests run on the software Vulkan adapter when the machine has no GPU
ensureSoftwareVulkan();
const weights = findWeights();
if (!weights) {
  console.error("[atelier] VGG-19 weights not found: set ATELIER_VGG19 to a weights folder or run `npm run weights`");
  process.exit(1);
}
process.env.ATELIER_VGG19 ??= weights;
log(`VGG-19 weights: ${process.env.ATELIER_VGG19}`);

for (const ws of workspaces) {
  rmSync(vitestReport(ws), { force: true });
  rmSync(postgresReport(ws), { force: true });
}
rmSync(e2eReport, { force: true });

const started = Date.now();
/** Every vitest suite of `filters` (all workspaces when none), one workspace at a time, with a JSON report. */
function runSuites(report, filters = [], env = process.env) {
  return run(
    "npx",
    [
      "turbo",
      "run",
      "test",
      "--concurrency=1",
      "--continue=never",
      "--output-logs=full",
      ...filters.map((name) => `--filter=${name}`),
      "--",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=.vitest/${report}`,
    ],
    { env },
  );
}

let status = runSuites("results.json");
if (status === 0) {
  log(`again against PostgreSQL: ${Object.values(postgresWorkspaces).join(", ")}`);
  status = runSuites("results-postgresql.json", Object.values(postgresWorkspaces), {
    ...process.env,
    ATELIER_TEST_DB: "postgresql",
  });
}
if (status === 0 && existsSync(path.join(repoRoot, "e2e", "playwright.config.ts"))) {
  ensureChromium();
  status = run("npm", ["run", "test:e2e", "-w", "@atelier/e2e"]);
}
log(`tests took ${Math.round((Date.now() - started) / 1000)} s`);
finish(status);
