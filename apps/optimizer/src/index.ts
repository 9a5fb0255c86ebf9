export {
  createOptimizerServer,
  type OptimizerServer,
  type OptimizerServerOptions,
  type AtelierServer,
} from "./server.ts";
export { loadConfig, type OptimizerConfig } from "./config.ts";
export { createLogger, type Logger, type LogLevel } from "./log.ts";
export { FairQueue, estimateStartTimes } from "./fair-queue.ts";
