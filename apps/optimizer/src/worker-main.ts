/**
 * `npm run worker` (ATELIER_ROLE=worker implied): a worker process of the cluster. It takes
 * runs from the BullMQ queue on REDIS_URL and runs ATELIER_WORKERS of them at once on its
 * worker threads, reading images from and writing checkpoints to the shared DATA_DIR and
 * recording runs in DATABASE_URL. No HTTP port. Logs `worker.ready` once it takes jobs.
 * SIGTERM/SIGINT: checkpoints its runs and lets go of them; another worker resumes them.
 */
import { hostname } from "node:os";
import { createDb } from "@atelier/db";
import { loadConfig, logLevelFromEnv, workerEnv } from "./config.ts";
import { createLogger } from "./log.ts";
import { RunWorker } from "./run-worker.ts";

const log = createLogger(logLevelFromEnv());

async function main(): Promise<void> {
  const config = loadConfig(workerEnv(), log);
  const redisUrl = config.redisUrl!; // the worker role requires it (loadConfig checked)
  const db = await createDb({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
  const workerId = `${hostname()}:${process.pid}`;
  const worker = new RunWorker({
    db,
    dataDir: config.dataDir,
    log,
    redisUrl,
    prefix: config.redisPrefix,
    workerId,
    concurrency: config.workers,
    backend: config.backend,
    previewFps: config.previewFps,
    checkpointEvery: config.checkpointEvery,
    workerIdleMs: config.workerIdleMs,
    prewarm: config.prewarm,
  });
  await worker.start();
  log.info("worker.ready", {
    workerId,
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

process.on("unhandledRejection", (error) => log.error("process.unhandled_rejection", { error }));

main().catch((error) => {
  log.error("worker.start_failed", { error });
  process.exit(1);
});
