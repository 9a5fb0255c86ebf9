/*
 * Client-side room state: a pure reducer plus a tiny subscribable store (no React, no socket),
 * so every reconciliation rule is unit-testable.
 *
 * Co-editing is per-field last-writer-wins ordered by the server's document version. The
 * client keeps the last confirmed server document plus its own pending (optimistic) edits laid
 * over it; an edit stops being pending when the server acknowledges it (or refuses it).
 */
import {
  MAX_LOSS_HISTORY,
  applyMaskDelta,
  ROOM_FIELDS,
  type IterationStats,
  type MaskDelta,
  type Member,
  type RoomDocument,
  type RoomActivity,
  type RoomField,
  type RoomState,
  type RunInfo,
  type SweepFrame,
  type SweepInfo,
} from "@atelier/protocol";

/** Who last changed a field, and at which document version (from a snapshot: the snapshot's version, an upper bound). */
interface FieldChange {
  userId: string;
  name: string;
  version: number;
}

interface PendingEdit {
  opId: number;
  value: unknown;
}

type ConnectionStatus = "connecting" | "joined" | "reconnecting" | "error";

export interface RoomClientState {
  status: ConnectionStatus;
  error: string | null;
  roomId: string;
  name: string;
  role: RoomState["role"] | null;
  /** the document as the server last confirmed it */
  confirmed: RoomDocument | null;
  /** highest document version seen */
  version: number;
  /** version at which each field last changed (from the server's point of view) */
  fieldVersions: Partial<Record<RoomField, number>>;
  lastChange: Partial<Record<RoomField, FieldChange>>;
  /** the latest unacknowledged local edit per field */
  pending: Partial<Record<RoomField, PendingEdit>>;
  members: Member[];
  run: RunInfo | null;
  /** loss history of the current run, in iteration order */
  history: IterationStats[];
  restartNeeded: RoomField[];
  /** the optimiser's caps on size and iterations (from its room state), when known */
  limits: RoomState["limits"] | null;
  /** the optimiser's painting speed (its room state), for the estimate before Start */
  speed: RoomState["speed"] | null;
  /** latest save notice, for "saved by …" toasts */
  lastSaved: { resultId: string; title: string; isPublic: boolean; byName: string } | null;
  /** latest history action someone took (restored settings, continued from a run), for the activity line */
  lastActivity: RoomActivity | null;
  /** the room's latest sweep, and each of its cells' latest frame */
  sweep: SweepInfo | null;
  sweepFrames: Record<number, SweepFrame>;
}

export type RoomAction =
  | { type: "connecting" }
  | { type: "disconnected" }
  /** fatal: the room cannot be used (not a member, signed out); otherwise a message to show */
  | { type: "error"; error: string; fatal?: boolean }
  | { type: "dismiss-error" }
  /** the server-rendered document, shown (read-only) until the live state arrives */
  | { type: "prime"; state: RoomState }
  | { type: "room:state"; state: RoomState }
  | { type: "doc:changed"; field: RoomField; value: unknown; author: { userId: string; name: string }; version: number }
  /** one stroke added or strokes removed: the style regions change by this delta, never sent whole */
  | { type: "mask:changed"; delta: MaskDelta; author: { userId: string; name: string }; version: number }
  | { type: "presence"; members: Member[] }
  | { type: "run:update"; run: RunInfo; speed?: RoomState["speed"] }
  | { type: "run:stats"; stats: IterationStats }
  | { type: "restart-needed"; fields: RoomField[] }
  | { type: "result:saved"; resultId: string; title: string; isPublic: boolean; byName: string }
  | { type: "activity"; activity: RoomActivity }
  | { type: "sweep:update"; sweep: SweepInfo }
  | { type: "sweep:frame"; frame: SweepFrame }
  | { type: "local-edit"; field: RoomField; value: unknown; opId: number }
  | {
      type: "edit-acked";
      field: RoomField;
      opId: number;
      version: number;
      restartNeeded: boolean;
      author: { userId: string; name: string };
    }
  | { type: "edit-refused"; field: RoomField; opId: number; error: string };

export function initialRoomState(roomId: string): RoomClientState {
  return {
    status: "connecting",
    error: null,
    roomId,
    name: "",
    role: null,
    confirmed: null,
    version: 0,
    fieldVersions: {},
    lastChange: {},
    pending: {},
    members: [],
    run: null,
    history: [],
    restartNeeded: [],
    limits: null,
    speed: null,
    lastSaved: null,
    lastActivity: null,
    sweep: null,
    sweepFrames: {},
  };
}

