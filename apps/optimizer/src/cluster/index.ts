/**
 * cluster/: the service on several processes (REDIS_URL) — the Socket.IO Redis streams adapter
 * and inter-node channel (adapter), the run bus every node hears (run-bus, and the sink that
 * publishes a run's events on it), the dispatcher that turns queued runs and sweeps into BullMQ
 * jobs in the global fair order (dispatcher, dispatch-plan), the gateway's side of cluster runs
 * (gateway-runs), the BullMQ worker role (run-worker-role) and the worker process's entry
 * (worker-process.ts, `npm run worker`).
 *
 * The folder's surface (see common/index.ts for why other files import the named files directly):
 */
export { connectCluster } from "./adapter.ts";
export { ClusterRuns } from "./gateway-runs.ts";
export { parseMessage, type RunBus } from "./run-bus.ts";
export { RunWorker } from "./run-worker-role.ts";
