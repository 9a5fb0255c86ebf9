// What `npm test` runs and how it reports its time (pure: node built-ins only, no side effects
// beyond reading test files).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const DATABASE_IMPORT = /from\s+["']@atelier\/db(?:\/testing)?["']/;
const LOCAL_IMPORT = /from\s+["'](\.{1,2}\/[^"']+)["']/g;

/** Every `*.test.ts` under a workspace's test/ folder, relative to the workspace. */
function testFiles(workspaceDir) {
  const root = path.join(workspaceDir, "test");
  if (!existsSync(root)) return [];
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".test.ts")) found.push(path.relative(workspaceDir, full));
    }
  };
  walk(root);
  return found.sort();
}

/**
 * Whether a test file opens a database: it, or a module of the test folder it imports (its
 * fixtures), imports @atelier/db. Those suites are the ones whose outcome can depend on the
 * database engine, so only they run a second time against PostgreSQL; a pure unit suite gains
 * nothing from a second pass. Imports of the code under test (src/) are not followed: a
 * suite that never creates a database never reaches one through them.
 */
function opensDatabase(file, read = (f) => readFileSync(f, "utf8"), seen = new Set()) {
  file = path.resolve(file);
  if (seen.has(file)) return false;
  seen.add(file);
  const source = read(file);
  if (DATABASE_IMPORT.test(source)) return true;
  const testRoot = file.slice(0, file.lastIndexOf(`${path.sep}test${path.sep}`) + 6);
  for (const [, spec] of source.matchAll(LOCAL_IMPORT)) {
    const target = path.resolve(path.dirname(file), spec);
    if (!target.startsWith(testRoot)) continue; // the code under test, not a fixture
    const candidates = [target, `${target}.ts`, `${target}.mts`, path.join(target, "index.ts")];
    const hit = candidates.find((c) => existsSync(c) && c.match(/\.m?ts$/));
    if (hit && opensDatabase(hit, read, seen)) return true;
  }
  return false;
}

/**
 * A suite that opens a database only to drive the service, whose checks cannot depend on the
 * database engine, says so with a line `// test-plan: one database engine (why)` and runs once.
 */
const ONE_ENGINE = /^\/\/ test-plan: one database engine\b/m;

/** The test files of a workspace that open a database (relative to the workspace) and need both engines. */
export function databaseSuites(workspaceDir) {
  return testFiles(workspaceDir).filter((f) => {
    const file = path.join(workspaceDir, f);
    return opensDatabase(file) && !ONE_ENGINE.test(readFileSync(file, "utf8"));
  });
}

/** "12 m 05 s" / "48 s" */
function formatSeconds(seconds) {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
}

/**
 * The closing table of phase times: one line per phase (name, wall time, how it ended, what
 * it ran beside), then the whole run's wall time. Phases that overlapped are marked, so the
 * column does not add up to the total.
 */
export function phaseTable(phases, totalSeconds) {
  const width = Math.max(...phases.map((p) => p.name.length), 5);
  const lines = phases.map((p) => {
    const status = p.status === 0 ? "ok" : p.status === null ? "skipped" : `FAILED (${p.status})`;
    const beside = p.beside ? `  (beside ${p.beside})` : "";
    return `  ${p.name.padEnd(width)}  ${formatSeconds(p.seconds).padStart(9)}  ${status}${beside}`;
  });
  return [`Phase times:`, ...lines, `  ${"total".padEnd(width)}  ${formatSeconds(totalSeconds).padStart(9)}`].join(
    "\n",
  );
}
