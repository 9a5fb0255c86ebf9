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
  const value = useMemo<StudioContextValue>(() => {
    const doc = visibleDocument(state) ?? initial.document;
    const role = state.role ?? initial.role;
    return {
      state,
      doc,
      me,
      dispatch: store.dispatch,
      editable: state.status === "joined" && canEdit(role),
      conn: {
        edit: (f, v) => connRef.current?.edit(f, v),
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
    };
  }, [state, me, store, initial.document, initial.role, onPreview]);

  return <StudioContext.Provider value={value}>{children}</StudioContext.Provider>;
}
