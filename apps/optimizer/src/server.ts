/**
 * The optimisation service: an HTTP server (GET /health) with a Socket.IO server on it.
 * Sockets authenticate with a realtime token; rooms, presence and the co-edited document
 * live here; runs are delegated to the RunManager, previews to the PreviewFanout. With
 * REDIS_URL, several nodes share rooms through the Redis adapter.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Server, type Socket } from "socket.io";
import { createDb, imageIdsOfDocument, roleOf, type Db } from "@atelier/db";
import {
  canEdit,
  clientEventSchemas,
  colorOf,
  formatZodError,
  parseFieldValue,
  settingsDiff,
  type Ack,
  type ClientToServerEvents,
  type ErrorCode,
  type IterationStats,
  type Member,
  type Role,
  type RoomActivity,
  type RoomField,
  type RoomState,
  type RunInfo,
  type ServerToClientEvents,
  type PreviewMime,
  interNodeEventSchemas,
  type InterNodeEvent,
  type InterNodePayload,
} from "@atelier/protocol";
import { verifyMembershipChange, verifyRealtimeToken } from "@atelier/protocol/token";
import { canViewImage } from "@atelier/storage";
import { connectRedisAdapter, type ClusterLink } from "./cluster.ts";
import { applyMaskEdit } from "./mask-edits.ts";
import { ServiceError } from "./errors.ts";
import { PreviewFanout } from "./fanout.ts";
import { DEFAULT_LIMITS, fieldLimitRefusal, socketLimitRefusal, type ServiceLimits } from "./limits.ts";
import { createLogger, type Logger } from "./log.ts";
import { type LiveRoom, RoomRegistry, type PreviewFrame } from "./rooms.ts";
import { listRoomRuns, runCurveOf, runSettingsOf } from "./run-history.ts";
import { SweepManager } from "./sweeps.ts";
import { isActive, toRunInfo, type User } from "./live-run.ts";
import { RunManager } from "./runs.ts";
import { DEFAULT_SERVICE_BACKEND } from "./config.ts";

export interface OptimizerServerOptions {
  /** 0: any free port (tests) */
  port?: number;
  host?: string;
  secret: string;
  dataDir: string;
  /** a database client; default: a new one for DATABASE_URL / DATA_DIR (closed on close()) */
  db?: Db;
  webOrigin?: string | string[];
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
  /** the prefix of the cluster's Redis keys and channels (default `atelier:`) */
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

interface RoomMembership {
  role: Role;
  editingField: RoomField | null;
  /** when the focus last changed, to pick a user's latest focus across their tabs */
  focusAt: number;
}

interface SocketData {
  user: User;
  color: string;
  rooms: Record<string, RoomMembership>;
}

/**
 * Messages between optimiser nodes (cluster mode): they keep each node's view of a room current.
 * Their schemas (checked on arrival) are protocol's interNodeEventSchemas.
 */
export interface InterServerEvents {
  "atelier:doc": (p: {
    roomId: string;
    field: RoomField;
    value: unknown;
    version: number;
    authorId: string;
    authorName: string;
  }) => void;
  "atelier:run": (p: { roomId: string; run: RunInfo | null; restartNeeded: RoomField[] }) => void;
  "atelier:stats": (p: { roomId: string; stats: IterationStats }) => void;
  "atelier:preview": (p: InterNodePayload<"atelier:preview">) => void;
  "atelier:cancel": (p: { roomId: string }, ack: (ok: boolean) => void) => void;
}

export type AtelierServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type AtelierSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

