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
