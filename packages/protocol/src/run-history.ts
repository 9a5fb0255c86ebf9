import { z } from "zod";
import { MAX_LOSS_HISTORY, iterationStats, type IterationStats } from "./events.ts";

/*
 * What a room keeps of its runs once they end: the loss curve (stored on the Run row, sent to
 * late joiners) — capped so one run's record stays bounded whatever its length.
 */

/** A run's kept loss curve, oldest point first, at most MAX_LOSS_HISTORY points. */
export const lossHistory = z.array(iterationStats).max(MAX_LOSS_HISTORY);

/** The newest `max` points of a loss curve (the start of a very long run is what gets dropped). */
export function capLossHistory(history: readonly IterationStats[], max = MAX_LOSS_HISTORY): IterationStats[] {
  return history.length > max ? history.slice(history.length - max) : [...history];
}
