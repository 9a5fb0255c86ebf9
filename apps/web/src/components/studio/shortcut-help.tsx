"use client";

import { useEffect, useRef } from "react";
import { SHORTCUT_LIST } from "@/lib/shortcuts";

/** The keyboard shortcuts, listed ("?" opens it). */
export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    d?.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      className="m-auto w-[min(26rem,calc(100vw-2rem))] rounded-2xl border border-line bg-paper p-6 text-ink backdrop:bg-ink/40"
      aria-labelledby="shortcuts-title"
      data-testid="shortcut-help"
    >
      <h2 id="shortcuts-title" className="text-2xl">
        Keyboard shortcuts
      </h2>
      <p className="mt-1 text-sm text-muted">Outside text fields (a field keeps its own keys).</p>
      <dl className="mt-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
        {SHORTCUT_LIST.map(([keys, does]) => (
          <div key={keys} className="contents">
            <dt>
              <kbd className="rounded border border-line bg-line/30 px-1.5 py-0.5 font-mono text-xs">{keys}</kbd>
            </dt>
            <dd className="text-muted">{does}</dd>
          </div>
        ))}
      </dl>
      <div className="mt-5 flex justify-end">
        <button type="button" className="btn btn-primary" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
    </dialog>
  );
}

/** Undo / redo of my own settings edits, as buttons (Ctrl+Z / Ctrl+Shift+Z do the same). */
export function UndoButtons({
  history,
  disabled,
}: {
  history: { undo: () => boolean; redo: () => boolean; canUndo: boolean; canRedo: boolean };
  disabled: boolean;
}) {
  return (
    <div className="flex gap-1">
      <button
        type="button"
        className="btn btn-ghost btn-sm px-2"
        disabled={disabled || !history.canUndo}
        onClick={() => history.undo()}
        title="Undo your last settings change (Ctrl+Z)"
        data-testid="settings-undo"
      >
        ↶ Undo
      </button>
      <button
        type="button"
        className="btn btn-ghost btn-sm px-2"
        disabled={disabled || !history.canRedo}
        onClick={() => history.redo()}
        title="Redo (Ctrl+Shift+Z)"
        data-testid="settings-redo"
      >
        ↷ Redo
      </button>
    </div>
  );
}
