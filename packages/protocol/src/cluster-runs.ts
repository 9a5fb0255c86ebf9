import { z } from "zod";
import { iterationStats, preview, runInfo } from "./events.ts";
import { roomField } from "./params.ts";

/*
 * Cluster runs (REDIS_URL): what workers, the dispatcher and gateways tell each other about
 * runs through Redis. One schema per message, checked where it enters (a worker parsing a job
 * or a control message, a gateway parsing a run event); a message that fails is dropped and
 * logged. Channels and keys (prefix `atelier:` unless configured):
 *   - BullMQ queue `runs` (keys `<prefix>bull:runs:*`): job id = run id, data = runJobData
 *   - pub/sub `<prefix>run-events`: runEvent, from workers and the dispatcher to every gateway
 *   - pub/sub `<prefix>run-control:<runId>`: runControl, from gateways to the worker holding the run
 *   - `<prefix>run:<runId>:history` (capped list of iterationStats JSON), `<prefix>run:<runId>:info`
 *     (the latest runInfo JSON), `<prefix>run:<runId>:preview` (the latest preview event JSON):
 *     what a late joiner on any gateway needs while the run lives
 *   - `<prefix>worker:<workerId>` (workerSlots JSON, expires unless renewed): the free capacity
 *   - `<prefix>dispatcher` (SET NX PX lease): which gateway dispatches
 */

const id = z.string().min(1).max(64);

/** The data of a BullMQ run job: the run's id; the worker reads everything else from its Run row. */
export const runJobData = z.object({ runId: id });
export type RunJobData = z.infer<typeof runJobData>;

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
});
export type WorkerSlots = z.infer<typeof workerSlots>;
