/*
 * The room's realtime connection: socket.io-client ↔ the optimisation service, feeding the
 * room store (room-store.ts) and handing preview frames to a callback. No React in here.
 */
import { io, type Socket } from "socket.io-client";
import {
  PROTOCOL_VERSION,
  formatZodError,
  serverEventSchemas,
  type Ack,
  type ClientToServerEvents,
  type IterationStats,
  type MaskEditRequest,
  type Preview,
  type RealtimeTokenResponse,
  type RenderLarge,
  type RoomField,
  type RunInfo,
  type RunSummary,
  type StartSweep,
  type SweepInfo,
  type ServerEvent,
  type ServerEventPayload,
  type ServerToClientEvents,
} from "@atelier/protocol";
import type { RoomStore } from "./room-store";

type RoomSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Subscribes to a server event whose payload is checked against its protocol schema first: a
 * payload that does not match (a server of another version, a bug) is reported and dropped
 * instead of reaching the store half-formed.
 */
function onServerEvent<E extends ServerEvent>(
  socket: RoomSocket,
  event: E,
  handle: (payload: ServerEventPayload<E>) => void,
  reject: (event: E, problem: string) => void,
): void {
  const schema = serverEventSchemas[event];
  (socket as unknown as { on(e: string, fn: (payload: unknown) => void): void }).on(event, (payload) => {
    const parsed = schema.safeParse(payload);
    if (parsed.success) handle(parsed.data as ServerEventPayload<E>);
    else reject(event, formatZodError(parsed.error));
  });
}

export interface RealtimeOptions {
  roomId: string;
  store: RoomStore;
  me: { userId: string; name: string };
  onPreview: (frame: Preview) => void;
  /** where to get a token (default: GET /api/realtime-token) */
  fetchToken?: () => Promise<RealtimeTokenResponse>;
  /** minimum milliseconds between two sends of the same field (slider drags) */
  editIntervalMs?: number;
}

export interface RoomConnection {
  /** Optimistic edit: shown at once, sent (coalesced per field), confirmed or rolled back by the server. */
  edit(field: RoomField, value: unknown): void;
  focus(field: RoomField | null): void;
  /** `fromRunId`: start from the image an earlier run of the room left; `render`: paint that (finished) run again larger */
  start(restart: boolean, fromRunId?: string, render?: RenderLarge): Promise<Ack<{ run: RunInfo }>>;
  /** the room's runs, newest first */
  history(): Promise<Ack<{ runs: RunSummary[] }>>;
  /** one run's loss curve */
  curve(runId: string): Promise<Ack<{ history: IterationStats[] }>>;
  /** put a run's settings back into the room document (co-edits everyone sees) */
  restore(runId: string): Promise<Ack<{ version: number }>>;
  /** queue a sweep of the room's settings */
  sweep(request: Omit<StartSweep, "roomId">): Promise<Ack<{ sweep: SweepInfo }>>;
  /** make a sweep cell's values the room's and start the full-size run from its image */
  promote(sweepId: string, cell: number): Promise<Ack<{ run: RunInfo }>>;
  /** stop a going sweep (its starter or the room's owner): its running cell stops, its queued ones never run */
  cancelSweep(sweepId: string): Promise<Ack<{ sweep: SweepInfo }>>;
  /** paint a stroke into a style's region, or undo / clear my own strokes there (mask:edit) */
  mask(edit: MaskEditRequest): Promise<Ack<{ version: number; restartNeeded: boolean }>>;
  cancel(): Promise<Ack>;
  save(input: {
    runId: string;
    title: string;
    isPublic: boolean;
    preview: boolean;
  }): Promise<Ack<{ resultId: string }>>;
  dispose(): void;
}

class TokenError extends Error {}

async function fetchRealtimeToken(): Promise<RealtimeTokenResponse> {
  const res = await fetch("/api/realtime-token", { cache: "no-store" });
  if (res.status === 401) throw new TokenError("Your session has ended. Sign in again to rejoin the room.");
  if (!res.ok) throw new Error(`Could not get a realtime token (HTTP ${res.status}).`);
  return (await res.json()) as RealtimeTokenResponse;
}

const ACK_TIMEOUT_MS = 15_000;
const TOKEN_REFRESH_MS = 4 * 60_000;
const notConnected = {
  ok: false as const,
  code: "internal" as const,
  error: "not connected to the studio service; retrying…",
};