const roomKey = (roomId: string) => `room:${roomId}`;

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

  const http = createServer((req, res) => handleHttp(req, res));
  const io: AtelierServer = new Server(http, {
    cors: { origin: options.webOrigin ?? "http://localhost:3000", credentials: true },
    connectionStateRecovery: {
      maxDisconnectionDuration: options.recoveryWindowMs ?? 2 * 60 * 1000,
      // tokens are checked again on a recovered connection
      skipMiddlewares: false,
    },
    maxHttpBufferSize: 1e6,
  });

  let cluster: ClusterLink | null = null;
  if (options.redisUrl) {
    cluster = await connectRedisAdapter(io, options.redisUrl, log);
  }

  const fanout = new PreviewFanout(io, roomKey);
  // eslint-disable-next-line prefer-const
  let runs: RunManager;
  const rooms = new RoomRegistry(db, log, (room) => runs.attachLatestRun(room));

  // ───────────────────────────── room broadcasts ─────────────────────────────

  // cluster runs (REDIS_URL): every node hears every run event on the run bus, so each one emits to its own
  // sockets only; a gateway runs no job, a node of role "all" also runs a worker (run-worker.ts)
  const gatewayRole = options.role === "gateway";
  if (gatewayRole && !options.redisUrl) throw new Error("createOptimizerServer: the gateway role needs redisUrl");
  const clusterRuns = options.redisUrl !== undefined;
  const runsOut = clusterRuns ? io.local : io;
  const runsCluster = clusterRuns ? null : cluster;
  const mirrorRoom = (room: LiveRoom) => {
    runsCluster?.emit("atelier:run", {
      roomId: room.id,
      run: room.run ? toRunInfo(room.run) : null,
      restartNeeded: room.restartNeeded,
    });
  };
  runs = new RunManager({
    db,
    dataDir: options.dataDir,
    rooms,
    log,
    nodeId,
    workers: options.workers ?? 1,
    previewFps: options.previewFps ?? 4,
    previewMime: options.previewMime,
    checkpointEvery: options.checkpointEvery ?? 25,
    prewarm: options.prewarm,
    workerIdleMs: options.workerIdleMs,
    backend: options.backend ?? DEFAULT_SERVICE_BACKEND,
    limits,
    remoteCancel: async (roomId) => (cluster ? cluster.requestCancel(roomId) : false),
    clusterRuns: options.redisUrl
      ? { redisUrl: options.redisUrl, prefix: options.redisPrefix ?? "atelier:", worker: !gatewayRole }
      : undefined,
    broadcast: {
      runUpdate(room) {
        if (!room.run) return;
        const info = toRunInfo(room.run);
        const serial = JSON.stringify(info);
        if (serial === room.run.lastSentInfo) return;
        room.run.lastSentInfo = serial;
        runsOut.to(roomKey(room.id)).emit("run:update", { roomId: room.id, run: info, speed: runs.speed.current() });
        mirrorRoom(room);
      },
      stats(room, stats) {
        runsOut.to(roomKey(room.id)).emit("run:stats", { ...stats, roomId: room.id });
        runsCluster?.emit("atelier:stats", { roomId: room.id, stats });
      },
      preview(_room, frame) {
        fanout.deliver(frame);
        runsCluster?.emit("atelier:preview", { ...frame, data: frame.data.toString("base64") });
      },
      restartNeeded(room) {
        runsOut.to(roomKey(room.id)).emit("room:restart-needed", { roomId: room.id, fields: room.restartNeeded });
        mirrorRoom(room);
      },
      resultSaved(room, p) {
        io.to(roomKey(room.id)).emit("result:saved", {
          roomId: room.id,
          runId: p.runId,
          resultId: p.resultId,
          title: p.title,
          isPublic: p.isPublic,
          author: { userId: p.author.id, name: p.author.name },
        });
      },
      resumed(room, p) {
        runsOut.to(roomKey(room.id)).emit("room:activity", {
          roomId: room.id,
          author: { userId: p.author.id, name: p.author.name },
          kind: "resumed",
          runId: p.runId,
          at: Date.now(),
        });
      },
      error(room, message) {
        io.to(roomKey(room.id)).emit("room:error", { roomId: room.id, code: "internal", error: message });
      },
    },
  });
  const sweeps = new SweepManager({
    runs,
    dataDir: options.dataDir,
    nodeId,
    log,
    broadcast: {
      update: (roomId, sweep) => io.to(roomKey(roomId)).emit("sweep:update", { roomId, sweep }),
      frame: (frame) => io.to(roomKey(frame.roomId)).emit("sweep:frame", frame),
    },
  });

  // ───────────────────────────── cluster: what other nodes tell us ─────────────────────────────

  if (cluster) {
    // Every inter-node message is checked against its protocol schema before it reaches a room.
    const fromNode = <E extends InterNodeEvent>(event: E, payload: unknown): boolean => {
      const parsed = interNodeEventSchemas[event].safeParse(payload);
      if (!parsed.success) log.warn("cluster.invalid_message", { event, error: formatZodError(parsed.error) });
      return parsed.success;
    };
    io.on("atelier:doc", (p) => {
      if (!fromNode("atelier:doc", p)) return;
      const room = rooms.get(p.roomId);
      if (!room) return;
      room.applyRemoteEdit(p.field, p.value, p.version, { userId: p.authorId, name: p.authorName });
      // if this node runs the room's job, the job follows the edit
      runs.onDocumentEdit(room, p.field, p.value, p.authorId);
    });
    io.on("atelier:run", (p) => {
      if (!fromNode("atelier:run", p)) return;
      const room = rooms.get(p.roomId);
      if (room) runs.mirrorRemote(room, p.run, p.restartNeeded);
    });
    io.on("atelier:stats", (p) => {
      if (!fromNode("atelier:stats", p)) return;
      const room = rooms.get(p.roomId);
      if (room && room.run?.id === p.stats.runId) room.pushStats(p.stats);
    });
    io.on("atelier:preview", (wire) => {
      if (!fromNode("atelier:preview", wire)) return;
      const frame: PreviewFrame = { ...wire, data: Buffer.from(wire.data, "base64") };
      const room = rooms.get(frame.roomId);
      if (room) room.latestPreview = frame;
      fanout.deliver(frame);
    });
    io.on("atelier:cancel", (p, ack) => {
      if (!fromNode("atelier:cancel", p)) return ack(false);
      const room = rooms.get(p.roomId);
      if (!room?.run?.local || !isActive(room.run.status)) return ack(false);
      runs.cancelRun(room).then(
        () => ack(true),
        () => ack(false),
      );
    });
  }

  // ───────────────────────────── presence ─────────────────────────────

  async function membersOf(roomId: string): Promise<Member[]> {
    const sockets = await io.in(roomKey(roomId)).fetchSockets();
    const byUser = new Map<string, Member & { focusAt: number }>();
    for (const s of sockets) {
      const membership = s.data.rooms?.[roomId];
      if (!s.data.user || !membership) continue;
      const existing = byUser.get(s.data.user.id);
      if (!existing) {
        byUser.set(s.data.user.id, {
          userId: s.data.user.id,
          name: s.data.user.name,
          color: s.data.color,
          role: membership.role,
          editingField: membership.editingField,
          focusAt: membership.focusAt,
        });
      } else if (membership.focusAt > existing.focusAt) {
        // several tabs of one user: the latest focus wins
        existing.editingField = membership.editingField;
        existing.focusAt = membership.focusAt;
        existing.role = membership.role;
      }
    }
    return [...byUser.values()]
      .map(({ focusAt: _f, ...m }) => m)
      .sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  }

  /** Rooms with a presence broadcast pending: a burst of changes goes out as one. */
  const presencePending = new Map<string, NodeJS.Timeout>();
  function schedulePresence(roomId: string): void {
    if (presencePending.has(roomId) || closing) return;
    const timer = setTimeout(() => {
      presencePending.delete(roomId);
      void broadcastPresence(roomId);
    }, limits.presenceCoalesceMs);
    timer.unref();
    presencePending.set(roomId, timer);
  }

  async function broadcastPresence(roomId: string): Promise<void> {
    try {
      const members = await membersOf(roomId);
      // closing meanwhile: the adapter's Redis clients may be gone (an emit would reject unhandled)
      if (closing) return;
      io.to(roomKey(roomId)).emit("presence", { roomId, members });
    } catch (error) {
      log.warn("presence.failed", { roomId, error });
    }
  }

  function buildState(room: LiveRoom, role: Role, members: Member[]): RoomState {
    const run = room.run;
    return {
      roomId: room.id,
      name: room.name,
      role,
      document: room.document,
      version: room.version,
      members,
      run: run ? toRunInfo(run) : null,
      history: run ? room.history.filter((h) => h.runId === run.id) : [],
      restartNeeded: room.restartNeeded,
      fieldAuthors: room.fieldAuthors,
      limits: { maxSize: limits.maxSize, maxIterations: limits.maxIterations },
      speed: runs.speed.current(),
    };
  }

  // ───────────────────────────── socket handlers ─────────────────────────────

  io.use((socket, next) => {
    const verified = verifyRealtimeToken(socket.handshake.auth?.token, options.secret);
    if (!verified.ok) {
      log.info("auth.refused", { reason: verified.error, address: socket.handshake.address });
      const error = new Error(`unauthorized: ${verified.error}`) as Error & { data?: unknown };
      error.data = { code: "unauthorized" satisfies ErrorCode };
      return next(error);
    }
    const user = { id: verified.payload.sub, name: verified.payload.name };
    let open = 0;
    for (const other of io.of("/").sockets.values())
      if (other.id !== socket.id && other.data.user?.id === user.id) open++;
    const overCap = socketLimitRefusal(open, limits);
    if (overCap) {
      log.warn("auth.socket_limit", { userId: user.id, open });
      const error = new Error(`limit: ${overCap}`) as Error & { data?: unknown };
      error.data = { code: "limit" satisfies ErrorCode };
      return next(error);
    }
    const restored = socket.data as Partial<SocketData> | undefined;
    // a recovered session keeps its rooms only for the same user
    const rooms = restored?.user?.id === user.id ? (restored.rooms ?? {}) : {};
    if (restored?.user && restored.user.id !== user.id)
      for (const room of socket.rooms) if (room !== socket.id) void socket.leave(room);
    socket.data = { user, color: colorOf(user.id), rooms };
    next();
  });

  /** The member's current role, read again from the database: a revoked member loses rights at once. */
  async function requireMember(
    socket: AtelierSocket,
    roomId: string,
    needEdit: boolean,
  ): Promise<{ room: LiveRoom; role: Role }> {
    const membership = socket.data.rooms[roomId];
    if (!membership) throw new ServiceError("forbidden", "join the room first");
    const role = await roleOf(db, roomId, socket.data.user.id);
    if (!role) {
      delete socket.data.rooms[roomId];
      await socket.leave(roomKey(roomId));
      schedulePresence(roomId);
      throw new ServiceError("forbidden", "you are no longer a member of this room");
    }
    membership.role = role;
    if (needEdit && !canEdit(role)) throw new ServiceError("forbidden", `a ${role} cannot change this room`);
    const room = await rooms.load(roomId);
    if (!room) throw new ServiceError("not_found", "this room no longer exists");
    return { room, role };
  }

  /** Wires one client event: validates its payload, runs it, answers the ack with a result or a coded error. */
  function on<E extends keyof typeof clientEventSchemas>(
    socket: AtelierSocket,
    event: E,
    run: (payload: ReturnType<(typeof clientEventSchemas)[E]["parse"]>) => Promise<Record<string, unknown> | void>,
  ): void {
    (socket as unknown as { on(e: string, fn: (...args: unknown[]) => void): void }).on(
      event,
      // every failure below ends in an error ack, so nothing is left for the returned promise to report
      (...args: unknown[]) => void handle(...args),
    );
    async function handle(...args: unknown[]): Promise<void> {
      const last = args[args.length - 1];
      const ack = typeof last === "function" ? (last as (reply: Ack<Record<string, unknown>>) => void) : null;
      const raw = ack ? args.slice(0, -1)[0] : args[0];
      const reply = (r: Ack<Record<string, unknown>>) => ack?.(r);
      const parsed = clientEventSchemas[event].safeParse(raw);
      if (!parsed.success) {
        log.info("event.invalid", { event, userId: socket.data.user.id, error: formatZodError(parsed.error) });
        return reply({ ok: false, code: "invalid", error: formatZodError(parsed.error) });
      }
      try {
        const result = await run(parsed.data as never);
        reply({ ok: true, ...(result ?? {}) });
      } catch (error) {
        if (error instanceof ServiceError) {
          log.info("event.refused", { event, userId: socket.data.user.id, code: error.code, error: error.message });
          return reply({ ok: false, code: error.code, error: error.message });
        }
        log.error("event.failed", { event, userId: socket.data.user.id, error });
        reply({ ok: false, code: "internal", error: "internal error" });
      }
    }
  }

  io.on("connection", (socket) => {
    const user = socket.data.user;
    log.info("socket.connected", { socketId: socket.id, userId: user.id, recovered: socket.recovered });
    if (socket.recovered) for (const roomId of Object.keys(socket.data.rooms)) schedulePresence(roomId);

    on(socket, "room:join", async ({ roomId }) => {
      const room = await rooms.load(roomId);
      if (!room) throw new ServiceError("not_found", "no such room");
      const role = await roleOf(db, roomId, user.id);
      if (!role) throw new ServiceError("forbidden", "you are not a member of this room");
      await socket.join(roomKey(roomId));
      socket.data.rooms[roomId] = { role, editingField: null, focusAt: 0 };
      const state = buildState(room, role, await membersOf(roomId));
      log.info("room.joined", { roomId, userId: user.id, role });
      // after the ack: the full state (also for clients that resync on room:state) and the latest frame
      setImmediate(() => {
        socket.emit("room:state", state);
        const frame = room.latestPreview;
        if (frame && frame.runId === room.run?.id) fanout.deliverTo(socket, frame);
        const sweep = sweeps.snapshot(roomId);
        if (sweep) socket.emit("sweep:update", { roomId, sweep: sweep.sweep });
        for (const sweepFrame of sweep?.frames ?? []) socket.emit("sweep:frame", sweepFrame);
        schedulePresence(roomId);
      });
      return { state };
    });

    on(socket, "room:leave", async ({ roomId }) => {
      if (!socket.data.rooms[roomId]) return;
      delete socket.data.rooms[roomId];
      await socket.leave(roomKey(roomId));
      log.info("room.left", { roomId, userId: user.id });
      schedulePresence(roomId);
      void maybeEvict(roomId);
    });

    // nothing to wait for: the broadcast is coalesced (a throw here still becomes an error ack)
    on(socket, "presence:focus", ({ roomId, field }) => {
      const membership = socket.data.rooms[roomId];
      if (!membership) throw new ServiceError("forbidden", "join the room first");
      membership.editingField = field;
      membership.focusAt = Date.now();
      schedulePresence(roomId);
      return Promise.resolve();
    });

    on(socket, "doc:edit", async ({ roomId, field, value, baseVersion }) => {
      const { room } = await requireMember(socket, roomId, true);
      // a whole-field write would drop strokes others are painting at the same moment
      if (field === "masks") throw new ServiceError("invalid", "masks are edited stroke by stroke (mask:edit)");
      return applyFieldEdit(room, user, field, value, baseVersion);
    });

    // one stroke / undo / clear, applied in arrival order and broadcast as the new `masks` field
    on(socket, "mask:edit", async (edit) => {
      const { room } = await requireMember(socket, edit.roomId, true);
      const styleIds = room.document.styles.map((s) => s.imageId);
      const outcome = applyMaskEdit(room.document.masks, edit, user.id, styleIds);
      if (!outcome.ok) throw new ServiceError("invalid", outcome.error);
      return applyFieldEdit(room, user, "masks", outcome.masks, room.version);
    });

    on(socket, "run:start", async ({ roomId, restart, fromRunId }) => {
      const { room } = await requireMember(socket, roomId, true);
      const run = await runs.startRun(room, user, restart, fromRunId ? { runId: fromRunId } : undefined);
      if (fromRunId) broadcastActivity(room.id, user, "continued-from", fromRunId);
      return { run: toRunInfo(run) };
    });

    on(socket, "history:list", async ({ roomId }) => {
      const { room } = await requireMember(socket, roomId, false);
      return { runs: await listRoomRuns(db, room) };
    });

    on(socket, "history:curve", async ({ roomId, runId }) => {
      const { room } = await requireMember(socket, roomId, false);
      return { history: await runCurveOf(db, room, runId) };
    });

    // a run's settings back into the document: one ordinary co-edit per field that differs
    on(socket, "history:restore", async ({ roomId, runId }) => {
      const { room } = await requireMember(socket, roomId, true);
      const params = await runSettingsOf(db, roomId, runId);
      for (const change of settingsDiff(room.document, params)) {
        await applyFieldEdit(room, user, change.field, change.after, room.version);
      }
      broadcastActivity(room.id, user, "restored-settings", runId);
      return { version: room.version };
    });

    on(socket, "sweep:start", async ({ roomId, axes, size, iterations }) => {
      const { room } = await requireMember(socket, roomId, true);
      const sweep = await sweeps.start(room, user, { axes, size, iterations });
      broadcastActivity(roomId, user, "started-sweep", sweep.sweepId);
      return { sweep };
    });

    // the cell's swept values become the room's (co-edits), and the full-size run starts from its image
    on(socket, "sweep:promote", async ({ roomId, sweepId, cell }) => {
      const { room } = await requireMember(socket, roomId, true);
      const promotion = sweeps.promotion(room, sweepId, cell);
      for (const change of promotion.changes)
        await applyFieldEdit(room, user, change.field, change.after, room.version);
      const run = await runs.startRun(room, user, true, { imagePath: promotion.imagePath });
      broadcastActivity(roomId, user, "promoted", run.id);
      return { run: toRunInfo(run) };
    });

    on(socket, "run:cancel", async ({ roomId }) => {
      const { room } = await requireMember(socket, roomId, true);
      await runs.cancelRoom(room);
    });

    on(socket, "result:save", async ({ roomId, runId, title, isPublic, preview }) => {
      const { room } = await requireMember(socket, roomId, true);
      const resultId = await runs.saveResult(room, user, { runId, title, isPublic, preview });
      return { resultId };
    });

    socket.on("disconnect", (reason) => {
      log.info("socket.disconnected", { socketId: socket.id, userId: user.id, reason });
      for (const roomId of Object.keys(socket.data.rooms)) {
        schedulePresence(roomId);
        void maybeEvict(roomId);
      }
    });
  });

  /** Tells the room who did what to its history (the activity line). */
  function broadcastActivity(roomId: string, author: User, kind: RoomActivity["kind"], runId: string): void {
    const activity: RoomActivity = {
      roomId,
      author: { userId: author.id, name: author.name },
      kind,
      runId,
      at: Date.now(),
    };
    log.info("room.activity", { roomId, userId: author.id, kind, runId });
    io.to(roomKey(roomId)).emit("room:activity", activity);
  }

  /**
   * One validated field edit by a member: applied (last writer wins), saved, broadcast (also to
   * other nodes), and followed by the running job where it can.
   */
  async function applyFieldEdit(
    room: LiveRoom,
    user: User,
    field: RoomField,
    value: unknown,
    baseVersion: number,
  ): Promise<{ version: number; restartNeeded: boolean }> {
    const roomId = room.id;
    const parsed = parseFieldValue(field, value);
    if (!parsed.ok) throw new ServiceError("invalid", parsed.error);
    const overCap = fieldLimitRefusal(field, parsed.value, limits);
    if (overCap) throw new ServiceError("limit", overCap);
    await checkImageAccess(user.id, room, field, parsed.value);
    const applied = room.applyEdit(field, parsed.value, { userId: user.id, name: user.name });
    if (!applied.changed) return { version: room.version, restartNeeded: room.restartNeeded.includes(field) };
    if (baseVersion < applied.version - 1)
      log.debug("doc.stale_edit_applied", { roomId, field, baseVersion, version: applied.version });
    log.info("doc.edited", { roomId, userId: user.id, field, version: applied.version });
    // image fields are saved before anyone hears of them (image access reads the saved document)
    if (field === "contentImageId" || field === "styles") await rooms.saveNow(room);
    else rooms.scheduleSave(room);
    io.to(roomKey(roomId)).emit("doc:changed", {
      roomId,
      field,
      value: parsed.value,
      author: { userId: user.id, name: user.name },
      version: applied.version,
    });
    cluster?.emit("atelier:doc", {
      roomId,
      field,
      value: parsed.value,
      version: applied.version,
      authorId: user.id,
      authorName: user.name,
    });
    const restartNeeded = runs.onDocumentEdit(room, field, parsed.value, user.id);
    return { version: applied.version, restartNeeded };
  }

  /**
   * Images named in an edit must be ones the editor may use. Only images the edit brings in
   * are checked: changing the weight of a style someone else added stays possible.
   */
  async function checkImageAccess(userId: string, room: LiveRoom, field: RoomField, value: unknown): Promise<void> {
    if (field !== "contentImageId" && field !== "styles") return;
    const before = new Set(imageIdsOfDocument(room.document));
    const after = imageIdsOfDocument({ ...room.document, [field]: value });
    for (const imageId of after) {
      if (before.has(imageId)) continue;
      if (!(await canViewImage(db, imageId, userId))) {
        throw new ServiceError("forbidden", `image ${imageId} does not exist or you may not use it`);
      }
    }
  }

  /**
   * The web app changed or removed a member (owner's action): that user's sockets on this node
   * follow at once — removed ones leave the room and are told so, changed ones get the room's
   * state with their new role — and everyone sees the new presence.
   */
  async function applyMembershipChange(roomId: string, userId: string): Promise<number> {
    const role = await roleOf(db, roomId, userId);
    const room = rooms.get(roomId);
    let followed = 0;
    for (const socket of io.of("/").sockets.values()) {
      const membership = socket.data.rooms?.[roomId];
      if (socket.data.user?.id !== userId || !membership) continue;
      followed++;
      if (!role) {
        delete socket.data.rooms[roomId];
        await socket.leave(roomKey(roomId));
        socket.emit("room:error", { roomId, code: "forbidden", error: "the room's owner removed you from this room" });
      } else {
        membership.role = role;
        if (room) socket.emit("room:state", buildState(room, role, await membersOf(roomId)));
      }
    }
    log.info("room.membership_changed", { roomId, userId, role, sockets: followed });
    schedulePresence(roomId);
    if (!role) void maybeEvict(roomId);
    return followed;
  }

  /** Frees a room's memory once nobody on this node is in it and it has no job here. */
  async function maybeEvict(roomId: string): Promise<void> {
    const local = io.sockets.adapter.rooms.get(roomKey(roomId));
    if (local && local.size > 0) return;
    const room = rooms.get(roomId);
    if (!room || (room.run && room.run.local && isActive(room.run.status))) return;
    await rooms.evict(roomId).catch((error) => log.error("room.evict_failed", { roomId, error }));
  }

  // ───────────────────────────── HTTP ─────────────────────────────

  function handleHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/health") {
      const queue = runs.health();
      const body = {
        ok: !closing,
        node: nodeId,
        backend: runs.backend ?? options.backend ?? DEFAULT_SERVICE_BACKEND,
        workers: { max: queue.workers, busy: queue.running, threads: queue.threads, idleThreads: queue.idleThreads },
        queue: { queued: queue.queued, running: queue.running },
        rooms: rooms.all().length,
        sockets: io.engine.clientsCount,
        cluster: Boolean(cluster),
        uptime: Math.round((Date.now() - startedAt) / 1000),
      };
      res.writeHead(closing ? 503 : 200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
      return;
    }
    if (req.method === "POST" && url.pathname === "/internal/membership") {
      const token = req.headers.authorization?.replace(/^Bearer\s+/i, "");
      const verified = verifyMembershipChange(token, options.secret);
      const reply = (status: number, body: object) => {
        res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify(body));
      };
      if (!verified.ok) {
        log.info("membership.refused", { reason: verified.error, address: req.socket.remoteAddress });
        return reply(401, { ok: false, error: verified.error });
      }
      void applyMembershipChange(verified.change.roomId, verified.change.userId).then(
        (sockets) => reply(200, { ok: true, sockets }),
        (error: unknown) => {
          log.error("membership.failed", { error });
          reply(500, { ok: false, error: "internal error" });
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: false, error: "not found" }));
  }

  await runs.start();
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
    log.info("optimizer.stopping", {});
    await runs.shutdown().catch((error) => log.error("runs.shutdown_failed", { error }));
    fanout.close();
    for (const timer of presencePending.values()) clearTimeout(timer);
    presencePending.clear();
    io.disconnectSockets(true);
    await new Promise<void>((resolve) => void io.close(() => resolve()));
    // after the sockets: no edit can arrive any more, and the saves their disconnects started are awaited
    await rooms.close().catch((error) => log.error("rooms.flush_failed", { error }));
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
      fanoutStats: () => fanout.stats(),
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
