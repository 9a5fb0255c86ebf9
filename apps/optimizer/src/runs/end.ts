/**
 * A run's end, recorded everywhere at once: memory, the scheduler's slot, the database row
 * (status, counts, the params live edits left, the kept image and loss curve), the lease and
 * the run's sink (its room, or the run bus).
 */
import { serializeLossHistory, serializeRunParams } from "@atelier/db";
import type { IterationStats, RunStatus } from "@atelier/protocol";
import { removeLease } from "./lease.ts";
import type { LiveRun } from "../common/live-run.ts";
import type { RunRuntime, RunSink } from "./core.ts";
import { keepRunImage } from "./outcome.ts";
import type { PreviewFrame } from "../rooms/live-room.ts";
import { metrics } from "../common/metrics.ts";

/** What the scheduler does when a run ends: free its slot first, start the next once recorded. */
interface SlotRelease {
  forget(runId: string): void;
  pump(): void;
}

export async function finishRun(
  core: RunRuntime,
  sink: RunSink,
  slots: SlotRelease,
  run: LiveRun,
  status: RunStatus,
  error: string | null,
): Promise<void> {
  run.status = status;
  run.error = error;
  run.finishedAt = new Date();
  if (run.startedAt)
    metrics.runDuration.observe({ status }, (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000);
  run.etaSeconds = null;
  run.queuePosition = null;
  slots.forget(run.id);
  core.active.delete(run.id);
  const kept = await keepOutcome(core, sink, run);
  const level = status === "failed" ? "error" : "info";
  core.o.log[level](`run.${status}`, {
    runId: run.id,
    roomId: run.roomId,
    iteration: run.iteration,
    computeMs: Math.round(run.computeMs),
    error,
  });
  try {
    await core.o.db.run.update({
      where: { id: run.id },
      data: {
        status,
        error,
        finishedAt: run.finishedAt,
        iterations: run.iteration,
        computeMs: Math.round(run.computeMs),
        checkpointPath: run.checkpointPath,
        // live edits changed the params the run actually used: keep the record honest
        params: serializeRunParams(run.params),
        activeRoomId: null,
        finalImageId: run.finalImageId,
        lossHistory: serializeLossHistory(kept.history),
      },
    });
  } catch (dbError) {
    core.o.log.error("run.db_update_failed", { runId: run.id, error: dbError });
  }
  await removeLease(core.files.store, run.id).catch(() => {});
  sink.ended(run, kept.frame);
  run.markEnded();
  slots.pump();
}

/** Stores what an ending run leaves (its image, its loss curve); a failure to store keeps the run's end going. */
async function keepOutcome(
  core: RunRuntime,
  sink: RunSink,
  run: LiveRun,
): Promise<{ history: IterationStats[]; frame: PreviewFrame | null }> {
  const { history, preview } = await sink.shown(run);
  const final = core.files.finalImagePath(run.id);
  try {
    const kept = await keepRunImage(core.o.db, core.o.dataDir, run, {
      finalFile: (await core.files.exists(final)) ? final : null,
      checkpointFile: await core.files.existingCheckpoint(run.checkpointPath),
      preview,
    });
    run.finalImageId = kept?.imageId ?? null;
    return { history, frame: kept?.frame ?? null };
  } catch (error) {
    core.o.log.error("run.keep_image_failed", { runId: run.id, error });
    return { history, frame: null };
  }
}
