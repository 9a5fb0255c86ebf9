import { z } from "zod";
import { id } from "./ids.ts";
import { imageMime, type ImageMime } from "./image-types.ts";
import { roomDocument, roomField, runParams } from "./params.ts";
import { role } from "./roles.ts";
import { iterationStats, runStatus } from "./runs.ts";
import { speedModel } from "./speed.ts";
import { renderLarge } from "./render-large.ts";
import { maskDelta, maskEdit } from "./masks.ts";
import { runSummary } from "./run-history.ts";
import { cancelSweep, promoteSweepCell, startSweep, sweepFrame, sweepInfo, sweepUpdate } from "./sweeps.ts";

/*
 * Every Socket.IO event between the browser (apps/web) and the optimisation service
 * (apps/optimizer): one zod schema per payload. The service parses every incoming payload
 * with these schemas and answers invalid ones with an error ack, changing nothing.
 * Client→server events that change something take an ack callback `(reply: Ack<T>) => void`.
 */

/** Error codes an ack or `room:error` can carry. */
export const ERROR_CODES = [
  "invalid", // payload failed its schema
  "unauthorized", // no / bad / expired token
  "forbidden", // role does not allow it (viewer editing, not a member)
  "not_found", // room / run / image unknown
  "conflict", // e.g. a run is already going in this room
  "limit", // a per-user or operator-configured limit (sockets, active runs, size, iterations)
  "outdated", // the page speaks an older PROTOCOL_VERSION than the service: reload it
  "internal",
] as const;
export const errorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof errorCode>;

export type Ack<T = Record<string, never>> = ({ ok: true } & T) | { ok: false; code: ErrorCode; error: string };

// ───────────────────────────── client → server ─────────────────────────────

/**
 * The version of this event protocol. A client sends it with `room:join`; a service of another
 * version refuses the join with code "outdated" (the page must reload) instead of misreading
 * events whose shape changed. Bump it with any change an older page would misread.
 */
export const PROTOCOL_VERSION = 3;

/** `protocol`: the page's PROTOCOL_VERSION (missing: a page from before versions existed). */
export const joinRoom = z.object({ roomId: id, protocol: z.number().int().optional() });
export const leaveRoom = z.object({ roomId: id });

/** A fresh realtime token for a socket that stays open past its first token's expiry (long sessions). */
export const refreshToken = z.object({ token: z.string().min(1).max(4096) });

/** Edit one field. `baseVersion` is the document version the client saw; a stale edit is still applied (per field). */
export const editField = z.object({
  roomId: id,
  field: roomField,
  value: z.unknown(),
  baseVersion: z.number().int().min(0),
});

/** Which field this member is editing now (null: none) — shown in their colour to the others. */
export const focusField = z.object({ roomId: id, field: roomField.nullable() });

/**
 * Start a run from the current document. `restart`: cancel the current run and start again from its
 * current image. `fromRunId`: start from the image an earlier run of the room left (branching).
 * `render` (with `fromRunId`, a finished run): "Render large" — that run's own settings, only its
 * top level, at `render.size`, from its image upscaled (render-large.ts); the room's settings
 * are not touched.
 */
export const startRun = z
  .object({
    roomId: id,
    restart: z.boolean().default(false),
    fromRunId: id.optional(),
    render: renderLarge.optional(),
  })
  .refine((v) => !v.render || v.fromRunId !== undefined, {
    message: "a large render needs the run to render (fromRunId)",
    path: ["fromRunId"],
  });
export const cancelRun = z.object({ roomId: id });

/** Save the finished run's image (or, with `preview: true`, the latest preview of the running one) as a Result. */
export const saveResult = z.object({
  roomId: id,
  runId: id,
  title: z.string().trim().min(1, "give the result a title").max(120),
  isPublic: z.boolean(),
  preview: z.boolean().default(false),
});

// ───────────────────────────── run history ─────────────────────────────

/** The room's runs, newest first (at most MAX_HISTORY_RUNS). */
export const listRuns = z.object({ roomId: id });
/** One run's loss curve, to view it. */
export const runCurve = z.object({ roomId: id, runId: id });
/** Set the room document to a run's settings: one co-edit per field that differs. */
export const restoreRunSettings = z.object({ roomId: id, runId: id });