/** The document as this client should show it: confirmed values with pending local edits on top. */
export function visibleDocument(s: RoomClientState): RoomDocument | null {
  if (!s.confirmed) return null;
  const pendingFields = Object.keys(s.pending) as RoomField[];
  if (pendingFields.length === 0) return s.confirmed;
  const doc: Record<string, unknown> = { ...s.confirmed };
  for (const f of pendingFields) doc[f] = s.pending[f]!.value;
  return doc as RoomDocument;
}

function withoutKey<K extends string, V>(rec: Partial<Record<K, V>>, key: K): Partial<Record<K, V>> {
  const next = { ...rec };
  delete next[key];
  return next;
}

function appendHistory(history: IterationStats[], stats: IterationStats): IterationStats[] {
  const last = history[history.length - 1];
  // A different run, or an iteration we already have (replayed after a rejoin): start over / skip.
  if (last && last.runId !== stats.runId) return [stats];
  if (last && (stats.scale < last.scale || (stats.scale === last.scale && stats.iteration <= last.iteration))) {
    return history;
  }
  const next =
    history.length >= MAX_LOSS_HISTORY ? history.slice(history.length - MAX_LOSS_HISTORY + 1) : history.slice();
  next.push(stats);
  return next;
}

/**
 * Who last changed each field, after a snapshot: the server's word where it has one; otherwise
 * what we already knew, but only while the field still holds the value we knew (the server
 * keeps authors in memory, so after its restart it may know none; a note must never name
 * someone for a value they did not set).
 */
function snapshotAuthors(s: RoomClientState, st: RoomState): Partial<Record<RoomField, FieldChange>> {
  // an older server sends no fieldAuthors (the client does not parse, so no zod default)
  const authors = st.fieldAuthors ?? {};
  const next: Partial<Record<RoomField, FieldChange>> = {};
  for (const f of ROOM_FIELDS) {
    const author = authors[f];
    const known = s.lastChange[f];
    if (author) next[f] = { userId: author.userId, name: author.name, version: st.version };
    else if (known && s.confirmed && sameValue(s.confirmed[f], st.document[f])) next[f] = known;
  }
  return next;
}

