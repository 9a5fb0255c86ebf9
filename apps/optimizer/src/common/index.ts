/**
 * common/: what every part of the service uses — the logger, the errors members may see, the
 * operator's abuse limits with their pure decisions, the keyed serial queue, and the live run:
 * the run object a room holds (rooms/) and the run parts work on (runs/, cluster/).
 *
 * Like every folder's index.ts, this states the folder's surface: what the rest of the service
 * uses of it. Files elsewhere import the named file directly (runs/, cluster/ and sweeps/ call
 * each other's parts, and imports through the index files would close those into cycles).
 */
export { KeyedQueue } from "./keyed-queue.ts";
export { createLogger, parseLogLevel, type Logger, type LogLevel } from "./log.ts";
export { ServiceError, memberVisibleError } from "./errors.ts";
export {
  DEFAULT_LIMITS,
  activeRunLimitRefusal,
  fieldLimitRefusal,
  runSizeRefusal,
  socketLimitRefusal,
  type ServiceLimits,
} from "./limits.ts";
export { ACTIVE, isActive, newLiveRun, toRunInfo, type LiveRun, type RunJob, type User } from "./live-run.ts";
