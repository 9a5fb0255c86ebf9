/**
 * The optimisation service started from the environment (see README.md): configuration, the
 * database, the server, `optimizer.ready` in the log, and graceful shutdown on SIGTERM/SIGINT.
 * `npm start` (main.ts) runs it; the fan-out bench's gateways run it too, with their own IPC on top.
 */
import { createDb } from "@atelier/db";
import { fileStoreOf } from "@atelier/storage";
import { loadConfig } from "./config.ts";
import type { Logger } from "./common/index.ts";
import { createOptimizerServer, type OptimizerServer } from "./gateway/index.ts";

/** how long a shutdown may take before the process ends anyway */
const SHUTDOWN_TIMEOUT_MS = 30_000;

export async function startService(log: Logger): Promise<{ server: OptimizerServer; stop: (why: string) => void }> {
  const config = loadConfig(undefined, log);
  if (config.role === "worker")
    throw new Error("ATELIER_ROLE=worker: start it with `npm run worker` (src/cluster/worker-process.ts)");
  // a missing bucket or refused credentials stop the start, saying what to fix
  const files = fileStoreOf({ dataDir: config.dataDir });
  await files.check();
  const db = await createDb({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
  const server = await createOptimizerServer({ ...config, db, logger: log });
  log.info("optimizer.ready", {
    port: server.port,
    dataDir: config.dataDir,
    files: files.description,
    webOrigin: config.webOrigin,
    // which engine backend paints here: the first thing to know about its speed
    backend: config.backend,
  });

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info("optimizer.signal", { signal: why });
    // a second signal, or a stuck shutdown, ends the process anyway
    const force = setTimeout(() => {
      log.error("optimizer.shutdown_timeout", {});
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
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
  return { server, stop };
}
