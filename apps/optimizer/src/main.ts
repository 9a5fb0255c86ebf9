/**
 * `npm start -w @atelier/optimizer`: the optimisation service, configured from the
 * environment (see README.md), with graceful shutdown on SIGTERM/SIGINT (service.ts).
 */
import { logLevelFromEnv } from "./config.ts";
import { createLogger } from "./common/index.ts";
import { startService } from "./service.ts";

const log = createLogger(logLevelFromEnv());

process.on("unhandledRejection", (error) => log.error("process.unhandled_rejection", { error }));

startService(log).catch((error) => {
  log.error("optimizer.start_failed", { error });
  process.exit(1);
});
