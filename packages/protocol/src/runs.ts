import { z } from "zod";
import { id } from "./ids.ts";
import { MAX_ITERATIONS } from "./params.ts";

/*
 * What a run is while it goes: its status and the statistics of each iteration. Shared by the
 * socket events (events.ts) and the kept history (run-history.ts), which both build on it.
 */

export const RUN_STATUSES = ["queued", "running", "completed", "failed", "cancelled", "interrupted"] as const;
export const runStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatus>;
export const FINISHED_STATUSES: RunStatus[] = ["completed", "failed", "cancelled", "interrupted"];

/**
 * How many loss points of one run the service keeps (and sends late joiners) and a client charts:
 * one per iteration of the longest run a room allows; a longer history drops its oldest points.
 */
export const MAX_LOSS_HISTORY = MAX_ITERATIONS;

export const iterationStats = z.object({
  runId: id,
  iteration: z.number().int(),
  /** 0-based index of the multi-scale level (0 when multi-scale is off) */
  scale: z.number().int(),
  total: z.number(),
  content: z.number(),
  style: z.record(z.string(), z.number()),
  tv: z.number(),
  ms: z.number(),
});
export type IterationStats = z.infer<typeof iterationStats>;
