/**
 * The optimisation service assembled: an HTTP server (GET /health, POST /internal/membership and /session)
 * with a Socket.IO server on it. The parts live in their own modules — handshake
 * (gateway/socket-auth.ts), rooms and presence (gateway/room-handlers.ts, gateway/presence.ts, gateway/membership.ts), the
 * co-edited document (gateway/document-handlers.ts), runs (gateway/run-handlers.ts, the one seam to
 * the run service), HTTP (gateway/http-handler.ts) — and meet here. With REDIS_URL, several nodes share
 * rooms through the Redis streams adapter and one Redis document store.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Server } from "socket.io";
import { createDb, type Db } from "@atelier/db";
import { connectCluster } from "../cluster/adapter.ts";
import type { Settings } from "../config.ts";
import { createDocumentEditor, installRemoteEdits, registerDocumentHandlers } from "./document-handlers.ts";
import type { DocumentStore } from "../rooms/document-store.ts";
import { MemoryDocumentStore } from "../rooms/document-store-memory.ts";
import { RedisDocumentStore } from "../rooms/document-store-redis.ts";
import { PreviewFanout } from "./fanout.ts";
import { roomKey, type AtelierServer, type ClusterLink, type GatewayContext } from "./context.ts";
import { createHttpHandler } from "./http-handler.ts";
import { KeyedQueue } from "../common/keyed-queue.ts";
import { createLogger, type Logger } from "../common/log.ts";
import { applyMembershipChange, followMembershipEverywhere } from "./membership.ts";
import { Presence } from "./presence.ts";
import { registerRoomHandlers, type RoomViews } from "./room-handlers.ts";
import { RoomRegistry } from "../rooms/room-registry.ts";
import type { RunSettings } from "../runs/core.ts";
import { createRunLink } from "./run-handlers.ts";
import { installSocketAuth } from "./socket-auth.ts";
import { socketOriginOptions } from "./socket-origin.ts";
import { followSessionEndsEverywhere } from "./session-end.ts";
import { registerTokenRefresh, startSessionChecks } from "./session-check.ts";
import { gauges, metrics } from "../common/metrics.ts";

export type { AtelierServer } from "./context.ts";

/**
 * The settings the server uses (role "gateway" runs no job: runs go to worker processes through
 * BullMQ, their events come back over the run bus; "all" runs them in this process), and what it
 * works with: a database client (default: a new one for DATA_DIR, closed on close()) and a logger.
 */
export type OptimizerServerOptions = RunSettings &
  Pick<
    Settings,
    | "port"
    | "secret"
    | "webOrigin"
    | "allowedHosts"
    | "recoveryWindowMs"
    | "sessionCheckMs"
    | "sweepFilesTtlMs"
    | "metricsToken"
    | "testAbortAt"
  > & {
    db?: Db;
    logger?: Logger;
  };

export interface OptimizerServer {
  port: number;
  url: string;
  nodeId: string;
  io: AtelierServer;
  /** test and drill hooks (they act for real: a killed engine process really dies) */
  debug: {
    terminateWorker(runId: string): Promise<void>;
    /** the process id of the run's engine process on this node (null: none) */
    enginePid(runId: string): number | null;
    crashNextRunAt(iteration: number, how?: "throw" | "abort"): void;
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
    ...socketOriginOptions({ publicOrigins: [options.webOrigin].flat(), allowedHosts: options.allowedHosts }),
    connectionStateRecovery: {
      maxDisconnectionDuration: options.recoveryWindowMs,
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

  const rooms = new RoomRegistry(db, log, store);
  const ctx: GatewayContext = {
    io,
    db,
    log,
    nodeId,
    secret: options.secret,
    limits: options.limits,
    rooms,
    fanout: new PreviewFanout(io, roomKey),
    cluster,
    isClosing: () => closing,
  };
  // the run service: it also gives every room loaded from now on its latest run (rooms.onLoad)
  const link = createRunLink(ctx, options);
  const { runs } = link;
  if (options.testAbortAt) link.debug.crashNextRunAt(options.testAbortAt, "abort");
  const stopGauges = [
    gauges.gateway(() => [
      [{ what: "sockets" }, io.engine.clientsCount],
      [{ what: "rooms" }, rooms.all().length],
    ]),
    gauges.runs(() => {
      const q = runs.health();
      return [
        [{ state: "queued" }, q.queued],
        [{ state: "running" }, q.running],
      ];
    }),
  ];
  const presence = new Presence(io, log, options.limits.presenceCoalesceMs);
  const views: RoomViews = { speed: link.estimateSpeed, sweeps: link.sweeps };
  const applyFieldEdit = createDocumentEditor(ctx, link.followEdit);
  const maskEdits = new KeyedQueue();
  if (cluster) {
    installRemoteEdits(ctx, link.followEdit);
    // back on Redis after losing it (perhaps a Redis restarted empty; connected before this, so
    // every "ready" here is a reconnection): this node offers its rooms, so edits only it had
    // heard of survive whichever node seeds a lost document first
    cluster.redis.on("ready", () => void rooms.reseedAll());
  }
  const membershipChanged = followMembershipEverywhere(ctx, presence, views);
  // the periodic pass fixes this node's sockets only: each node runs its own
  const stopSessionChecks = startSessionChecks(ctx, options.sessionCheckMs, (roomId, userId) =>
    applyMembershipChange(ctx, presence, views, roomId, userId),
  );

  installSocketAuth(ctx);
  io.on("connection", (socket) => {
    socket.conn.on("packetCreate", () => metrics.packetsOut.inc());
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
        backend: runs.core.backend ?? options.backend,
        ...(runs.core.adapter ? { adapter: runs.core.adapter } : {}),
        workers: { max: queue.workers, busy: queue.running, threads: queue.threads, idleThreads: queue.idleThreads },
        queue: { queued: queue.queued, running: queue.running },
        rooms: rooms.all().length,
        sockets: io.engine.clientsCount,
        cluster: Boolean(cluster),
        uptime: Math.round((Date.now() - startedAt) / 1000),
      };
    },
    membershipChanged,
    sessionEnded: followSessionEndsEverywhere(ctx),
    metricsToken: options.metricsToken,
  });

  await link.start();
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  log.info("optimizer.listening", { port, workers: options.workers, cluster: Boolean(cluster) });

  let closed: Promise<void> | null = null;
  async function close(): Promise<void> {
    closing = true;
    presence.close();
    stopSessionChecks();
    log.info("optimizer.stopping", {});
    await runs.shutdown().catch((error) => log.error("runs.shutdown_failed", { error }));
    await link.close().catch((error) => log.error("sweeps.close_failed", { error }));
    ctx.fanout.close();
    io.disconnectSockets(true);
    await new Promise<void>((resolve) => void io.close(() => resolve()));
    // after the sockets: no edit can arrive any more, and the saves their disconnects started are awaited
    await rooms.close().catch((error) => log.error("rooms.flush_failed", { error }));
    await store.close();
    await cluster?.close().catch((error) => log.warn("cluster.close_failed", { error }));
    loopDelay.disable();
    for (const stop of stopGauges) stop();
    if (ownsDb) await db.$disconnect();
    log.info("optimizer.stopped", {});
  }

  return {
    port,
    url: `http://localhost:${port}`,
    nodeId,
    io,
    debug: {
      ...link.debug,
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
