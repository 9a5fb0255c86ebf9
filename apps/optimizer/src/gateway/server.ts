/**
 * The optimisation service assembled: an HTTP server (GET /health, POST /internal/membership)
 * with a Socket.IO server on it. The parts live in their own modules — handshake
 * (gateway/socket-auth.ts), rooms and presence (gateway/room-handlers.ts, gateway/presence.ts, gateway/membership.ts), the
 * co-edited document (gateway/document-handlers.ts), runs (gateway/run-handlers.ts, the one seam to
 * RunManager), HTTP (gateway/http-handler.ts) — and meet here. With REDIS_URL, several nodes share
 * rooms through the Redis streams adapter and one Redis document store.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Server } from "socket.io";
import { createDb, type Db } from "@atelier/db";
import type { PreviewMime } from "@atelier/protocol";
import { connectCluster } from "../cluster/adapter.ts";
import { DEFAULT_SERVICE_BACKEND } from "../config.ts";
import { createDocumentEditor, installRemoteEdits, registerDocumentHandlers, RoomQueue } from "./document-handlers.ts";
import type { DocumentStore } from "../rooms/document-store.ts";
import { MemoryDocumentStore } from "../rooms/document-store-memory.ts";
import { RedisDocumentStore } from "../rooms/document-store-redis.ts";
import { PreviewFanout } from "./fanout.ts";
import { roomKey, type AtelierServer, type ClusterLink, type GatewayContext } from "./context.ts";
import { createHttpHandler } from "./http-handler.ts";
import { DEFAULT_LIMITS, type ServiceLimits } from "../common/limits.ts";
import { createLogger, type Logger } from "../common/log.ts";
import { applyMembershipChange, followMembershipEverywhere } from "./membership.ts";
import { Presence } from "./presence.ts";
import { registerRoomHandlers, type RoomViews } from "./room-handlers.ts";
import { RoomRegistry } from "../rooms/room-registry.ts";
import { createRunLink, type RunLink } from "./run-handlers.ts";
import { installSocketAuth } from "./socket-auth.ts";
import { socketOriginOptions } from "./socket-origin.ts";
import { registerTokenRefresh, startSessionChecks } from "./session-check.ts";

export type { AtelierServer } from "./context.ts";

export interface OptimizerServerOptions {
  /** 0: any free port (tests) */
  port?: number;
  host?: string;
  secret: string;
  dataDir: string;
  /** a database client; default: a new one for DATABASE_URL / DATA_DIR (closed on close()) */
  db?: Db;
  webOrigin?: string | string[];
  /** ATELIER_ALLOWED_HOSTS: host names pages may be opened on besides localhost and IP literals (see socket-origin.ts) */
  allowedHosts?: string[];
  workers?: number;
  previewFps?: number;
  previewMime?: PreviewMime;
  checkpointEvery?: number;
  redisUrl?: string;
  /**
   * ATELIER_ROLE: "gateway" runs no job (runs go to worker processes through BullMQ, their
   * events come back over the run bus); "all" (default) runs them in this process
   */
  role?: "all" | "gateway";
  /** prefix of every Redis key (default "atelier:"); tests give each file its own */
  redisPrefix?: string;
  logger?: Logger;
  /** how long a disconnected client can come back with its rooms and missed events (ms) */
  recoveryWindowMs?: number;
  /** load worker threads (backend + weights) at start-up instead of on the first run */
  prewarm?: boolean;
  /** how long a finished worker thread stays loaded for the next run (ms, default 10 min) */
  workerIdleMs?: number;
  /** the engine backend of the worker threads (default DEFAULT_SERVICE_BACKEND); /health reports it until a worker reports the one it loaded */
  backend?: string;
  /** how often open sockets' tokens, accounts and roles are checked again (ms, default 30 s) */
  sessionCheckMs?: number;
  /** abuse limits (defaults: DEFAULT_LIMITS) */
  limits?: Partial<ServiceLimits>;
}

