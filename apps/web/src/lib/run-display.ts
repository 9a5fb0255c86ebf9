/*
 * What the run panel and the preview show around a start: pure decisions, so that no status
 * flashes by (the replaced run's "Cancelled" / "Finished") and an old frame is never taken for
 * the new run's.
 */
import type { RunInfo } from "@atelier/protocol";

const STATUS_TEXT: Record<RunInfo["status"], string> = {
  queued: "Queued",
  running: "Painting",
  completed: "Finished",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

/** A start or restart this client sent and the service has not answered yet. */
export type PendingStart = "start" | "restart" | null;

/**
 * The status line: while a start is on its way it says so, whatever the replaced run reports
 * meanwhile (a restart cancels it first); the new run's own status follows with the answer.
 */
export function runStatusText(run: Pick<RunInfo, "status"> | null, pending: PendingStart): string {
  if (pending) return "Starting…";
  return run ? STATUS_TEXT[run.status] : "Not started";
}

/**
 * Whose pixels the canvas holds: none yet, the room's current run, or an earlier run (stale:
 * kept on screen, marked, until the current run's first frame replaces it).
 */
export function frameFreshness(shownRunId: string | null, currentRunId: string | null): "none" | "current" | "stale" {
  if (shownRunId === null) return "none";
  return currentRunId !== null && shownRunId !== currentRunId ? "stale" : "current";
}

/**
 * What the empty canvas says: the run is on its way, or what is still missing before Start — a
 * room whose photo and style are both chosen (a remix) is ready, not waiting for choices.
 */
export function emptyCanvasText(
  runId: string | null,
  doc: { contentImageId: string | null; styles: readonly unknown[] },
  editable: boolean,
): { title: string; hint: string } {
  if (runId)
    return { title: "Waiting for the first brushstrokes…", hint: "Previews stream in as the optimiser works." };
  if (!doc.contentImageId || doc.styles.length === 0) {
    const missing =
      !doc.contentImageId && doc.styles.length === 0
        ? "a photo and a style"
        : !doc.contentImageId
          ? "a photo"
          : "a style";
    return {
      title: "The canvas is ready",
      hint: editable ? `Choose ${missing}, then press Start.` : `The editors choose ${missing}.`,
    };
  }
  return editable
    ? { title: "Ready to paint", hint: "The photo and style are chosen: press Start painting." }
    : { title: "Ready to paint", hint: "Waiting for an editor to press Start." };
}
