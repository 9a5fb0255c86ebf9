/**
 * Run leases: a small file per queued/running run (in the file store, `runs/<id>/lease.json`)
 * saying which optimiser process holds it,
 * refreshed while it holds it. On start (and periodically) a node takes over only runs whose
 * holder is gone — a dead process on this host, or no heartbeat for a while from another
 * host — so with several nodes on one DATA_DIR a restart never steals a live node's runs.
 */
import { hostname } from "node:os";
import type { FileStore } from "@atelier/files";

export interface Lease {
  nodeId: string;
  host: string;
  pid: number;
  /** Date.now() of the last heartbeat */
  at: number;
}

/** A lease without a heartbeat for this long is dead, whatever the process table says. */
const LEASE_TTL_MS = 30_000;

function leaseKey(runId: string): string {
  return `runs/${runId}/lease.json`;
}

export async function writeLease(store: FileStore, runId: string, nodeId: string): Promise<void> {
  const lease: Lease = { nodeId, host: hostname(), pid: process.pid, at: Date.now() };
  await store.write(leaseKey(runId), JSON.stringify(lease));
}

export async function readLease(store: FileStore, runId: string): Promise<Lease | null> {
  try {
    const raw = await store.read(leaseKey(runId));
    if (!raw) return null;
    const lease = JSON.parse(raw.toString("utf8")) as Partial<Lease>;
    if (
      typeof lease.nodeId !== "string" ||
      typeof lease.host !== "string" ||
      typeof lease.pid !== "number" ||
      typeof lease.at !== "number"
    ) {
      return null;
    }
    return lease as Lease;
  } catch {
    return null;
  }
}

export async function removeLease(store: FileStore, runId: string): Promise<void> {
  await store.remove(leaseKey(runId));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether another live process still holds the run. */
export function isLeaseHeld(lease: Lease | null, now = Date.now()): boolean {
  if (!lease) return false;
  if (now - lease.at > LEASE_TTL_MS) return false;
  if (lease.host === hostname()) return lease.pid !== process.pid ? processAlive(lease.pid) : true;
  return true;
}
