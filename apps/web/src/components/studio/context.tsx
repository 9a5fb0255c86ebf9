"use client";

import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import {
  canEdit,
  type Member,
  type Preview,
  type RoomDocument,
  type RoomField,
  type RoomState,
} from "@atelier/protocol";
import { createRoomStore, visibleDocument, type RoomClientState, type RoomStore } from "@/lib/room-store";
import { emptyUndo, recordEdit, takeRedo, takeUndo, type UndoStacks } from "@/lib/settings-undo";
import { connectRoom, type RoomConnection } from "@/lib/realtime";

export interface Me {
  userId: string;
  name: string;
}

export interface StudioContextValue {
  state: RoomClientState;
  doc: RoomDocument;
  conn: RoomConnection;
  /** local-only store actions (e.g. dismissing a message) */
  dispatch: RoomStore["dispatch"];
  me: Me;
  /** the user may change the document and runs (joined, and owner/editor) */
  editable: boolean;
  /** other members currently editing `field` */
  editorsOf: (field: RoomField) => Member[];
  /** frame listeners (the preview canvas subscribes) */
  onPreview: (listener: (frame: Preview) => void) => () => void;
  /** undo/redo of my own settings edits (sent as ordinary co-edits) */
  history: { undo: () => boolean; redo: () => boolean; canUndo: boolean; canRedo: boolean };
}

const StudioContext = createContext<StudioContextValue | null>(null);

export function useStudio(): StudioContextValue {
  const value = useContext(StudioContext);
  if (!value) throw new Error("useStudio outside <StudioProvider>");
  return value;
}

/** Owns the room store and the realtime connection for as long as the studio is open. */
export function StudioProvider({ initial, me, children }: { initial: RoomState; me: Me; children: React.ReactNode }) {
  // Created once per mounted studio (a lazy state initialiser runs on the first render only).
  const [store] = useState(() => {
    const created = createRoomStore(initial.roomId);
    created.dispatch({ type: "prime", state: initial });
    return created;
  });
  const previewListeners = useRef(new Set<(frame: Preview) => void>());
  const connRef = useRef<RoomConnection | null>(null);
  // Stable for the studio's lifetime: a new function per state change would make the preview
  // canvas re-subscribe (and drop its pending frame) on every stats update.
  const onPreview = useCallback((listener: (frame: Preview) => void) => {
    previewListeners.current.add(listener);
    return () => {
      previewListeners.current.delete(listener);
    };
  }, []);

  useEffect(() => {
    const conn = connectRoom({
      roomId: initial.roomId,
      store,
      me: { userId: me.userId, name: me.name },
      onPreview: (frame) => {
        for (const l of previewListeners.current) l(frame);
      },
    });
    connRef.current = conn;
    return () => {
      conn.dispose();
      connRef.current = null;
    };
  }, [initial.roomId, store, me.userId, me.name]);

  const state = useSyncExternalStore(store.subscribe, store.getState, store.getState);
  const [undoStacks, setUndoStacks] = useState<UndoStacks>(emptyUndo);
  const undoRef = useRef(undoStacks);
  const value = useMemo<StudioContextValue>(() => {
    const doc = visibleDocument(state) ?? initial.document;
    const setStacks = (next: UndoStacks) => {
      undoRef.current = next;
      setUndoStacks(next);
    };
    const step = (take: typeof takeUndo) => {
      const { stacks, send } = take(undoRef.current, (field) => doc[field]);
      setStacks(stacks);
      if (send) connRef.current?.edit(send.field, send.after);
      return send !== null;
    };
    const role = state.role ?? initial.role;
    return {
      state,
      doc,
      me,
      dispatch: store.dispatch,
      editable: state.status === "joined" && canEdit(role),
      conn: {
        edit: (f, v) => {
          setStacks(recordEdit(undoRef.current, { field: f, before: doc[f], after: v }));
          connRef.current?.edit(f, v);
        },
        focus: (f) => connRef.current?.focus(f),
        start: (r, from) =>
          connRef.current?.start(r, from) ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        history: () =>
          connRef.current?.history() ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        curve: (id) =>
          connRef.current?.curve(id) ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        restore: (id) =>
          connRef.current?.restore(id) ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        sweep: (r) =>
          connRef.current?.sweep(r) ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        promote: (id, cell) =>
          connRef.current?.promote(id, cell) ??
          Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        cancelSweep: (id) =>
          connRef.current?.cancelSweep(id) ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        mask: (e) =>
          connRef.current?.mask(e) ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        cancel: () =>
          connRef.current?.cancel() ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        save: (i) =>
          connRef.current?.save(i) ?? Promise.resolve({ ok: false, code: "internal", error: "not connected" }),
        dispose: () => connRef.current?.dispose(),
      },
      editorsOf: (field) => state.members.filter((m) => m.editingField === field && m.userId !== me.userId),
      onPreview,
      history: {
        undo: () => step(takeUndo),
        redo: () => step(takeRedo),
        canUndo: undoStacks.undo.length > 0,
        canRedo: undoStacks.redo.length > 0,
      },
    };
  }, [state, me, store, initial.document, initial.role, onPreview, undoStacks]);

  return <StudioContext.Provider value={value}>{children}</StudioContext.Provider>;
}
