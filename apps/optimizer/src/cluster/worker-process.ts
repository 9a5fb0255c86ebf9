/**
 * `npm run worker` (ATELIER_ROLE=worker implied): a worker process of the cluster. It takes
 * runs from the BullMQ queue on REDIS_URL and runs ATELIER_WORKERS of them at once on its
 * engine processes, reading images from and writing checkpoints to the file store (the shared
 * DATA_DIR, or the S3 bucket ATELIER_FILES names, with a local cache in DATA_DIR) and
 * recording runs in DATABASE_URL. HTTP only with ATELIER_HEALTH_PORT: `GET /health` (200 while
 * it takes jobs and reaches Redis, else 503), for a supervisor or an orchestrator's probe.
 * Logs `worker.ready` (with the health port) once it takes jobs.
 * SIGTERM/SIGINT: checkpoints its runs and lets go of them; another worker resumes them.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { createDb } from "@atelier/db";
import { fileStoreOf } from "@atelier/storage";
import { loadConfig, logLevelFromEnv, workerEnv } from "../config.ts";
import { metricsAllowed, metricsText } from "../common/metrics.ts";
import { createLogger } from "../common/log.ts";
import { RunWorker } from "./run-worker-role.ts";

const log = createLogger(logLevelFromEnv());

async function main(): Promise<void> {
  const config = loadConfig(workerEnv(), log);
  const redisUrl = config.redisUrl!; // the worker role requires it (loadConfig checked)
  // a missing bucket or refused credentials stop the start, saying what to fix
  const files = fileStoreOf({ dataDir: config.dataDir });
  await files.check();
  const db = await createDb({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
  const workerId = `${hostname()}:${process.pid}`;
  const worker = new RunWorker({ ...config, db, log, redisUrl, workerId });
  await worker.start();
  const health =
    config.healthPort === null
      ? null
      : await serveHealth(config.healthPort, () => worker.health(), config.metricsToken);
  log.info("worker.ready", {
    workerId,
    healthPort: health?.port ?? null,
    files: files.description,
    concurrency: config.workers,
    backend: config.backend,
    prefix: config.redisPrefix,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("worker.signal", { signal });
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    health?.close();
    worker
      .close()
      .then(() => db.$disconnect())
      .then(
        () => process.exit(0),
        (error) => {
          log.error("worker.shutdown_failed", { error });
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/**
 * GET /health → the worker's state as JSON, 200 when healthy; GET /metrics with the metrics
 * token → Prometheus text (common/metrics.ts); anything else 404.
 */
async function serveHealth(
  port: number,
  state: () => { ok: boolean },
  metricsToken: string | null,
): Promise<{ port: number; close: () => void }> {
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/metrics" && metricsToken) {
      if (!metricsAllowed(req.headers.authorization, metricsToken)) {
        res.writeHead(401).end();
        return;
      }
      void metricsText().then(
        ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.method !== "GET" || req.url !== "/health") {
      res.writeHead(404).end();
      return;
    }
    const body = state();
    res.writeHead(body.ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

process.on("unhandledRejection", (error) => log.error("process.unhandled_rejection", { error }));

main().catch((error) => {
  log.error("worker.start_failed", { error });
  process.exit(1);
});
