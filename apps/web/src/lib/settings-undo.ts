/*
 * Per-person undo/redo of settings edits. Each person's stack holds only their own edits
 * (field, value before, value after); undoing sends the value before as an ordinary co-edit.
 * An edit someone else has since overwritten is no longer theirs to undo: it is skipped (and
 * dropped) rather than clobbering the other person's value.
 */
import type { RoomField } from "@atelier/protocol";

export interface SettingsEdit {
  field: RoomField;
  before: unknown;
  after: unknown;
}

export interface UndoStacks {
  undo: SettingsEdit[];
  redo: SettingsEdit[];
}

/** How many of one's own edits can be undone. */
const DEPTH = 100;

export const emptyUndo: UndoStacks = { undo: [], redo: [] };

/** Field values are JSON (numbers, strings, arrays of styles, masks): equal when they serialise alike. */
function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** A new edit of mine: on top of the undo stack; it ends any redo (the branch changed). No-op edits are not kept. */
export function recordEdit(stacks: UndoStacks, edit: SettingsEdit): UndoStacks {
  if (same(edit.before, edit.after)) return stacks;
  return { undo: [...stacks.undo, edit].slice(-DEPTH), redo: [] };
}

type Read = (field: RoomField) => unknown;

/**
 * Undo my latest edit whose field still holds what I set: the co-edit to send (field, value)
 * and the stacks after. Edits others have overwritten since are dropped on the way.
 */
export function takeUndo(stacks: UndoStacks, current: Read): { stacks: UndoStacks; send: SettingsEdit | null } {
  const undo = [...stacks.undo];
  while (undo.length > 0) {
    const edit = undo.pop()!;
    if (same(current(edit.field), edit.after))
      return {
        stacks: { undo, redo: [...stacks.redo, edit] },
        send: { ...edit, after: edit.before, before: edit.after },
      };
  }
  return { stacks: { undo, redo: stacks.redo }, send: null };
}

/** Redo the latest undone edit, if its field still holds the value the undo put back. */
export function takeRedo(stacks: UndoStacks, current: Read): { stacks: UndoStacks; send: SettingsEdit | null } {
  const redo = [...stacks.redo];
  while (redo.length > 0) {
    const edit = redo.pop()!;
    if (same(current(edit.field), edit.before)) return { stacks: { undo: [...stacks.undo, edit], redo }, send: edit };
  }
  return { stacks: { undo: stacks.undo, redo }, send: null };
}