export function connectRoom(options: RealtimeOptions): RoomConnection {
  const { roomId, store, me, onPreview } = options;
  const fetchToken = options.fetchToken ?? fetchRealtimeToken;
  const editInterval = options.editIntervalMs ?? 120;
  let socket: RoomSocket | null = null;
  let refreshTimer: ReturnType<typeof setInterval> | null = null;
  let disposed = false;
  let nextOpId = 1;
  const latest = new Map<RoomField, { opId: number; value: unknown; sent: boolean }>();
  const timers = new Map<RoomField, ReturnType<typeof setTimeout>>();

  const dispatch = store.dispatch;

  function sendEdit(field: RoomField): void {
    const op = latest.get(field);
    if (!op || op.sent) return;
    op.sent = true;
    const s = socket;
    if (!s || !s.connected) {
      dispatch({ type: "edit-refused", field, opId: op.opId, error: notConnected.error });
      return;
    }
    s.timeout(ACK_TIMEOUT_MS).emit(
      "doc:edit",
      { roomId, field, value: op.value, baseVersion: store.getState().version },
      (err, reply) => {
        if (err)
          return dispatch({
            type: "edit-refused",
            field,
            opId: op.opId,
            error: "the studio service did not answer; your change may not be saved",
          });
        if (reply.ok) {
          dispatch({
            type: "edit-acked",
            field,
            opId: op.opId,
            version: reply.version,
            restartNeeded: reply.restartNeeded,
            author: me,
          });
        } else {
          dispatch({ type: "edit-refused", field, opId: op.opId, error: reply.error });
        }
      },
    );
  }

  function scheduleSend(field: RoomField): void {
    if (timers.has(field)) return; // the trailing send picks up the latest value
    sendEdit(field);
    timers.set(
      field,
      setTimeout(function tick() {
        timers.delete(field);
        const op = latest.get(field);
        if (op && !op.sent) {
          sendEdit(field);
          timers.set(field, setTimeout(tick, editInterval));
        }
      }, editInterval),
    );
  }

  function join(s: RoomSocket): void {
    s.timeout(ACK_TIMEOUT_MS).emit("room:join", { roomId, protocol: PROTOCOL_VERSION }, (err, reply) => {
      if (err)
        return dispatch({
          type: "error",
          error: "The studio service did not answer. Reconnect by reloading the page.",
        });
      if (!reply.ok) {
        const fatal = reply.code === "forbidden" || reply.code === "not_found" || reply.code === "outdated";
        dispatch({
          type: "error",
          fatal,
          error:
            reply.code === "forbidden"
              ? "You are not a member of this room."
              : reply.code === "outdated"
                ? "Atelier was updated since this page was opened: reload the page to rejoin the room."
                : reply.error,
        });
        return;
      }
      dispatch({ type: "room:state", state: reply.state });
    });
  }

  async function open(): Promise<void> {
    let first: RealtimeTokenResponse;
    try {
      first = await fetchToken();
    } catch (error) {
      dispatch({ type: "error", error: (error as Error).message, fatal: true });
      return;
    }
    if (disposed) return;
    let token: string | null = first.token;
    const s: RoomSocket = io(first.url, {
      // A fresh token for every (re)connection: tokens are short-lived.
      auth: (cb) => {
        if (token) {
          const t = token;
          token = null;
          return cb({ token: t });
        }
        fetchToken().then(
          (t) => cb({ token: t.token }),
          (error: Error) => {
            dispatch({ type: "error", error: error.message, fatal: error instanceof TokenError });
            cb({ token: "" });
          },
        );
      },
      reconnectionDelayMax: 8000,
    });
    socket = s;

    s.on("connect", () => {
      dispatch({ type: "connecting" });
      join(s);
    });
    s.on("disconnect", () => dispatch({ type: "disconnected" }));
    // Long sessions: the service checks the token while the socket lives, so a fresh one goes
    // to it well before the current one expires (tokens live 10 minutes).
    refreshTimer = setInterval(() => {
      if (!s.connected) return;
      fetchToken().then(
        (t) => s.emit("auth:refresh", { token: t.token }, () => undefined),
        () => undefined, // the next (re)connection fetches one again and reports what fails
      );
    }, TOKEN_REFRESH_MS);
    s.on("connect_error", (error) => {
      const unauthorized = String(error.message).startsWith("unauthorized");
      dispatch({
        type: "error",
        error: unauthorized
          ? "The studio service refused your session. Reload the page to sign in again."
          : "Cannot reach the studio service. Retrying…",
      });
    });
    const malformed = (event: ServerEvent, problem: string) => {
      console.error(`[atelier] ignored a malformed ${event} from the studio service: ${problem}`);
      dispatch({ type: "error", error: `The studio service sent an update this page cannot read (${event}); reload.` });
    };
    const on = <E extends ServerEvent>(event: E, handle: (payload: ServerEventPayload<E>) => void) =>
      onServerEvent(s, event, handle, malformed);
    on("room:state", (state) => state.roomId === roomId && dispatch({ type: "room:state", state }));
    on(
      "doc:changed",
      (p) =>
        p.roomId === roomId &&
        dispatch({ type: "doc:changed", field: p.field, value: p.value, author: p.author, version: p.version }),
    );
    on(
      "mask:changed",
      (p) =>
        p.roomId === roomId && dispatch({ type: "mask:changed", delta: p.delta, author: p.author, version: p.version }),
    );
    on("presence", (p) => p.roomId === roomId && dispatch({ type: "presence", members: p.members }));
    on("run:update", (p) => p.roomId === roomId && dispatch({ type: "run:update", run: p.run, speed: p.speed }));
    on("run:stats", ({ roomId: r, ...stats }) => r === roomId && dispatch({ type: "run:stats", stats }));
    on("room:restart-needed", (p) => p.roomId === roomId && dispatch({ type: "restart-needed", fields: p.fields }));
    on(
      "result:saved",
      (p) =>
        p.roomId === roomId &&
        dispatch({
          type: "result:saved",
          resultId: p.resultId,
          title: p.title,
          isPublic: p.isPublic,
          byName: p.author.name,
        }),
    );
    on("room:error", (p) => (p.roomId === roomId || p.roomId === null) && dispatch({ type: "error", error: p.error }));
    on("run:preview", (frame) => frame.roomId === roomId && onPreview(frame));
    on("room:activity", (activity) => activity.roomId === roomId && dispatch({ type: "activity", activity }));
    on("sweep:update", (p) => p.roomId === roomId && dispatch({ type: "sweep:update", sweep: p.sweep }));
    on("sweep:frame", (frame) => frame.roomId === roomId && dispatch({ type: "sweep:frame", frame }));
  }

  function request<T>(emit: (s: RoomSocket, cb: (err: Error | null, reply: Ack<T>) => void) => void): Promise<Ack<T>> {
    return new Promise((resolve) => {
      const s = socket;
      if (!s || !s.connected) return resolve(notConnected);
      emit(s, (err, reply) =>
        resolve(err ? { ok: false, code: "internal", error: "the studio service did not answer in time" } : reply),
      );
    });
  }

  void open();

  return {
    edit(field, value) {
      const opId = nextOpId++;
      latest.set(field, { opId, value, sent: false });
      dispatch({ type: "local-edit", field, value, opId });
      scheduleSend(field);
    },
    focus(field) {
      socket?.emit("presence:focus", { roomId, field });
    },
    start(restart, fromRunId, render) {
      return request((s, cb) =>
        s
          .timeout(ACK_TIMEOUT_MS)
          .emit(
            "run:start",
            { roomId, restart, ...(fromRunId ? { fromRunId } : {}), ...(render ? { render } : {}) },
            cb,
          ),
      );
    },
    history() {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("history:list", { roomId }, cb));
    },
    curve(runId) {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("history:curve", { roomId, runId }, cb));
    },
    restore(runId) {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("history:restore", { roomId, runId }, cb));
    },
    sweep(input) {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("sweep:start", { roomId, ...input }, cb));
    },
    promote(sweepId, cell) {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("sweep:promote", { roomId, sweepId, cell }, cb));
    },
    cancelSweep(sweepId) {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("sweep:cancel", { roomId, sweepId }, cb));
    },
    mask(edit) {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("mask:edit", { ...edit, roomId }, cb));
    },
    cancel() {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("run:cancel", { roomId }, cb));
    },
    save(input) {
      return request((s, cb) => s.timeout(ACK_TIMEOUT_MS).emit("result:save", { roomId, ...input }, cb));
    },
    dispose() {
      disposed = true;
      if (refreshTimer) clearInterval(refreshTimer);
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      if (socket) {
        socket.emit("room:leave", { roomId });
        socket.removeAllListeners();
        socket.disconnect();
      }
    },
  };
}
