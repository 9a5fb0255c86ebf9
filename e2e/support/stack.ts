import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { webBuildStaleReason } from "../../scripts/lib/web-build.mjs";
import { E2E_WORKERS } from "./workers.ts";
import { createHash, randomBytes } from "node:crypto";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const sharedDir = process.env.ATELIER_SHARED ?? path.resolve(repoRoot, "..", "shared");
const imagesDir = process.env.ATELIER_IMAGES ?? path.join(sharedDir, "images");
const resultsDir = path.join(repoRoot, "e2e", "test-results");
// Outside test-results/ (Playwright empties that before global setup), so that a run killed
// before its teardown still tells the next run which servers to stop. One per checkout.
const stateFile = path.join(
  os.tmpdir(),
  `atelier-e2e-stack-${createHash("sha256").update(repoRoot).digest("hex").slice(0, 12)}.json`,
);
export const logsDir = path.join(resultsDir, "logs");
const webDir = path.join(repoRoot, "apps", "web");
const distDir = ".next-e2e";

/** A shared test image (../shared/images/<name>), referenced in place, never copied into the repo. */
export function imagePath(name: string): string {
  return path.join(imagesDir, name);
}

export interface StackInfo {
  webUrl: string;
  optimizerUrl: string;
  dataDir: string;
  pgids: number[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function tail(file: string, chars = 4000): string {
  if (!existsSync(file)) return "(no log)";
  const text = readFileSync(file, "utf8");
  return text.length > chars ? `…${text.slice(-chars)}` : text || "(empty log)";
}

/** Polls `url` until it answers below 500; fails at once if the server process has exited. */
async function waitForHttp(url: string, seconds: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let lastError = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (res.status < 500) return;
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} did not answer at ${url} within ${seconds}s (${lastError})`);
}

/**
 * Why a build is needed, or null: forced (ATELIER_E2E_REBUILD=1, CI unless `npm test` built it
 * in this run: ATELIER_E2E_PREBUILT=1), no build yet, or a source
 * file of the web app or of a workspace package it bundles changed since the last build — so a
 * run never tests stale pages.
 */
function buildReason(): string | null {
  if (process.env.ATELIER_E2E_REBUILD === "1") return "ATELIER_E2E_REBUILD=1";
  // `npm test` builds it earlier in the same run (beside suites that leave a core idle)
  if (process.env.CI && process.env.ATELIER_E2E_PREBUILT !== "1") return "CI";
  return webBuildStaleReason(distDir);
}

function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to each process group, then SIGKILL to whatever is still there after `graceMs`. */
async function killGroups(pgids: number[], graceMs = 8000): Promise<void> {
  for (const pgid of pgids) {
    try {
      process.kill(-pgid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (pgids.some(processGroupAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pgid of pgids.filter(processGroupAlive)) {
    console.warn(`[e2e] process group ${pgid} ignored SIGTERM for ${graceMs} ms: SIGKILL`);
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      /* gone meanwhile */
    }
  }
}

/**
 * Starts the web app (`next start` of the e2e build) and the optimisation service, each as the
 * leader of its own process group (`detached`), on free ports, with a fresh SQLite database and
 * DATA_DIR in a temp folder. Logs go to e2e/test-results/logs/. If anything fails to come up,
 * both logs are printed and everything started is stopped before the error is rethrown.
 */
export async function startStack(): Promise<StackInfo> {
  await stopStack(); // a previous run that was killed may have left its servers behind
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "atelier-e2e-"));
  const [webPort, optimizerPort] = [await freePort(), await freePort()];
  const webUrl = `http://localhost:${webPort}`;
  const optimizerUrl = `http://localhost:${optimizerPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    DATA_DIR: dataDir,
    DATABASE_URL: `file:${path.join(dataDir, "atelier.db")}`,
    ATELIER_VGG19: process.env.ATELIER_VGG19 ?? path.join(sharedDir, "models", "vgg19"),
    AUTH_SECRET: randomBytes(32).toString("base64url"),
    AUTH_TRUST_HOST: "true",
    AUTH_URL: webUrl,
    ATELIER_REALTIME_SECRET: randomBytes(32).toString("base64url"),
    ATELIER_OPTIMIZER_URL: optimizerUrl,
    WEB_ORIGIN: webUrl,
    // Every journey signs up its own users from 127.0.0.1: lift the per-address limits (the
    // limits themselves have their own tests in apps/web).
    ATELIER_SIGNUP_LIMIT_PER_IP: "1000",
    ATELIER_SIGNIN_LIMIT_PER_IP: "1000",
    // one engine slot per journey running at once, so no journey's run waits behind another's
    ATELIER_WORKERS: String(E2E_WORKERS),
    NEXT_TELEMETRY_DISABLED: "1",
    ATELIER_NEXT_DIST_DIR: distDir,
  };
  const reason = buildReason();
  if (reason) {
    console.log(`[e2e] building the web app into apps/web/${distDir} (${reason})`);
    const r = spawnSync("npm", ["run", "build", "-w", "@atelier/web"], { cwd: repoRoot, env, stdio: "inherit" });
    if (r.status !== 0) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error("next build of apps/web failed (output above)");
    }
  }

  rmSync(logsDir, { recursive: true, force: true });
  mkdirSync(logsDir, { recursive: true });
  const info: StackInfo = { webUrl, optimizerUrl, dataDir, pgids: [] };
  const launch = (name: string, args: string[], extra: NodeJS.ProcessEnv) => {
    const logFile = path.join(logsDir, `${name}.log`);
    const out = openSync(logFile, "w"); // a plain fd: the server keeps logging after setup returns
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...env, ...extra },
      detached: true,
      stdio: ["ignore", out, out],
    });
    closeSync(out);
    child.unref();
    if (child.pid) info.pgids.push(child.pid);
    // Written after every launch, so a later failure (or a killed run) still knows what to stop.
    writeFileSync(stateFile, JSON.stringify(info));
    return { child, logFile };
  };
  const tsx = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
  const next = path.join(repoRoot, "node_modules", "next", "dist", "bin", "next");
  const optimizer = launch("optimizer", [tsx, path.join(repoRoot, "apps", "optimizer", "src", "main.ts")], {
    PORT: String(optimizerPort),
  });
  const web = launch("web", [next, "start", webDir, "-p", String(webPort)], {});
  try {
    await Promise.all([
      waitForHttp(`${optimizerUrl}/health`, 120, optimizer.child, "the optimisation service"),
      waitForHttp(`${webUrl}/`, 120, web.child, "the web app"),
    ]);
  } catch (error) {
    console.error(`[e2e] the stack did not start: ${(error as Error).message}`);
    console.error(`----- optimizer log (${optimizer.logFile}) -----\n${tail(optimizer.logFile)}`);
    console.error(`----- web log (${web.logFile}) -----\n${tail(web.logFile)}`);
    await stopStack();
    throw error;
  }
  return info;
}

/** Stops the servers listed in the state file (if any) and removes the temp data. Idempotent. */
export async function stopStack(): Promise<void> {
  if (!existsSync(stateFile)) return;
  const info = JSON.parse(readFileSync(stateFile, "utf8")) as StackInfo;
  await killGroups(info.pgids);
  if (!process.env.ATELIER_E2E_KEEP_DATA) rmSync(info.dataDir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
}

export function readStack(): StackInfo {
  return JSON.parse(readFileSync(stateFile, "utf8")) as StackInfo;
}
