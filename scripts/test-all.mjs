#!/usr/bin/env node
// `npm test`: every test of the monorepo on a fresh clone — installs what is missing
// (dependencies, Debian's Chromium, Mesa's software Vulkan driver), starts PostgreSQL/Redis if
// they stopped, then runs lint beside the light suites; the service's suites beside their
// PostgreSQL pass (the suites that open a database, once more against PostgreSQL); the engine's
// suites alone (CPU-bound); the Playwright journeys; and prints the time of each phase and one
// closing line with the counts of all of them.
import { spawn } from "node:child_process";
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
} from "./lib/setup.mjs";
import { databaseSuites, phaseTable } from "./lib/test-plan.mjs";

process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.TURBO_TELEMETRY_DISABLED = "1";
process.env.CHECKPOINT_DISABLE = "1";

// Every workspace with a `test` script (vitest), so a new package is counted too.
const workspaces = ["apps", "packages"].flatMap((group) =>
  readdirSync(path.join(repoRoot, group))
    .map((name) => `${group}/${name}`)
    .filter((ws) => {
      const manifest = path.join(repoRoot, ws, "package.json");
      return existsSync(manifest) && Boolean(JSON.parse(readFileSync(manifest, "utf8")).scripts?.test);
    }),
);
const vitestReport = (ws) => path.join(repoRoot, ws, ".vitest", "results.json");
// The workspaces whose suites open a database (each test file gets a throwaway one, see
// packages/db/src/testing.ts): those files run once more with ATELIER_TEST_DB=postgresql.
const postgresWorkspaces = ["apps/web", "apps/optimizer"];
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
  console.log(`\n${phaseTable(phases, (Date.now() - runStarted) / 1000)}`);
  const t = summary();
  console.log(`\nTests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
  process.exit(status !== 0 ? status : t.failed > 0 ? 1 : 0);
}

/**
 * When the run started: `.ci/run` passes the moment before its `npm ci` (ATELIER_CI_STARTED, ms),
 * so the install it did counts in the phase table.
 */
const runStarted = Number(process.env.ATELIER_CI_STARTED) || Date.now();
/** @type {{ name: string; seconds: number; status: number | null; beside?: string }[]} */
const phases = [];

/**
 * Runs a command without blocking this process (so two can run side by side). `quiet`: its
 * output is held and printed in one block when it ends, so it does not interleave with the
 * phase beside it.
 */
function runAsync(cmd, args, { cwd = repoRoot, env = process.env, quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit" });
    const held = [];
    if (quiet) {
      child.stdout.on("data", (d) => held.push(d));
      child.stderr.on("data", (d) => held.push(d));
    }
    child.on("error", (error) => {
      held.push(Buffer.from(String(error)));
      resolve({ status: 1, output: Buffer.concat(held).toString() });
    });
    child.on("close", (code) => resolve({ status: code ?? 1, output: Buffer.concat(held).toString() }));
  });
}

/** Runs `fn` (resolving to an exit status) as a named phase of the table. */
async function phase(name, fn, beside) {
  const started = Date.now();
  const status = await fn();
  phases.push({ name, seconds: (Date.now() - started) / 1000, status, ...(beside ? { beside } : {}) });
  return status;
}

/**
 * One workspace's vitest suites (all, or `files`), with a JSON report under its .vitest/;
 * `filesAtOnce`: test files run side by side (each in its own process), instead of the
 * workspace's own setting.
 */
async function vitest(ws, report, { files = [], env = process.env, quiet = false, filesAtOnce = 0 } = {}) {
  const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=.vitest/${report}`];
  if (filesAtOnce > 0) args.push("--fileParallelism", `--maxWorkers=${filesAtOnce}`);
  const r = await runAsync("npx", [...args, ...files], { cwd: path.join(repoRoot, ws), env, quiet });
  if (quiet) process.stdout.write(r.output);
  return r.status;
}

const installStarted = Date.now();
ensureDependencies();
phases.push({ name: "install", seconds: (Date.now() - Math.min(runStarted, installStarted)) / 1000, status: 0 });
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

