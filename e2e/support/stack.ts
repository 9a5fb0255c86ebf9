import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, mkdirSync, openSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const sharedDir = process.env.ATELIER_SHARED ?? path.resolve(repoRoot, "..", "shared");
export const imagesDir = process.env.ATELIER_IMAGES ?? path.join(sharedDir, "images");
const stateFile = path.join(repoRoot, "e2e", "test-results", "stack.json");

export interface StackInfo {
  webUrl: string;
  optimizerUrl: string;
  dataDir: string;
  pgids: number[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function waitForHttp(url: string, seconds: number, logFile: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-3000) : "";
  throw new Error(`${url} did not come up in ${seconds}s (${lastError})\n${tail}`);
}

/** Starts web + optimiser in their own process groups (setsid-like `detached`), logs to files. */
export async function startStack(): Promise<StackInfo> {
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
    NEXT_TELEMETRY_DISABLED: "1",
    ATELIER_NEXT_DIST_DIR: ".next-e2e",
  };
  // Build the web app once if there is no build yet (a fresh clone); ATELIER_E2E_REBUILD=1 forces it.
  const buildId = path.join(repoRoot, "apps", "web", ".next-e2e", "BUILD_ID");
  if (!existsSync(buildId) || process.env.ATELIER_E2E_REBUILD === "1" || process.env.CI) {
    const r = spawnSync("npm", ["run", "build", "-w", "@atelier/web"], { cwd: repoRoot, env: { ...env, NODE_ENV: "production" }, stdio: "inherit" });
    if (r.status !== 0) throw new Error("next build failed");
  }
  const logsDir = path.join(repoRoot, "e2e", "test-results", "logs");
  mkdirSync(logsDir, { recursive: true });
  const pgids: number[] = [];
  const launch = (name: string, args: string[], extra: NodeJS.ProcessEnv) => {
    const logFile = path.join(logsDir, `${name}.log`);
    const out = openSync(logFile, "a"); // a plain fd: the server keeps logging after setup returns
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...env, ...extra }, detached: true, stdio: ["ignore", out, out] });
    child.unref();
    if (child.pid) pgids.push(child.pid);
    return logFile;
  };
  const tsx = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
  const next = path.join(repoRoot, "node_modules", "next", "dist", "bin", "next");
  const optimizerLog = launch("optimizer", [tsx, path.join(repoRoot, "apps", "optimizer", "src", "main.ts")], { PORT: String(optimizerPort) });
  const webLog = launch("web", [next, "start", path.join(repoRoot, "apps", "web"), "-p", String(webPort)], {});
  const info: StackInfo = { webUrl, optimizerUrl, dataDir, pgids };
  mkdirSync(path.dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, JSON.stringify(info));
  await waitForHttp(`${optimizerUrl}/health`, 120, optimizerLog);
  await waitForHttp(webUrl, 120, webLog);
  return info;
}

export function stopStack(): void {
  if (!existsSync(stateFile)) return;
  const info = JSON.parse(readFileSync(stateFile, "utf8")) as StackInfo;
  for (const pgid of info.pgids) {
    try {
      process.kill(-pgid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
  if (!process.env.ATELIER_E2E_KEEP_DATA) rmSync(info.dataDir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
}

export function readStack(): StackInfo {
  return JSON.parse(readFileSync(stateFile, "utf8")) as StackInfo;
}
