import { z } from "zod";
import { id } from "./ids.ts";
import { preview, runInfo } from "./events.ts";
import { iterationStats } from "./runs.ts";
import { roomField, runParams } from "./params.ts";
import { sweepAxis, sweepFrame, sweepInfo, sweepParam } from "./sweeps.ts";

/*
 * Cluster runs (REDIS_URL): what workers, the dispatcher and gateways tell each other about
 * runs through Redis. One schema per message, checked where it enters (a worker parsing a job
 * or a control message, a gateway parsing a run event); a message that fails is dropped and
 * logged. Channels and keys (prefix `atelier:` unless configured):
 *   - BullMQ queue `runs` (keys `<prefix>bull:runs:*`): job id = run id, data = runJobData; CPU
 *     workers take from it, GPU workers from `runs-gpu` (the optimiser's cluster/placement.ts
 *     decides which, `<prefix>placed`: hash job id → the worker chosen)
 *   - pub/sub `<prefix>run-events`: runEvent, from workers and the dispatcher to every gateway
 *   - pub/sub `<prefix>run-control:<runId>`: runControl, from gateways to the worker holding the run
 *   - `<prefix>run:<runId>:history` (capped list of iterationStats JSON), `<prefix>run:<runId>:info`
 *     (the latest runInfo JSON), `<prefix>run:<runId>:preview` (the latest preview event JSON):
 *     what a late joiner on any gateway needs while the run lives
 *   - `<prefix>worker:<workerId>` (workerSlots JSON, expires unless renewed): the free capacity
 *   - `<prefix>dispatcher` (SET NX PX lease): which gateway dispatches
 *   - sweeps (sweep-store.ts): one BullMQ job per cell, job name "sweep" (job id =
 *     `<sweepId>-cell-<index>`, data = sweepJobData) in the same queues; `<prefix>sweep:<sweepId>:job`
 *     (clusterSweep), `:info` (sweepInfo), `:frames` (hash cell → clusterSweepFrame);
 *     `<prefix>room:<roomId>:sweep` (the room's latest sweep), `:sweep-going` (set while one goes:
 *     one at a time per room); `<prefix>sweeps:waiting` (sweeps whose next cell waits, scored by
 *     when it was queued) and `<prefix>sweeps:held` (a cell handed to the workers, not ended)
 */

/** The data of a BullMQ run job: the run's id; the worker reads everything else from its Run row. */
export const runJobData = z.object({ runId: id });
export type RunJobData = z.infer<typeof runJobData>;

/**
 * The data of a BullMQ sweep job (job name "sweep"): ONE cell of a sweep (its index), so the
 * sweep's cells take their turns in the fair order like other jobs; the worker reads the sweep
 * from Redis.
 */
export const sweepJobData = z.object({ sweepId: id, cell: z.number().int().min(0) });

/**
 * A sweep as queued in the cluster (`<prefix>sweep:<sweepId>:job`): everything a worker needs
 * to run its cells; its public state (sweepInfo) and frames live beside it.
 */
export const clusterSweep = z.object({
  sweepId: id,
  roomId: id,
  author: z.object({ id, name: z.string().max(200) }),
  cells: z.array(
    z.object({ index: z.number().int().min(0), values: z.partialRecord(sweepParam, z.number()), params: runParams }),
  ),
  axes: z.array(sweepAxis),
  size: z.number().int(),
  iterations: z.number().int(),
  /** ms since the epoch: its place among the runs in the fair order */
  createdAt: z.number(),
});
export type ClusterSweep = z.infer<typeof clusterSweep>;

/** A sweep cell's frame between nodes: base64, like clusterPreview. */
export const clusterSweepFrame = sweepFrame.extend({ data: z.base64() });
export type ClusterSweepFrame = z.infer<typeof clusterSweepFrame>;

/** A preview frame between nodes: base64 (Redis carries JSON text, not bytes). */
export const clusterPreview = preview.extend({ data: z.base64(), encodedAt: z.number() });
export type ClusterPreview = z.infer<typeof clusterPreview>;

export const runEvent = z.discriminatedUnion("type", [
  /** the run's public state changed (started, resumed, position/ETA, ended) */
  z.object({
    type: z.literal("state"),
    roomId: id,
    run: runInfo,
    /** the worker that holds it now, null while queued or once ended */
    workerId: z.string().max(200).nullable(),
  }),
  z.object({ type: z.literal("stats"), roomId: id, stats: iterationStats }),
  z.object({ type: z.literal("preview"), frame: clusterPreview }),
  /** a worker took over a run another worker left (killed, lost): it continues from `iteration` */
  z.object({
    type: z.literal("resumed"),
    roomId: id,
    runId: id,
    workerId: z.string().max(200),
    iteration: z.number().int().min(0),
    /** ms from the last sign of life of the previous holder (its last checkpoint write) to this resume */
    sinceCheckpointMs: z.number().nullable(),
  }),
  /** a sweep's state changed (queued, position, a cell started or ended): from the gateway that queued it, the dispatcher or the worker */
  z.object({ type: z.literal("sweep"), roomId: id, sweep: sweepInfo }),
  z.object({ type: z.literal("sweep-frame"), frame: clusterSweepFrame }),
]);
export type RunEvent = z.infer<typeof runEvent>;

/** Gateway → the worker holding a run. */
export const runControl = z.discriminatedUnion("type", [
  z.object({ type: z.literal("cancel") }),
  /** a document edit the run may follow live (the worker decides, with the same rules as embedded mode) */
  z.object({ type: z.literal("edit"), field: roomField, value: z.unknown(), authorId: id }),
]);
export type RunControl = z.infer<typeof runControl>;

/** A worker process's capacity, renewed while it lives. */
export const workerSlots = z.object({
  workerId: z.string().min(1).max(200),
  concurrency: z.number().int().min(1),
  running: z.number().int().min(0),
  /** the engine backend its runs use, and for webgpu its GPU adapter (the optimiser's cluster/placement.ts) */
  backend: z.string().max(32).optional(),
  adapter: z
    .object({ vendor: z.string().max(200), device: z.string().max(200), software: z.boolean() })
    .nullable()
    .optional(),
});
export type WorkerSlots = z.infer<typeof workerSlots>;