// The suites that need little CPU (no engine runs) go beside lint (typecheck, ESLint, Prettier,
// knip: mostly one core); lint's output is printed in one block when it ends. The engine's and
// the service's suites each need both cores, so they run alone.
const heavy = new Set(["packages/engine", "apps/optimizer"]);
const light = workspaces.filter((ws) => !heavy.has(ws));
log(`lint (npm run lint) beside the suites of ${light.join(", ")}`);
const lintDone = phase(
  "lint",
  async () => {
    const r = await runAsync("npm", ["run", "lint"], { quiet: true });
    console.log(`\n[atelier] ── lint (npm run lint): ${r.status === 0 ? "ok" : "FAILED"} ──\n${r.output}`);
    return r.status;
  },
  "light suites",
);
let status = 0;
for (const ws of light)
  if (status === 0) status = await phase(`vitest ${ws}`, () => vitest(ws, "results.json"), "lint");
const lintStatus = await lintDone;
if (lintStatus !== 0) {
  console.error("[atelier] lint failed (npm run lint): fix the errors above, or `npm run lint:fix` for formatting");
  finish(lintStatus);
}
// The service's suites spend much of their wall time waiting (sockets, timers, processes being
// killed and taken over: measured 314 s of CPU in 352 s of wall for the SQLite pass, 392 s in
// 537 s for the PostgreSQL pass, whose chaos files mostly wait), so its SQLite pass and its
// PostgreSQL pass (only the files that open a database) run side by side, two files at a time each,
// with the web app's PostgreSQL pass (database queries, no engine); the passes beside the
// SQLite one hold their output until they end. Their wall-clock limits are scaled for the
// load they make together (ATELIER_TEST_SLOWDOWN_FLOOR, vitest.base.ts). The engine's suites
// keep both cores busy, so they run alone.
/**
 * The web app's production build for the journeys (apps/web/.next-e2e, as e2e/support/stack.ts
 * serves it), made beside suites that leave a core idle; the journeys then reuse it
 * (ATELIER_E2E_PREBUILT). Its output is printed only when it fails.
 */
function buildForJourneys(beside) {
  return phase(
    "e2e web build",
    async () => {
      // lint (before this phase) type-checked apps/web: next build need not again
      const env = {
        ...process.env,
        NODE_ENV: "production",
        ATELIER_NEXT_DIST_DIR: ".next-e2e",
        ATELIER_NEXT_TYPES_CHECKED: "1",
      };
      const r = await runAsync("npm", ["run", "build", "-w", "@atelier/web"], { env, quiet: true });
      if (r.status !== 0) console.error(`[atelier] next build of apps/web for the journeys failed:\n${r.output}`);
      return r.status;
    },
    beside,
  );
}
const journeys = existsSync(path.join(repoRoot, "e2e", "playwright.config.ts"));
let journeysBuilt = Promise.resolve(1);

if (status === 0) {
  if (journeys) journeysBuilt = buildForJourneys("the service's suites");
  const sideBySide = { ...process.env, ATELIER_TEST_SLOWDOWN_FLOOR: "2" };
  const pgEnv = { ...sideBySide, ATELIER_TEST_DB: "postgresql" };
  const pass = postgresWorkspaces.map((ws) => ({ ws, files: databaseSuites(path.join(repoRoot, ws)) }));
  for (const { ws, files } of pass)
    log(`against PostgreSQL, beside the service's SQLite pass: ${ws}, the ${files.length} suites that open a database`);
  const postgres = pass
    .filter((p) => p.files.length > 0)
    .map(({ ws, files }) =>
      phase(
        `PostgreSQL ${ws}`,
        () => vitest(ws, "results-postgresql.json", { files, env: pgEnv, quiet: true, filesAtOnce: 2 }),
        "vitest apps/optimizer",
      ),
    );
  status = await phase(
    "vitest apps/optimizer",
    () => vitest("apps/optimizer", "results.json", { env: sideBySide, filesAtOnce: 2 }),
    "PostgreSQL passes",
  );
  for (const pgStatus of await Promise.all(postgres)) if (status === 0) status = pgStatus;
}
if (status === 0) status = await phase("vitest packages/engine", () => vitest("packages/engine", "results.json"));
if (status === 0 && journeys) {
  ensureChromium();
  // a failed early build is made again (with its errors shown) by the journeys' own setup
  const env = (await journeysBuilt) === 0 ? { ...process.env, ATELIER_E2E_PREBUILT: "1" } : process.env;
  status = await phase(
    "e2e journeys",
    async () => (await runAsync("npm", ["run", "test:e2e", "-w", "@atelier/e2e"], { env })).status,
  );
}
await journeysBuilt; // no build left running after a failed phase
finish(status);
