/**
 * engine-slots/: where the engine runs — a pool of slots (slot-pool), each running one job's
 * optimisation in an engine process of its own (slot-body, forked through slot-entry.mjs), the
 * messages between them (slot-messages), and the style masks a job's body rasterises (job-masks).
 *
 * The folder's surface (see common/index.ts for why other files import the named files directly):
 */
export { WorkerPool, type JobHandle, type WorkerEnd } from "./slot-pool.ts";
export type { WorkerJob, WorkerToMain } from "./slot-messages.ts";