/** "resumed": the worker holding the run went away and another one continued it from its last checkpoint (author: the run's author) */
export const ACTIVITY_KINDS = ["restored-settings", "continued-from", "started-sweep", "promoted", "resumed"] as const;
/** Who did what in the room's history, for the activity line everyone sees. */
export const roomActivity = z.object({
  roomId: id,
  author: z.object({ userId: id, name: z.string() }),
  kind: z.enum(ACTIVITY_KINDS),
  /** the run it was about */
  runId: id,
  /** when (ms since the epoch, server clock) */
  at: z.number(),
});
export type RoomActivity = z.infer<typeof roomActivity>;

// ───────────────────────────── server → client ─────────────────────────────

export const member = z.object({
  userId: id,
  name: z.string(),
  color: z.string(), // CSS colour, stable per user
  role,
  editingField: roomField.nullable(),
});
export type Member = z.infer<typeof member>;

export const author = z.object({ userId: id, name: z.string() });
export type Author = z.infer<typeof author>;

export const presence = z.object({ roomId: id, members: z.array(member) });

export const fieldChanged = z.object({
  roomId: id,
  field: roomField,
  value: z.unknown(),
  author,
  version: z.number().int(),
});

/** One change of the style regions (a stroke added or strokes removed), never the whole layer set. */
export const maskChanged = z.object({
  roomId: id,
  delta: maskDelta,
  author,
  version: z.number().int(),
});

/** Per-iteration statistics of the room's run; `style` is the weighted style loss per layer. */
export const runStats = iterationStats.extend({ roomId: id });

export const runInfo = z.object({
  runId: id,
  status: runStatus,
  authorId: id,
  params: runParams,
  iteration: z.number().int(),
  iterations: z.number().int(),
  /** 1-based position in the queue while queued */
  queuePosition: z.number().int().nullable(),
  /** seconds until done (running) or until it starts (queued); null when unknown */
  etaSeconds: z.number().nullable(),
  error: z.string().nullable(),
  /** ids of Results saved from this run */
  resultIds: z.array(id),
  /** the image the run left, once it ended (an Image id); optional for older senders */
  finalImageId: id.nullable().optional(),
});
export type RunInfo = z.infer<typeof runInfo>;

export const runUpdate = z.object({
  roomId: id,
  run: runInfo,
  /** the service's painting speed now (a completed run may just have changed it): keeps the studio's estimate current */
  speed: speedModel.optional(),
});

/** Binary preview frame: `data` is the encoded image (Buffer on the server, ArrayBuffer in the browser). */
/** The image types a preview frame may be encoded as (the worker encodes, clients decode): any Atelier image type. */
export type PreviewMime = ImageMime;

export const preview = z.object({
  roomId: id,
  runId: id,
  iteration: z.number().int(),
  mime: imageMime,
  width: z.number().int(),
  height: z.number().int(),
  data: z.custom<Uint8Array | ArrayBuffer>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer),
  /** when the frame was encoded (ms since the epoch, server clock): lets clients and benchmarks measure delivery latency */
  encodedAt: z.number().optional(),
});
export type Preview = z.infer<typeof preview>;

/** Everything a (late) joiner needs. The latest preview follows as a separate `run:preview`. */
export const roomState = z.object({
  roomId: id,
  name: z.string(),
  role,
  document: roomDocument,
  version: z.number().int(),
  members: z.array(member),
  run: runInfo.nullable(),
  history: z.array(iterationStats),
  /** fields edited during the current run that only take effect after a restart */
  restartNeeded: z.array(roomField),
  /**
   * Who last changed each field, as far as the server knows (fields nobody changed since the
   * room was loaded have none). Optional with default `{}` so older senders still parse.
   */
  fieldAuthors: z.partialRecord(roomField, author).optional().default({}),
  /** the operator's caps on this optimiser (runs above them are refused); optional for older senders */
  limits: z.object({ maxSize: z.number().int(), maxIterations: z.number().int() }).optional(),
  /** this deployment's painting speed, for the estimate shown before Start; optional for older senders */
  speed: speedModel.optional(),
});
export type RoomState = z.infer<typeof roomState>;

export const restartNeeded = z.object({ roomId: id, fields: z.array(roomField) });

export const resultSaved = z.object({
  roomId: id,
  runId: id,
  resultId: id,
  title: z.string(),
  isPublic: z.boolean(),
  author,
});

export const roomError = z.object({ roomId: id.nullable(), code: errorCode, error: z.string() });
export type RoomError = z.infer<typeof roomError>;

