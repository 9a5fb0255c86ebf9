#!/usr/bin/env node
// `npm run test:mutations [-- --only id,id]`: applies each deliberate breakage of
// scripts/lib/mutations.mjs to a temporary copy of this checkout (never to the tree itself),
// runs the suites that must catch it there, and prints a table of which were caught. Exits 1
// when any breakage was missed or could not be applied.
//
// The copy: every file of the checkout except dependencies, build output and test reports, in
// a temp folder beside a link to ../shared; its node_modules links each installed package
// of this checkout's, except the workspace links (@atelier/*), which point into the copy, so
// a breakage in one package reaches the suites of another.
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { findWeights, log, repoRoot } from "./lib/setup.mjs";
import { MUTATIONS } from "./lib/mutations.mjs";

const SKIP = new Set([
  "node_modules",
  ".git",
  ".next",
  ".next-e2e",
  ".turbo",
  ".vitest",
  "test-results",
  "playwright-report",
  "data",
]);

function copyTree(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst);
    else cpSync(src, dst, { verbatimSymlinks: true });
  }
}

/** node_modules of the copy: links to this checkout's packages, the workspace links into the copy. */
function linkModules(fromModules, toModules) {
  mkdirSync(toModules, { recursive: true });
  for (const name of readdirSync(fromModules)) {
    if (name === ".vite" || name === ".vitest") continue;
    const src = path.join(fromModules, name);
    if (name === "@atelier") {
      mkdirSync(path.join(toModules, name));
      // relative links (../../packages/x): copied as they are, they resolve inside the copy
      for (const ws of readdirSync(src))
        cpSync(path.join(src, ws), path.join(toModules, name, ws), { verbatimSymlinks: true });
    } else symlinkSync(src, path.join(toModules, name));
  }
}

function makeCopy() {
  const root = mkdtempSync(path.join(os.tmpdir(), "atelier-mutations-"));
  const copy = path.join(root, "repo");
  copyTree(repoRoot, copy);
  linkModules(path.join(repoRoot, "node_modules"), path.join(copy, "node_modules"));
  for (const group of ["apps", "packages"]) {
    for (const ws of readdirSync(path.join(repoRoot, group))) {
      const own = path.join(repoRoot, group, ws, "node_modules");
      if (existsSync(own) && lstatSync(own).isDirectory()) symlinkSync(own, path.join(copy, group, ws, "node_modules"));
    }
  }
  const shared = path.join(repoRoot, "..", "shared");
  if (existsSync(shared)) symlinkSync(shared, path.join(root, "shared"));
  return { root, copy };
}

/** The one file under `dirs` of the copy that holds `find` exactly once (else why not). */
function locate(copy, mutation) {
  const hits = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|mts|mjs|js)$/.test(entry.name)) {
        const count = readFileSync(full, "utf8").split(mutation.find).length - 1;
        if (count > 0) hits.push({ file: full, count });
      }
    }
  };
  for (const dir of mutation.under) if (existsSync(path.join(copy, dir))) walk(path.join(copy, dir));
  if (hits.length === 1 && hits[0].count === 1) return { file: hits[0].file };
  return { error: hits.length === 0 ? "its text is no longer in the code" : "its text is in more than one place" };
}

function runSuite(copy, suite, report) {
  return new Promise((resolve) => {
    const only = suite.grep ? ["--testNamePattern", suite.grep] : [];
    const args = ["vitest", "run", "--reporter=json", `--outputFile.json=${report}`, ...only, ...suite.files];
    const env = { ...process.env, ...(suite.env ?? {}) };
    const child = spawn("npx", args, {
      cwd: path.join(copy, suite.workspace),
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** The titles of the failed tests in a vitest JSON report. */
function failedTests(report) {
  if (!existsSync(report)) return [];
  const r = JSON.parse(readFileSync(report, "utf8"));
  return (r.testResults ?? []).flatMap((file) =>
    (file.assertionResults ?? [])
      .filter((t) => t.status === "failed")
      .map((t) => `${path.basename(file.name)} › ${t.title}`),
  );
}

const only = (() => {
  const i = process.argv.indexOf("--only");
  return i >= 0 ? new Set(process.argv[i + 1]?.split(",")) : null;
})();
const chosen = MUTATIONS.filter((m) => !only || only.has(m.id));
process.env.ATELIER_VGG19 ??= findWeights() ?? "";

const { root, copy } = makeCopy();
log(`mutations in a temporary copy: ${copy}`);
const rows = [];
try {
  for (const m of chosen) {
    const missing = m.suites
      .flatMap((s) => s.files.map((f) => path.join(s.workspace, f)))
      .filter((f) => !existsSync(path.join(copy, f)));
    if (missing.length > 0) {
      rows.push({ m, verdict: "NOT RUN", detail: `no such suite: ${missing.join(", ")}` });
      continue;
    }
    const found = locate(copy, m);
    if (found.error) {
      rows.push({ m, verdict: "NOT APPLIED", detail: found.error });
      continue;
    }
    const original = readFileSync(found.file, "utf8");
    writeFileSync(found.file, original.replace(m.find, m.replace));
    const started = Date.now();
    const failed = [];
    let crashed = "";
    try {
      for (const [i, suite] of m.suites.entries()) {
        const report = path.join(root, `${m.id}-${i}.json`);
        const { code, stderr } = await runSuite(copy, suite, report);
        const titles = failedTests(report);
        failed.push(...titles);
        if (code !== 0 && titles.length === 0) crashed = stderr.trim().split("\n").slice(-3).join(" ");
      }
    } finally {
      writeFileSync(found.file, original);
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    const where = path.relative(copy, found.file);
    if (failed.length > 0)
      rows.push({
        m,
        verdict: "caught",
        detail: `${failed.slice(0, 2).join("; ")}${failed.length > 2 ? ` (+${failed.length - 2})` : ""}`,
        where,
        seconds,
      });
    else if (crashed) rows.push({ m, verdict: "caught (suite crashed)", detail: crashed, where, seconds });
    else rows.push({ m, verdict: "MISSED", detail: "every test passed", where, seconds });
    log(`${m.id}: ${rows.at(-1).verdict} (${seconds} s)`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

console.log("\n| breakage | file | verdict | failing tests | s |\n|---|---|---|---|---|");
for (const r of rows)
  console.log(`| ${r.m.id}: ${r.m.bug} | ${r.where ?? "—"} | ${r.verdict} | ${r.detail} | ${r.seconds ?? "—"} |`);
const missed = rows.filter((r) => !r.verdict.startsWith("caught"));
console.log(`\n${rows.length - missed.length} of ${rows.length} breakages caught`);
process.exit(missed.length > 0 ? 1 : 0);
