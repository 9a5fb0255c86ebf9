/**
 * sweeps/: a grid of short preview runs over one or two settings — planned and run in this
 * process (sweep-manager, embedded mode) or queued for the cluster's workers (cluster-sweeps on
 * the gateway, sweep-job on the worker, sweep-store in Redis); one cell's run (sweep-cell) is the
 * same code in both modes. In both modes a sweep's cells are queued one at a time as jobs of the
 * fair order (embedded: the node's fair queue, embedded-sweep; cluster: the dispatcher's plan, one
 * BullMQ job per cell), and its state is kept in the Sweep table (sweep-rows).
 *
 * The folder's surface (see common/index.ts for why other files import the named files directly):
 */
export { type SweepBroadcaster, type Sweeps } from "./sweep-manager.ts";
export { SweepManager } from "./embedded-sweeps.ts";
export { ClusterSweeps } from "./cluster-sweeps.ts";
export { SweepWorker } from "./sweep-job.ts";
export { SweepStore } from "./sweep-store.ts";
export { newCellInfo, sweepEnded } from "./sweep-cell.ts";
