/**
 * runs/: a run from `run:start` to a finished Run row — the live run object, the fair queue
 * and its scheduler (positions, ETAs, the speed model), the launcher (engine slot → room),
 * starting and cancelling a room's run (starter), live edits and cancelling one run (control,
 * edits), the run's end and what it leaves (end, outcome, results, history, files), leases and
 * the recovery of runs a stopped process held, and RunManager, which builds the parts (the
 * gateway calls them directly) and holds start, shutdown and health.
 *
 * The folder's surface (see common/index.ts for why other files import the named files directly):
 */
export { RunManager } from "./manager.ts";
export { RunStarter } from "./starter.ts";
export { saveResult } from "./results.ts";
export type { QueueBatch } from "./queue-entry.ts";
export type { RunCore, RunRuntime, RunSink } from "./core.ts";
export { RunLauncher } from "./launcher.ts";
export { finishRun } from "./end.ts";
export { applyLiveEdit, liveEditOf, type LiveEditStep } from "./edits.ts";
export { remainingSeconds, roundEta, sweepSecondsLeft } from "./eta.ts";
export { FairQueue, estimateStartTimes } from "./fair-queue.ts";
export { SpeedTracker } from "./speed-model.ts";
export { RunFiles } from "./files.ts";
export { listRoomRuns, runCurveOf, runSettingsOf } from "./history.ts";
export { isLeaseHeld, readLease, writeLease } from "./lease.ts";
export { attachLatestRun, liveRunFromRow, mirrorRemote } from "./views.ts";
