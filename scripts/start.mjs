#!/usr/bin/env node
// `npm start`: the whole platform on its embedded defaults — SQLite under DATA_DIR, files on
// local disk, in-process queue, one worker. Installs dependencies if needed, finds (or fetches)
// the VGG-19 weights, builds the web app once, starts the optimisation service and the web app.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ensureDependencies, findWeights, log, repoRoot, run, runOrExit } from "./lib/setup.mjs";
import { webBuildStaleReason } from "./lib/web-build.mjs";

process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.TURBO_TELEMETRY_DISABLED = "1";
process.env.CHECKPOINT_DISABLE = "1";

ensureDependencies();

const dataDir = path.resolve(repoRoot, process.env.DATA_DIR ?? "data");
mkdirSync(dataDir, { recursive: true });

// Secrets are generated once and kept with the data, so sessions survive restarts.
const secretsFile = path.join(dataDir, "secrets.json");
const secrets = existsSync(secretsFile) ? JSON.parse(readFileSync(secretsFile, "utf8")) : {};
secrets.authSecret ??= randomBytes(32).toString("base64url");
secrets.realtimeSecret ??= randomBytes(32).toString("base64url");
writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });

let weights = findWeights();
if (!weights) {
  log("VGG-19 weights not found locally: downloading them (npm run weights)…");
  if (run("npm", ["run", "weights"]) === 0) weights = findWeights();
  if (!weights) {
    console.error("[atelier] no VGG-19 weights: put them in models/vgg19/ or set ATELIER_VGG19 (see README)");
    process.exit(1);
  }
}

const webPort = Number(process.env.PORT ?? 3000);
const optimizerPort = Number(process.env.OPTIMIZER_PORT ?? 4001);
const publicHost = process.env.ATELIER_PUBLIC_HOST ?? "localhost";
const env = {
  ...process.env,
  DATA_DIR: dataDir,
  ATELIER_VGG19: weights,
  AUTH_SECRET: process.env.AUTH_SECRET ?? secrets.authSecret,
  AUTH_TRUST_HOST: "true",
  ATELIER_REALTIME_SECRET: process.env.ATELIER_REALTIME_SECRET ?? secrets.realtimeSecret,
  ATELIER_OPTIMIZER_URL: process.env.ATELIER_OPTIMIZER_URL ?? `http://${publicHost}:${optimizerPort}`,
  WEB_ORIGIN: process.env.WEB_ORIGIN ?? `http://${publicHost}:${webPort}`,
};

// Build the web app when there is no build or its sources are newer than it.
const buildReason = process.env.ATELIER_REBUILD === "1" ? "ATELIER_REBUILD=1" : webBuildStaleReason();
if (buildReason) {
  log(`building the web app (next build: ${buildReason})…`);
  runOrExit("npm", ["run", "build", "-w", "@atelier/web"], { env });
} else {
  log("the web build is up to date (ATELIER_REBUILD=1 forces a rebuild)");
}

const children = [];
function start(name, args, extraEnv) {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "inherit", "inherit"],
  });
  child.on("exit", (code, signal) => {
    log(`${name} exited (${signal ?? code})`);
    shutdown(code ?? 1);
  });
  children.push(child);
}

let stopping = false;
function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r))))).then(() =>
    process.exit(code),
  );
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

const tsx = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
const next = path.join(repoRoot, "node_modules", "next", "dist", "bin", "next");
start("optimizer", [tsx, path.join(repoRoot, "apps", "optimizer", "src", "main.ts")], { PORT: String(optimizerPort) });
start("web", [next, "start", path.join(repoRoot, "apps", "web"), "-p", String(webPort)], {});
log(`Atelier: http://${publicHost}:${webPort}  (optimisation service on :${optimizerPort}, data in ${dataDir})`);
