"use client";

import { useEffect, useRef } from "react";
import { shortcutFor, type FocusKind, type ShortcutAction } from "@/lib/shortcuts";

const TEXT_INPUTS = new Set(["text", "number", "email", "password", "search", "url", "tel", "date", "time"]);

/** What kind of thing has the key press: the DOM side of shortcutFor's decision. */
function focusKindOf(target: EventTarget | null): FocusKind {
  if (!(target instanceof HTMLElement)) return "page";
  if (target.closest("dialog")) return "dialog";
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement)
    return "text";
  if (target instanceof HTMLInputElement) return TEXT_INPUTS.has(target.type) ? "text" : "control";
  if (target.closest("button, a[href], summary, [role=button], [role=tab]")) return "control";
  return "page";
}

/**
 * Listens for the studio's shortcuts; `handle` returns true for an action it took (the key's
 * default is then prevented). Several parts of the studio listen, each taking its own actions.
 */
export function useShortcuts(handle: (action: ShortcutAction) => boolean): void {
  const handler = useRef(handle);
  useEffect(() => {
    handler.current = handle;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.repeat) return;
      const action = shortcutFor(e, focusKindOf(e.target));
      if (action && handler.current(action)) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
