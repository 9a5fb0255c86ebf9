/**
 * When a settings field's value goes to the room. A running job takes weight edits at its next
 * iteration, so every keystroke sent on its own would apply 1, 10, 100, 1000 in turn (a spike
 * in the loss). A typed number is held as a draft and committed once: on Enter, on blur, or
 * after a short pause; a slider commits when it is released (or held still).
 */
import { parseFieldValue, type RoomDocument, type RoomField } from "@atelier/protocol";
import { sentenceCase } from "./sentence";

/** Typing pauses longer than this commit the draft (people pause between numbers, not digits). */
export const IDLE_COMMIT_MS = 600;

export type DraftDecision<T> = { kind: "send"; value: T } | { kind: "unchanged" } | { kind: "invalid"; error: string };

/** What a number field's text means for the room: a value to send, nothing new, or why it cannot be sent. */
export function decideNumberDraft<F extends RoomField>(
  field: F,
  text: string,
  current: RoomDocument[F],
): DraftDecision<RoomDocument[F]> {
  const trimmed = text.trim();
  if (trimmed === "") return { kind: "invalid", error: "Enter a number." };
  const parsed = parseFieldValue(field, Number(trimmed));
  if (!parsed.ok) return { kind: "invalid", error: sentenceCase(parsed.error.replace(/^\w+: /, "")) };
  return parsed.value === current ? { kind: "unchanged" } : { kind: "send", value: parsed.value };
}

/**
 * Holds the latest value and commits it once after `delayMs` without a newer one, or at once on
 * flush() (Enter, blur, slider release). One commit per intent, however many values came before.
 * Each value comes with the function that commits it (made in the same render as the event, so
 * it sees the room as it was when the person acted).
 */
export class IdleCommitter<T> {
  private pending: { value: T; commit: (value: T) => void } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly delayMs = IDLE_COMMIT_MS) {}

  schedule(value: T, commit: (value: T) => void): void {
    this.pending = { value, commit };
    this.clearTimer();
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  /** Commits the held value now, if there is one. */
  flush(): void {
    this.clearTimer();
    const held = this.pending;
    this.pending = null;
    if (held) held.commit(held.value);
  }

  /** Drops the held value (the text went back to the room's value, or became invalid). */
  cancel(): void {
    this.clearTimer();
    this.pending = null;
  }

  get hasPending(): boolean {
    return this.pending !== null;
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