export interface OptimizerServer {
  port: number;
  url: string;
  nodeId: string;
  io: AtelierServer;
  /** test and drill hooks (they act for real: a terminated worker thread really dies) */
  debug: {
    terminateWorker(runId: string): Promise<number>;
    crashNextRunAt(iteration: number): void;
    fanoutStats(): ReturnType<PreviewFanout["stats"]>;
    eventLoopDelay(): { p50: number; p99: number; max: number; mean: number };
    resetEventLoopDelay(): void;
  };
  close(): Promise<void>;
}

export async function createOptimizerServer(options: OptimizerServerOptions): Promise<OptimizerServer> {
  if (!options.secret) throw new Error("createOptimizerServer: a realtime token secret is required");
  const nodeId = randomUUID();
  const log = (options.logger ?? createLogger("info")).child({ service: "optimizer", node: nodeId.slice(0, 8) });
  const ownsDb = !options.db;
  const db = options.db ?? (await createDb({ dataDir: options.dataDir }));
  const startedAt = Date.now();
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...options.limits };
  let closing = false;
  const LOOP_RESOLUTION_MS = 10;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  const excess = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);

  // the HTTP handler exists once the parts do; Socket.IO, attached next, passes it every request
  // that is not its own (a handler added after it would also see Socket.IO's)
  let handleHttp: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const http = createServer((req, res) => handleHttp(req, res));
  const io: AtelierServer = new Server(http, {
    ...socketOriginOptions({
      publicOrigins: [options.webOrigin ?? "http://localhost:3000"].flat(),
      allowedHosts: options.allowedHosts ?? [],
    }),
    connectionStateRecovery: {
      maxDisconnectionDuration: options.recoveryWindowMs ?? 2 * 60 * 1000,
      // tokens are checked again on a recovered connection
      skipMiddlewares: false,
    },
    maxHttpBufferSize: 1e6,
  });

  if (options.role === "gateway" && !options.redisUrl)
    throw new Error("createOptimizerServer: the gateway role needs redisUrl");
  let cluster: ClusterLink | null = null;
  if (options.redisUrl) {
    cluster = await connectCluster(io, options.redisUrl, log, options.redisPrefix);
  }
  // one authoritative copy of each room document: Redis across gateways, else this process
  const store: DocumentStore = cluster
    ? new RedisDocumentStore(cluster.redis, {
        keyPrefix: cluster.keyPrefix,
        log,
        announce: { stream: cluster.streamName, roomKey },
      })
    : new MemoryDocumentStore();

  // the registry attaches a loaded room's latest run: the run link exists by the first load
  // eslint-disable-next-line prefer-const
  let link: RunLink;
  const rooms = new RoomRegistry(db, log, store, (room) => link.runs.attachLatestRun(room));
  const ctx: GatewayContext = {
    io,
    db,
    log,
    nodeId,
    secret: options.secret,
    limits,
    rooms,
    fanout: new PreviewFanout(io, roomKey),
    cluster,
    isClosing: () => closing,
  };
  link = createRunLink(ctx, {
    dataDir: options.dataDir,
    workers: options.workers ?? 1,
    previewFps: options.previewFps ?? 4,
    previewMime: options.previewMime,
    checkpointEvery: options.checkpointEvery ?? 25,
    prewarm: options.prewarm,
    workerIdleMs: options.workerIdleMs,
    backend: options.backend ?? DEFAULT_SERVICE_BACKEND,
    // cluster runs (REDIS_URL): a gateway runs no job, a node of role "all" also runs a worker (cluster/run-worker-role.ts)
    clusterRuns: options.redisUrl
      ? { redisUrl: options.redisUrl, prefix: options.redisPrefix ?? "atelier:", worker: options.role !== "gateway" }
      : undefined,
  });
  const { runs } = link;
  const presence = new Presence(io, log, limits.presenceCoalesceMs);
  const views: RoomViews = { speed: () => runs.speed.current(), sweeps: link.sweeps };
  const applyFieldEdit = createDocumentEditor(ctx, link.followEdit);
  const maskEdits = new RoomQueue();
  if (cluster) {
    installRemoteEdits(ctx, link.followEdit);
    // back on Redis after losing it (perhaps a Redis restarted empty; connected before this, so
    // every "ready" here is a reconnection): this node offers its rooms, so edits only it had
    // heard of survive whichever node seeds a lost document first
    cluster.redis.on("ready", () => void rooms.reseedAll());
  }
  const membershipChanged = followMembershipEverywhere(ctx, presence, views);
  // the periodic pass fixes this node's sockets only: each node runs its own
  const stopSessionChecks = startSessionChecks(ctx, options.sessionCheckMs ?? 30_000, (roomId, userId) =>
    applyMembershipChange(ctx, presence, views, roomId, userId),
  );

  installSocketAuth(ctx);
  io.on("connection", (socket) => {
    const user = socket.data.user;
    log.info("socket.connected", { socketId: socket.id, userId: user.id, recovered: socket.recovered });
    if (socket.recovered) for (const roomId of Object.keys(socket.data.rooms)) presence.schedule(roomId);
    registerRoomHandlers(ctx, presence, views, socket);
    registerDocumentHandlers(ctx, presence, applyFieldEdit, maskEdits, socket);
    link.registerHandlers(socket, presence, applyFieldEdit);
    registerTokenRefresh(ctx, socket);
  });

  handleHttp = createHttpHandler(ctx, {
    health: () => {
      const queue = runs.health();
      return {
        node: nodeId,
        backend: runs.backend ?? options.backend ?? DEFAULT_SERVICE_BACKEND,
        ...(runs.adapter ? { adapter: runs.adapter } : {}),
        workers: { max: queue.workers, busy: queue.running, threads: queue.threads, idleThreads: queue.idleThreads },
        queue: { queued: queue.queued, running: queue.running },
        rooms: rooms.all().length,
        sockets: io.engine.clientsCount,
        cluster: Boolean(cluster),
        uptime: Math.round((Date.now() - startedAt) / 1000),
      };
    },
    membershipChanged,
  });

  await link.start();
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, options.host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  log.info("optimizer.listening", { port, workers: options.workers ?? 1, cluster: Boolean(cluster) });

  let closed: Promise<void> | null = null;
  async function close(): Promise<void> {
    closing = true;
    presence.close();
    stopSessionChecks();
    log.info("optimizer.stopping", {});
    await runs.shutdown().catch((error) => log.error("runs.shutdown_failed", { error }));
    ctx.fanout.close();
    io.disconnectSockets(true);
    await new Promise<void>((resolve) => void io.close(() => resolve()));
    // after the sockets: no edit can arrive any more, and the saves their disconnects started are awaited
    await rooms.close().catch((error) => log.error("rooms.flush_failed", { error }));
    await store.close();
    await cluster?.close().catch((error) => log.warn("cluster.close_failed", { error }));
    loopDelay.disable();
    if (ownsDb) await db.$disconnect();
    log.info("optimizer.stopped", {});
  }

  return {
    port,
    url: `http://localhost:${port}`,
    nodeId,
    io,
    debug: {
      terminateWorker: (runId) => runs.debugTerminateWorker(runId),
      crashNextRunAt: (iteration) => runs.debugCrashNextRunAt(iteration),
      fanoutStats: () => ctx.fanout.stats(),
      // the histogram records the time between its timer's ticks: the delay is what exceeds the tick
      eventLoopDelay: () => ({
        p50: excess(loopDelay.percentile(50)),
        p99: excess(loopDelay.percentile(99)),
        max: excess(loopDelay.max),
        mean: excess(loopDelay.mean),
      }),
      resetEventLoopDelay: () => loopDelay.reset(),
    },
    close: () => (closed ??= close()),
  };
}
