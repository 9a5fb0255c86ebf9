/**
 * The service's settings, read once from the environment. Every knob has a default that
 * works on one machine; production refuses to start without a real realtime secret.
 */
import { resolveDataDir } from "@atelier/db";
import { MAX_ITERATIONS, MAX_SIZE, MIN_SIZE, parseAllowedHosts, type PreviewMime } from "@atelier/protocol";
import { resolveRealtimeSecret } from "@atelier/protocol/token";
import { DEFAULT_LIMITS, parseLogLevel, type LogLevel, type Logger, type ServiceLimits } from "./common/index.ts";

/** What this process does (ATELIER_ROLE): everything (embedded, the default), realtime gateway only, or jobs only. */
const ROLES = ["all", "gateway", "worker"] as const;
type OptimizerRole = (typeof ROLES)[number];

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name}=${raw} is not a number between ${min} and ${max}`);
  }
  return value;
}

/**
 * The service's engine backend when ATELIER_BACKEND is unset: the engine's automatic choice —
 * ONNX Runtime, and wasm when it cannot load (the engine logs which; so does the service). Safe
 * since the engine runs in processes of its own (engine-slots/slot-pool.ts): ONNX Runtime in a
 * terminated worker *thread* aborted the whole service at exit.
 */
export const DEFAULT_SERVICE_BACKEND = "auto";

/**
 * The service's settings: the one list of what can be set, with the one set of defaults
 * (DEFAULT_SETTINGS). `loadConfig` reads them from the environment; every part takes the ones
 * it uses as `Pick<Settings, …>` beside its dependencies.
 */
export interface Settings {
  /** ATELIER_ROLE; gateway and worker need REDIS_URL */
  role: OptimizerRole;
  /** ATELIER_REDIS_PREFIX: the prefix of every Redis key and channel of the cluster; tests give each file its own */
  redisPrefix: string;
  /** PORT (0: any free one) */
  port: number;
  /** ATELIER_METRICS_TOKEN: GET /metrics (the gateway's port, a worker's health port) wants it as a bearer token; unset: no /metrics */
  metricsToken: string | null;
  /** ATELIER_HEALTH_PORT: a worker process's GET /health port (0: any free one); unset: none (a worker has no other HTTP) */
  healthPort: number | null;
  webOrigin: string | string[];
  /** ATELIER_ALLOWED_HOSTS: host names pages may be opened on besides localhost and IP literals (see @atelier/protocol's origin rule) */
  allowedHosts: string[];
  /** DATA_DIR: images, results, checkpoints */
  dataDir: string;
  databaseUrl: string | undefined;
  /** the realtime token secret */
  secret: string;
  /** ATELIER_WORKERS: jobs running at once in this process (engine processes; a worker process: BullMQ jobs, one per GPU) */
  workers: number;
  /** ATELIER_PREVIEW_FPS: previews per second per room, at most */
  previewFps: number;
  /** how preview frames are encoded */
  previewMime: PreviewMime;
  /** ATELIER_CHECKPOINT_EVERY: write a checkpoint image every K iterations */
  checkpointEvery: number;
  redisUrl: string | undefined;
  /** engine backend asked for (ATELIER_BACKEND, else "auto": ONNX Runtime, wasm if it cannot load), shown by /health until an engine process reports the one it loaded */
  backend: string;
  /** ATELIER_ONNX_THREADS: intra-op threads of each engine process; null: cores ÷ workers (threadsPerSlot), so the slots do not oversubscribe the cores */
  engineThreads: number | null;
  /** ATELIER_TEST_NO_ONNX=1: engine processes cannot load ONNX Runtime (tests of the wasm fallback) */
  testNoOnnx: boolean;
  /** ATELIER_TEST_ENGINE_ABORT_AT=N: the first run's engine process aborts natively at iteration N (crash tests) */
  testAbortAt: number | null;
  /** LOG_LEVEL */
  logLevel: LogLevel;
  /** ATELIER_PREWARM: load engine processes at start-up (default on) */
  prewarm: boolean;
  /** ATELIER_WORKER_IDLE_MS: how long an idle loaded engine process is kept */
  workerIdleMs: number;
  /** ATELIER_MAX_SOCKETS_PER_USER, ATELIER_MAX_ACTIVE_RUNS_PER_USER, ATELIER_MAX_SIZE, ATELIER_MAX_ITERATIONS */
  limits: ServiceLimits;
  /** how long a disconnected client can come back with its rooms and missed events (ms) */
  recoveryWindowMs: number;
  /** how often open sockets' tokens, accounts and roles are checked again (ms) */
  sessionCheckMs: number;
  /** ATELIER_SWEEP_FILES_TTL_MINUTES: an ended sweep's cell images are removed this long after it ended (ms here; a cell is promoted before) */
  sweepFilesTtlMs: number;
}

/** Every setting's default but the two a deployment must give (where its files are, its token secret). */
export const DEFAULT_SETTINGS: Omit<Settings, "dataDir" | "secret"> = {
  role: "all",
  redisPrefix: "atelier:",
  port: 4001,
  metricsToken: null,
  healthPort: null,
  webOrigin: "http://localhost:3000",
  allowedHosts: [],
  databaseUrl: undefined,
  workers: 1,
  previewFps: 4,
  previewMime: "image/webp",
  checkpointEvery: 25,
  redisUrl: undefined,
  backend: DEFAULT_SERVICE_BACKEND,
  engineThreads: null,
  testNoOnnx: false,
  testAbortAt: null,
  logLevel: "info",
  prewarm: true,
  workerIdleMs: 10 * 60_000,
  limits: DEFAULT_LIMITS,
  recoveryWindowMs: 2 * 60_000,
  sessionCheckMs: 30_000,
  sweepFilesTtlMs: 24 * 3600_000,
};

/** The backend the speed model assumes before an engine process reported the one it loaded. */
export function expectedBackend(backend: string): string {
  return backend === "auto" ? "onnx" : backend;
}

/** Intra-op threads per engine process: the cores shared by the slots (at least one each). */
export function threadsPerSlot(cores: number, slots: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, slots)));
}

/**
 * What an engine process inherits of the service's environment: what the engine and Node need,
 * never the service's secrets (database and Redis URLs, the realtime secret, auth keys).
 */
const ENGINE_ENV_NAMES = [
  "PATH",
  "HOME",
  "TMPDIR",
  "TZ",
  "LANG",
  "LC_ALL",
  "NODE_ENV",
  "LD_LIBRARY_PATH",
  "CUDA_VISIBLE_DEVICES",
  // the Vulkan loader's driver choice (webgpu backend, a software driver in tests)
  "VK_ICD_FILENAMES",
  "VK_DRIVER_FILES",
  "XDG_RUNTIME_DIR",
  "ATELIER_VGG19",
  "ATELIER_ONNX_ARENA",
  "ATELIER_ONNX_CONV_GRADIENT",
  "ATELIER_DEBUG",
  "ATELIER_WASM_THREADS",
];

/** The environment of an engine process: the allowed names of the service's own, its backend and thread counts. */
export function engineProcessEnv(
  backend: string,
  threads: number,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const name of ENGINE_ENV_NAMES) if (env[name] !== undefined) out[name] = env[name];
  if (backend !== "auto") out.ATELIER_BACKEND = backend;
  out.ATELIER_ONNX_THREADS = String(threads);
  out.ATELIER_WASM_THREADS ??= String(threads);
  return out;
}

function resolveSecret(env: NodeJS.ProcessEnv, log?: Logger): string {
  const { secret, development } = resolveRealtimeSecret(env);
  if (development) {
    log?.warn("config.dev_secret", {
      message:
        "ATELIER_REALTIME_SECRET is not set: using the public development secret; set it for any shared deployment",
      secret,
    });
  }
  return secret;
}

/** The environment of `npm run worker`: ATELIER_ROLE=worker whatever else is set. */
export function workerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ATELIER_ROLE: "worker" };
}

/** The log level alone (LOG_LEVEL), needed before the logger that loadConfig reports to exists. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  return parseLogLevel(env.LOG_LEVEL, DEFAULT_SETTINGS.logLevel);
}

function roleFromEnv(env: NodeJS.ProcessEnv): OptimizerRole {
  const raw = env.ATELIER_ROLE?.trim() || "all";
  if (!(ROLES as readonly string[]).includes(raw))
    throw new Error(`ATELIER_ROLE=${raw} is not one of ${ROLES.join(", ")}`);
  const role = raw as OptimizerRole;
  if (role !== "all" && !env.REDIS_URL?.trim()) throw new Error(`ATELIER_ROLE=${role} needs REDIS_URL`);
  return role;
}

/** ATELIER_METRICS_TOKEN, refused when it is too short to keep the metrics private. */
export function metricsTokenFromEnv(env: NodeJS.ProcessEnv): string | null {
  const token = env.ATELIER_METRICS_TOKEN?.trim();
  if (!token) return null;
  if (token.length < 16) throw new Error("ATELIER_METRICS_TOKEN must be at least 16 characters");
  return token;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, log?: Logger): Settings {
  const d = DEFAULT_SETTINGS;
  const origins = (env.WEB_ORIGIN ?? String(d.webOrigin))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    ...d,
    role: roleFromEnv(env),
    redisPrefix: env.ATELIER_REDIS_PREFIX?.trim() || d.redisPrefix,
    port: intFromEnv(env, "PORT", d.port, 0, 65535),
    healthPort: env.ATELIER_HEALTH_PORT?.trim() ? intFromEnv(env, "ATELIER_HEALTH_PORT", 0, 0, 65535) : null,
    metricsToken: metricsTokenFromEnv(env),
    webOrigin: origins.length === 1 ? origins[0]! : origins,
    allowedHosts: parseAllowedHosts(env.ATELIER_ALLOWED_HOSTS),
    dataDir: resolveDataDir(env),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    secret: resolveSecret(env, log),
    workers: intFromEnv(env, "ATELIER_WORKERS", d.workers, 1, 64),
    previewFps: intFromEnv(env, "ATELIER_PREVIEW_FPS", d.previewFps, 1, 60),
    checkpointEvery: intFromEnv(env, "ATELIER_CHECKPOINT_EVERY", d.checkpointEvery, 1, 100_000),
    redisUrl: env.REDIS_URL?.trim() || undefined,
    backend: env.ATELIER_BACKEND?.trim() || d.backend,
    engineThreads: env.ATELIER_ONNX_THREADS?.trim()
      ? intFromEnv(env, "ATELIER_ONNX_THREADS", 1, 1, 1024)
      : d.engineThreads,
    testNoOnnx: env.ATELIER_TEST_NO_ONNX === undefined ? d.testNoOnnx : env.ATELIER_TEST_NO_ONNX.trim() === "1",
    testAbortAt: env.ATELIER_TEST_ENGINE_ABORT_AT?.trim()
      ? intFromEnv(env, "ATELIER_TEST_ENGINE_ABORT_AT", 1, 1, MAX_ITERATIONS)
      : d.testAbortAt,
    prewarm:
      env.ATELIER_PREWARM === undefined
        ? d.prewarm
        : !["0", "false", "no", "off"].includes(env.ATELIER_PREWARM.trim().toLowerCase()),
    workerIdleMs: intFromEnv(env, "ATELIER_WORKER_IDLE_MS", d.workerIdleMs, 0, 24 * 3600_000),
    sweepFilesTtlMs:
      intFromEnv(env, "ATELIER_SWEEP_FILES_TTL_MINUTES", d.sweepFilesTtlMs / 60_000, 1, 30 * 24 * 60) * 60_000,
    logLevel: logLevelFromEnv(env),
    limits: {
      ...d.limits,
      socketsPerUser: intFromEnv(env, "ATELIER_MAX_SOCKETS_PER_USER", d.limits.socketsPerUser, 1, 10_000),
      activeRunsPerUser: intFromEnv(env, "ATELIER_MAX_ACTIVE_RUNS_PER_USER", d.limits.activeRunsPerUser, 1, 1000),
      maxSize: intFromEnv(env, "ATELIER_MAX_SIZE", d.limits.maxSize, MIN_SIZE, MAX_SIZE),
      maxIterations: intFromEnv(env, "ATELIER_MAX_ITERATIONS", d.limits.maxIterations, 1, MAX_ITERATIONS),
    },
  };
}