/** Field values are JSON; two encodings that differ only in key order count as different (the note is then dropped, never wrong). */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export function roomReducer(s: RoomClientState, a: RoomAction): RoomClientState {
  switch (a.type) {
    case "connecting":
      return {
        ...s,
        status: s.status === "joined" || s.status === "reconnecting" ? "reconnecting" : "connecting",
        error: null,
      };
    case "disconnected":
      return { ...s, status: "reconnecting" };
    case "error":
      return { ...s, status: a.fatal ? "error" : s.status, error: a.error };
    case "dismiss-error":
      return s.error === null ? s : { ...s, error: null };
    case "prime":
      return s.confirmed ? s : { ...roomReducer(s, { type: "room:state", state: a.state }), status: s.status };

    case "room:state": {
      const st = a.state;
      // A snapshot replaces everything the server owns; an older snapshot than what we already
      // applied (a late reply racing live events) must not roll the document back.
      if (s.confirmed && st.version < s.version) {
        return {
          ...s,
          status: "joined",
          error: null,
          members: st.members,
          role: st.role,
          limits: st.limits ?? s.limits,
          speed: st.speed ?? s.speed,
        };
      }
      // Everything up to the snapshot's version is in the snapshot: older field changes are stale.
      const fieldVersions: Partial<Record<RoomField, number>> = {};
      for (const f of ROOM_FIELDS) fieldVersions[f] = st.version;
      const lastChange = snapshotAuthors(s, st);
      const sameRun = s.run && st.run && s.run.runId === st.run.runId;
      return {
        ...s,
        status: "joined",
        error: null,
        name: st.name,
        role: st.role,
        limits: st.limits ?? s.limits,
        speed: st.speed ?? s.speed,
        confirmed: st.document,
        version: st.version,
        fieldVersions,
        lastChange,
        members: st.members,
        run: st.run,
        // the snapshot's history is authoritative; keep ours only if it is longer for the same run
        history: sameRun && s.history.length > st.history.length ? s.history : st.history.slice(-MAX_LOSS_HISTORY),
        restartNeeded: st.restartNeeded,
      };
    }

    case "doc:changed": {
      if (!s.confirmed) return s;
      // Stale: this change is already part of what we have (duplicate or older than a snapshot).
      if (a.version <= (s.fieldVersions[a.field] ?? 0)) return s;
      return {
        ...s,
        confirmed: { ...s.confirmed, [a.field]: a.value },
        version: Math.max(s.version, a.version),
        fieldVersions: { ...s.fieldVersions, [a.field]: a.version },
        lastChange: { ...s.lastChange, [a.field]: { ...a.author, version: a.version } },
      };
    }

    case "mask:changed": {
      if (!s.confirmed) return s;
      // already part of what we have (a duplicate, or older than the snapshot we joined with)
      if (a.version <= (s.fieldVersions.masks ?? 0)) return s;
      const styleIds = s.confirmed.styles.map((style) => style.imageId);
      return {
        ...s,
        confirmed: { ...s.confirmed, masks: applyMaskDelta(s.confirmed.masks, a.delta, styleIds) },
        version: Math.max(s.version, a.version),
        fieldVersions: { ...s.fieldVersions, masks: a.version },
        lastChange: { ...s.lastChange, masks: { ...a.author, version: a.version } },
      };
    }

    case "local-edit":
      return { ...s, pending: { ...s.pending, [a.field]: { opId: a.opId, value: a.value } } };

    case "edit-acked": {
      const p = s.pending[a.field];
      if (!p || p.opId !== a.opId) {
        // An older edit of a field we have edited again since: the newer one is still pending.
        return { ...s, version: Math.max(s.version, a.version) };
      }
      const pending = withoutKey(s.pending, a.field);
      const restartNeeded =
        a.restartNeeded && !s.restartNeeded.includes(a.field) ? [...s.restartNeeded, a.field] : s.restartNeeded;
      // If someone else's change to this field landed after ours, theirs wins (LWW by version).
      if (!s.confirmed || a.version <= (s.fieldVersions[a.field] ?? 0)) {
        return { ...s, pending, version: Math.max(s.version, a.version), restartNeeded };
      }
      return {
        ...s,
        pending,
        restartNeeded,
        confirmed: { ...s.confirmed, [a.field]: p.value },
        version: Math.max(s.version, a.version),
        fieldVersions: { ...s.fieldVersions, [a.field]: a.version },
        lastChange: { ...s.lastChange, [a.field]: { ...a.author, version: a.version } },
      };
    }

    case "edit-refused": {
      const p = s.pending[a.field];
      const pending = p && p.opId === a.opId ? withoutKey(s.pending, a.field) : s.pending;
      return { ...s, pending, error: a.error };
    }

    case "presence":
      return { ...s, members: a.members };

    case "run:update": {
      const newRun = !s.run || s.run.runId !== a.run.runId;
      const history = newRun && s.history[0]?.runId !== a.run.runId ? [] : s.history;
      // A fresh run takes the current document: nothing is waiting for a restart any more.
      const restartNeeded = newRun ? [] : s.restartNeeded;
      return { ...s, run: a.run, history, restartNeeded, speed: a.speed ?? s.speed };
    }

    case "run:stats": {
      if (s.run && s.run.runId !== a.stats.runId) return s; // stats of a run we no longer show
      const history = appendHistory(s.history, a.stats);
      if (history === s.history) return s;
      const run = s.run ? { ...s.run, iteration: Math.max(s.run.iteration, a.stats.iteration) } : s.run;
      return { ...s, history, run };
    }

    case "restart-needed":
      return { ...s, restartNeeded: a.fields };

    case "result:saved":
      return { ...s, lastSaved: { resultId: a.resultId, title: a.title, isPublic: a.isPublic, byName: a.byName } };

    case "activity":
      return { ...s, lastActivity: a.activity };

    case "sweep:update": {
      // a new sweep starts with an empty grid
      const same = s.sweep?.sweepId === a.sweep.sweepId;
      return { ...s, sweep: a.sweep, sweepFrames: same ? s.sweepFrames : {} };
    }

    case "sweep:frame": {
      if (s.sweep?.sweepId !== a.frame.sweepId) return s; // a frame of a sweep we no longer show
      const shown = s.sweepFrames[a.frame.cell];
      // the final image (PNG) of a cell is never replaced by a late live frame of it
      if (
        shown &&
        (shown.iteration > a.frame.iteration || (shown.mime === "image/png" && a.frame.mime !== "image/png"))
      )
        return s;
      return { ...s, sweepFrames: { ...s.sweepFrames, [a.frame.cell]: a.frame } };
    }
  }
}

// Property signatures, not methods: the studio passes these around unbound (useSyncExternalStore).
export interface RoomStore {
  getState: () => RoomClientState;
  dispatch: (action: RoomAction) => void;
  subscribe: (listener: () => void) => () => void;
}

export function createRoomStore(roomId: string): RoomStore {
  let state = initialRoomState(roomId);
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(action) {
      const next = roomReducer(state, action);
      if (next === state) return;
      state = next;
      for (const l of listeners) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Mean seconds per iteration over the last `window` iterations of the history. */
export function secondsPerIteration(history: IterationStats[], window = 10): number | null {
  if (history.length === 0) return null;
  const tail = history.slice(-window);
  return tail.reduce((sum, h) => sum + h.ms, 0) / tail.length / 1000;
}
