/**
 * Where a restarted run begins counting (issue 26, item 12). Restarting an interrupted run
 * (the optimiser stopped mid-run) with the settings it had is a resume: the new run starts from
 * the interrupted run's checkpoint and runs only the iterations it had left — numbered on from
 * there, and, coarse to fine, the rest of its own schedule (the engine slot's resumedScales,
 * protocol's remainingScalePlan) — as a cluster worker does when it takes over a run. With
 * changed settings it is a new run from that image, counting from 0.
 */
import { settingsDiff, type RunParams, type RunStatus } from "@atelier/protocol";

export function resumeStartIteration(
  previous: { status: RunStatus; iteration: number; params: RunParams } | null,
  next: RunParams,
  /** the new run starts from the previous run's image (its checkpoint, for an interrupted one) */
  continuesItsImage: boolean,
): number {
  if (!previous || previous.status !== "interrupted" || !continuesItsImage) return 0;
  if (settingsDiff(previous.params, next).length > 0) return 0;
  // a run that had reached its end has nothing left: it runs again from 0 as any restart does
  return previous.iteration < next.iterations ? Math.max(0, previous.iteration) : 0;
}
