export {
  createOptimizerServer,
  type OptimizerServer,
  type OptimizerServerOptions,
  type AtelierServer,
} from "./gateway/index.ts";
export { DEFAULT_SETTINGS, loadConfig, type Settings } from "./config.ts";
export { createLogger, type Logger, type LogLevel } from "./common/index.ts";
export { FairQueue, estimateStartTimes } from "./runs/index.ts";