export type JoinRoom = z.infer<typeof joinRoom>;
export type EditField = z.infer<typeof editField>;
export type FocusField = z.infer<typeof focusField>;
export type StartRun = z.input<typeof startRun>;
export type CancelRun = z.infer<typeof cancelRun>;
export type SaveResult = z.input<typeof saveResult>;
export type Presence = z.infer<typeof presence>;
export type FieldChanged = z.infer<typeof fieldChanged>;
export type RunStatsEvent = z.infer<typeof runStats>;
export type RunUpdate = z.infer<typeof runUpdate>;
export type RestartNeeded = z.infer<typeof restartNeeded>;
export type ResultSaved = z.infer<typeof resultSaved>;

/** Schemas of the server→client payloads, keyed by event name: clients (and the tests) validate with these. */
export const serverEventSchemas = {
  "room:state": roomState,
  presence,
  "doc:changed": fieldChanged,
  "mask:changed": maskChanged,
  "run:update": runUpdate,
  "run:stats": runStats,
  "run:preview": preview,
  "room:restart-needed": restartNeeded,
  "result:saved": resultSaved,
  "room:error": roomError,
  "room:activity": roomActivity,
  "sweep:update": sweepUpdate,
  "sweep:frame": sweepFrame,
} as const;
export type ServerEvent = keyof typeof serverEventSchemas;
/** What the server sends with `event` (the schema's output: defaults filled in). */
export type ServerEventPayload<E extends ServerEvent> = z.infer<(typeof serverEventSchemas)[E]>;

export type ServerToClientEvents = { [E in ServerEvent]: (p: ServerEventPayload<E>) => void };

// ───────────────────────────── the client event table ─────────────────────────────

const noReply = z.object({});
const versionReply = z.object({ version: z.number().int(), restartNeeded: z.boolean() });

/**
 * Every client→server event: the schema its payload must pass (the service checks it before a
 * handler runs), the reply its ack carries on success, and whether the ack is optional. The
 * handlers' types and the clients' typed-event map derive from this one table.
 */
export const clientEvents = {
  "room:join": { input: joinRoom, reply: z.object({ state: roomState }) },
  "room:leave": { input: leaveRoom, reply: noReply, ackOptional: true },
  "doc:edit": { input: editField, reply: versionReply },
  "presence:focus": { input: focusField, reply: noReply, ackOptional: true },
  "run:start": { input: startRun, reply: z.object({ run: runInfo }) },
  "run:cancel": { input: cancelRun, reply: noReply },
  "result:save": { input: saveResult, reply: z.object({ resultId: id }) },
  "history:list": { input: listRuns, reply: z.object({ runs: z.array(runSummary) }) },
  "history:curve": { input: runCurve, reply: z.object({ history: z.array(iterationStats) }) },
  "history:restore": { input: restoreRunSettings, reply: z.object({ version: z.number().int() }) },
  "sweep:start": { input: startSweep, reply: z.object({ sweep: sweepInfo }) },
  "sweep:promote": { input: promoteSweepCell, reply: z.object({ run: runInfo }) },
  "sweep:cancel": { input: cancelSweep, reply: z.object({ sweep: sweepInfo }) },
  "mask:edit": { input: maskEdit, reply: versionReply },
  "auth:refresh": { input: refreshToken, reply: z.object({ expiresAt: z.number() }) },
} as const;

export type ClientEvent = keyof typeof clientEvents;
/** What a client sends with `event` (the schema's input: defaults may be left out). */
export type ClientRequest<E extends ClientEvent> = z.input<(typeof clientEvents)[E]["input"]>;
/** What a handler of `event` receives: the payload after its schema (defaults filled in). */
export type ClientPayload<E extends ClientEvent> = z.output<(typeof clientEvents)[E]["input"]>;
/** What the ack of `event` carries besides `ok: true`. */
export type ClientReply<E extends ClientEvent> = z.infer<(typeof clientEvents)[E]["reply"]>;
type ClientAck<E extends ClientEvent> = (reply: Ack<ClientReply<E>>) => void;

/** Socket.IO typed-event maps, for `Server<ClientToServerEvents, ServerToClientEvents>` and `Socket<ServerToClientEvents, ClientToServerEvents>`. */
export type ClientToServerEvents = {
  [E in ClientEvent]: (typeof clientEvents)[E] extends { ackOptional: true }
    ? (payload: ClientRequest<E>, ack?: ClientAck<E>) => void
    : (payload: ClientRequest<E>, ack: ClientAck<E>) => void;
};
