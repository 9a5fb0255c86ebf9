#!/usr/bin/env node
// `npm run start:cluster`: the cluster topology on this one machine — the web app, 2 optimiser
// gateways, 2 optimisation workers and a small load balancer in front of the gateways
// (scripts/lib/lb-proxy.mjs), on the local Redis and PostgreSQL, with one shared DATA_DIR.
// Each child's log lines are prefixed with its name; Ctrl-C stops them all. A worker or gateway
// that dies (try `kill -9` on a worker mid-run) is reported and left dead: the others carry on.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";
import { startLoadBalancer } from "./lib/lb-proxy.mjs";
import { ensureDependencies, ensureServices, findWeights, log, repoRoot, runOrExit } from "./lib/setup.mjs";
import { webBuildStaleReason } from "./lib/web-build.mjs";

process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.TURBO_TELEMETRY_DISABLED = "1";
process.env.CHECKPOINT_DISABLE = "1";

ensureDependencies();
await ensureServices();

const dataDir = path.resolve(repoRoot, process.env.DATA_DIR ?? "data/cluster");
mkdirSync(dataDir, { recursive: true });
const databaseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/atelier_cluster";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
  console.error(
    "[atelier] the cluster needs PostgreSQL: DATABASE_URL must be postgresql://… (several processes share it)",
  );
  process.exit(1);
}

// Secrets are generated once and kept with the cluster's data, so sessions survive restarts.
const secretsFile = path.join(dataDir, "secrets.json");
const secrets = existsSync(secretsFile) ? JSON.parse(readFileSync(secretsFile, "utf8")) : {};
secrets.authSecret ??= randomBytes(32).toString("base64url");
secrets.realtimeSecret ??= randomBytes(32).toString("base64url");
writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });

const weights = findWeights();
if (!weights) {
  console.error("[atelier] no VGG-19 weights: run `npm start` once (it fetches them) or set ATELIER_VGG19");
  process.exit(1);
}

const webPort = Number(process.env.PORT ?? 3000);
// the proxy takes the optimiser's usual port, so the web app's default realtime URL already points at it
const proxyPort = Number(process.env.OPTIMIZER_PORT ?? 4001);
const gatewayPorts = [4011, 4012];
// each worker's GET /health (ATELIER_HEALTH_PORT): a worker has no other HTTP
const workerHealthPorts = [4021, 4022];
const publicHost = process.env.ATELIER_PUBLIC_HOST ?? "localhost";
const env = {
  ...process.env,
  DATA_DIR: dataDir,
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  ATELIER_VGG19: weights,
  AUTH_SECRET: process.env.AUTH_SECRET ?? secrets.authSecret,
  AUTH_TRUST_HOST: "true",
  ATELIER_REALTIME_SECRET: process.env.ATELIER_REALTIME_SECRET ?? secrets.realtimeSecret,
  // the browser reaches the gateways through the proxy, and so does the web server (membership changes)
  ATELIER_OPTIMIZER_URL: process.env.ATELIER_OPTIMIZER_URL ?? `http://${publicHost}:${proxyPort}`,
  WEB_ORIGIN: process.env.WEB_ORIGIN ?? `http://${publicHost}:${webPort}`,
};

log(`PostgreSQL database: creating it if missing, then migrations (${databaseUrl.replace(/\/\/[^@]*@/, "//***@")})`);
runOrExit("npx", ["tsx", path.join("packages", "db", "scripts", "create-database.mts")], { env });
runOrExit("npm", ["run", "db:migrate"], { env });

const buildReason = process.env.ATELIER_REBUILD === "1" ? "ATELIER_REBUILD=1" : webBuildStaleReason();
if (buildReason) {
  log(`building the web app (next build: ${buildReason})…`);
  runOrExit("npm", ["run", "build", "-w", "@atelier/web"], { env });
}

/** Each child's output, line by line, behind its name. */
function prefixLines(stream, name, out) {
  readline.createInterface({ input: stream }).on("line", (line) => out.write(`[${name}] ${line}\n`));
}

const children = new Map();
let stopping = false;
function start(name, args, extraEnv) {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  prefixLines(child.stdout, name, process.stdout);
  prefixLines(child.stderr, name, process.stderr);
  child.on("exit", (code, signal) => {
    children.delete(name);
    if (stopping) return;
    log(`${name} (pid ${child.pid}) exited (${signal ?? code}); the rest of the cluster keeps going`);
    if (name === "web") shutdown(code ?? 1);
  });
  children.set(name, child);
  log(`${name}: pid ${child.pid}`);
}

let proxy = null;
function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  log("stopping the cluster…");
  for (const c of children.values()) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 10_000).unref();
  const exits = [...children.values()].map((c) => new Promise((r) => c.once("exit", r)));
  Promise.all([...exits, proxy?.close()]).then(() => process.exit(code));
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

// tsx as a loader inside each process (not its CLI, which runs the script in a child): the pid
// printed is then the gateway or worker itself, and `kill -9 <pid>` really kills it
const tsx = ["--import", pathToFileURL(path.join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs")).href];
const next = path.join(repoRoot, "node_modules", "next", "dist", "bin", "next");
const optimizerSrc = path.join(repoRoot, "apps", "optimizer", "src");

gatewayPorts.forEach((port, i) =>
  start(`gateway-${i + 1}`, [...tsx, path.join(optimizerSrc, "main.ts")], {
    ATELIER_ROLE: "gateway",
    PORT: String(port),
  }),
);
workerHealthPorts.forEach((port, i) =>
  start(`worker-${i + 1}`, [...tsx, path.join(optimizerSrc, "cluster", "worker-process.ts")], {
    ATELIER_ROLE: "worker",
    ATELIER_HEALTH_PORT: String(port),
  }),
);

proxy = await startLoadBalancer({
  backends: gatewayPorts.map((port, i) => ({ name: `gateway-${i + 1}`, port })),
  port: proxyPort,
  host: "0.0.0.0",
  log: (message) => process.stdout.write(`[proxy] ${message}\n`),
});
// the address is printed once a gateway answers through the proxy (start-up loads the engine: seconds)
for (let i = 0; i < 120 && !proxy.status().some((g) => g.alive); i++) await new Promise((r) => setTimeout(r, 500));
start("web", [next, "start", path.join(repoRoot, "apps", "web"), "-p", String(webPort)], {});

log(
  `Atelier cluster: http://${publicHost}:${webPort}  (realtime through the proxy on :${proxyPort} → gateways ` +
    `:${gatewayPorts.join(", :")}; 2 workers, health on :${workerHealthPorts.join(", :")}; Redis ${redisUrl}; ` +
    `data in ${dataDir})`,
);
log("a run survives its worker: `kill -9 <worker pid>` (pids above) and watch the other worker resume it");
