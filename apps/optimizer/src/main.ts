/**
 * `npm start -w @atelier/optimizer`: the optimisation service, configured from the
 * environment (see README.md), with graceful shutdown on SIGTERM/SIGINT.
 */
import { createDb } from "@atelier/db";
import { loadConfig, logLevelFromEnv } from "./config.ts";
import { createLogger } from "./log.ts";
import { createOptimizerServer } from "./server.ts";

const log = createLogger(logLevelFromEnv());

async function main(): Promise<void> {
  const config = loadConfig(undefined, log);
  if (config.role === "worker")
    throw new Error("ATELIER_ROLE=worker: start it with `npm run worker` (src/worker-main.ts)");
  const db = await createDb({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
  const server = await createOptimizerServer({
    port: config.port,
    secret: config.secret,
    dataDir: config.dataDir,
    db,
    webOrigin: config.webOrigin,
    workers: config.workers,
    previewFps: config.previewFps,
    checkpointEvery: config.checkpointEvery,
    redisUrl: config.redisUrl,
    role: config.role === "gateway" ? "gateway" : "all",
    redisPrefix: config.redisPrefix,
    prewarm: config.prewarm,
    workerIdleMs: config.workerIdleMs,
    backend: config.backend,
    limits: config.limits,
    logger: log,
  });
  log.info("optimizer.ready", { port: server.port, dataDir: config.dataDir, webOrigin: config.webOrigin });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("optimizer.signal", { signal });
    // a second signal, or a stuck shutdown, ends the process anyway
    const force = setTimeout(() => {
      log.error("optimizer.shutdown_timeout", {});
      process.exit(1);
    }, 30_000);
    force.unref();
    server
      .close()
      .then(() => db.$disconnect())
      .then(
        () => process.exit(0),
        (error) => {
          log.error("optimizer.shutdown_failed", { error });
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

process.on("unhandledRejection", (error) => log.error("process.unhandled_rejection", { error }));

main().catch((error) => {
  log.error("optimizer.start_failed", { error });
  process.exit(1);
});
