/**
 * Abuse limits of the service (operator-configured, see config.ts) and their pure decisions.
 * Counts are per node: in cluster mode a user's sockets are capped on each node.
 */
import type { RoomField } from "@atelier/protocol";

export interface ServiceLimits {
  /** open sockets of one user on this node */
  socketsPerUser: number;
  /** queued + running runs and sweeps one user has started, over all rooms (a sweep counts as one) */
  activeRunsPerUser: number;
  /** longest image side a run may have (px) */
  maxSize: number;
  /** iterations a run may have */
  maxIterations: number;
  /** presence changes of a room within this window go out as one broadcast (ms) */
  presenceCoalesceMs: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  socketsPerUser: 20,
  activeRunsPerUser: 2,
  maxSize: 1024,
  maxIterations: 2000,
  presenceCoalesceMs: 100,
};

/** Why a run with these params is over the operator's caps, or null. */
export function runSizeRefusal(params: { size: number; iterations: number }, limits: ServiceLimits): string | null {
  if (params.size > limits.maxSize)
    return `this optimiser runs images up to ${limits.maxSize} px (the room asks for ${params.size} px)`;
  if (params.iterations > limits.maxIterations)
    return `this optimiser runs at most ${limits.maxIterations} iterations (the room asks for ${params.iterations})`;
  return null;
}

/** Why an edit of a capped field is refused, or null (other fields are not capped). */
export function fieldLimitRefusal(field: RoomField, value: unknown, limits: ServiceLimits): string | null {
  if (field === "size" && typeof value === "number" && value > limits.maxSize)
    return `this optimiser runs images up to ${limits.maxSize} px`;
  if (field === "iterations" && typeof value === "number" && value > limits.maxIterations)
    return `this optimiser runs at most ${limits.maxIterations} iterations`;
  return null;
}

/** Why one more socket of a user with `open` sockets is refused, or null. */
export function socketLimitRefusal(open: number, limits: ServiceLimits): string | null {
  return open >= limits.socketsPerUser ? `at most ${limits.socketsPerUser} connections per user` : null;
}

/**
 * Why one more active job (a run or a sweep) of a user with `active` ones is refused, or null. A
 * sweep counts as one job (common/active-jobs.ts).
 */
export function activeRunLimitRefusal(active: number, limits: ServiceLimits): string | null {
  return active >= limits.activeRunsPerUser
    ? `you already have ${active} runs or sweeps queued or running (at most ${limits.activeRunsPerUser}); wait for one to finish or cancel it`
    : null;
}
