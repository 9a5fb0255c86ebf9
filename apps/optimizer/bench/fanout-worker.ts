/**
 * A worker process of the cluster fan-out bench (bench/fanout-cluster.ts): src/cluster/worker-process.ts
 * as it is, stopped as on SIGTERM when the bench's IPC channel closes, so that a bench killed
 * outright (SIGKILL, where it cannot stop its children) leaves no worker behind.
 */
import "../src/cluster/worker-process.ts";

process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
