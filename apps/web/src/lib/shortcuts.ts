/*
 * The studio's keyboard shortcuts: which key does what, decided from the key and where focus
 * is. Keys typed into a text field stay the field's (its own Ctrl+Z, Enter and brackets);
 * Enter and Space on a button or checkbox stay that control's.
 */
export type ShortcutAction = "start" | "cancel" | "undo" | "redo" | "brush-smaller" | "brush-larger" | "help";

/** Where the key was pressed: a text entry, another control (button, checkbox, slider, link), a dialog, or the page. */
export type FocusKind = "text" | "control" | "dialog" | "page";

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

export function shortcutFor(press: KeyPress, focus: FocusKind): ShortcutAction | null {
  if (focus === "dialog" || focus === "text") return null;
  const key = press.key.length === 1 ? press.key.toLowerCase() : press.key;
  if ((press.ctrlKey || press.metaKey) && !press.altKey) {
    if (key === "z") return press.shiftKey ? "redo" : "undo";
    if (key === "y" && !press.shiftKey) return "redo";
    return null;
  }
  if (press.ctrlKey || press.metaKey || press.altKey) return null;
  switch (key) {
    case "Enter":
    case " ":
      return focus === "page" ? "start" : null;
    case "Escape":
      return "cancel";
    case "[":
      return "brush-smaller";
    case "]":
      return "brush-larger";
    case "?":
      return "help";
    default:
      return null;
  }
}

/** The list "?" opens. */
export const SHORTCUT_LIST: Array<[keys: string, does: string]> = [
  ["Enter or Space", "start painting (when no run is going)"],
  ["Esc", "cancel the run (asks first)"],
  ["Ctrl+Z", "undo your last settings change"],
  ["Ctrl+Shift+Z or Ctrl+Y", "redo it"],
  ["[ and ]", "smaller or larger region brush"],
  ["?", "this list"],
];

/** The next brush size for "[" / "]": 25 % steps, kept within the painter's bounds. */
export function stepBrush(size: number, action: "brush-smaller" | "brush-larger", min: number, max: number): number {
  const next = action === "brush-larger" ? size * 1.25 : size / 1.25;
  return Math.min(max, Math.max(min, Math.round(next * 1000) / 1000));
}
