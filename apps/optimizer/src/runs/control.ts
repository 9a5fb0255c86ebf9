/**
 * Control of going runs: cancel (queued ones removed, running ones stopped with their image
 * kept) and live edits of weights and iterations.
 */
import type { FieldEdit } from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import { isActive, type LiveRun } from "../common/live-run.ts";
import type { RunCore } from "./core.ts";
import { applyLiveEdit } from "./edits.ts";
import type { FinishRun } from "./launcher.ts";
import type { LiveRoom } from "../rooms/live-room.ts";

const CANCEL_GRACE_MS = 20_000;

/** Where a run held elsewhere (another node, a cluster worker) is cancelled and edited. */
interface RemoteRuns {
  /** resolves whether the run's holder cancelled it */
  cancel(room: LiveRoom, run: LiveRun): Promise<boolean>;
  /** a document edit the run's holder may follow live; null: the holder hears of edits by itself */
  forwardEdit: ((run: LiveRun, edit: FieldEdit, authorId: string) => void) | null;
}

export class RunControl {
  constructor(
    private readonly core: RunCore,
    private readonly finish: FinishRun,
    private readonly remote: RemoteRuns,
  ) {}

  /** Cancels every active run of the room this node holds, and the room's run if another node holds it; how many. */
  async cancelActive(room: LiveRoom): Promise<number> {
    const runs = new Set([...this.core.active.values()].filter((r) => r.roomId === room.id && isActive(r.status)));
    if (room.run && isActive(room.run.status)) runs.add(room.run);
    await Promise.all([...runs].map((run) => this.cancelRun(room, run)));
    return runs.size;
  }

  /** Cancels one run (queued: removed; running: stopped, its image kept as a checkpoint). */
  async cancelRun(room: LiveRoom, run: LiveRun | null = room.run): Promise<void> {
    if (!run || !isActive(run.status)) throw new ServiceError("not_found", "no run is going in this room");
    if (!run.local) {
      const cancelled = await this.remote.cancel(room, run);
      if (!cancelled)
        throw new ServiceError("conflict", "the run is held by another optimiser node that did not cancel it");
      run.status = "cancelled";
      return;
    }
    run.stopReason = "cancel";
    if (run.status === "queued") {
      await this.finish(run, "cancelled", null);
      return;
    }
    const worker = run.worker;
    worker?.cancel();
    const timedOut = await Promise.race([
      run.ended.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), CANCEL_GRACE_MS).unref()),
    ]);
    if (timedOut && worker) {
      this.core.o.log.warn("run.cancel_timeout", { runId: run.id });
      await worker.terminate();
      await run.ended;
    }
  }

  /**
   * A document field changed: a running (or queued) run follows weight and iteration edits
   * from the next iteration on; any other change marks the room "restart needed".
   * Returns whether this field now needs a restart.
   */
  onDocumentEdit(room: LiveRoom, edit: FieldEdit, authorId: string): boolean {
    const run = room.run;
    if (run && isActive(run.status) && !run.local) this.remote.forwardEdit?.(run, edit, authorId);
    const step = run && isActive(run.status) && run.local ? applyLiveEdit(run, edit, authorId) : null;
    if (run && step) {
      run.params = step.params;
      run.liveEdits = step.liveEdits;
      run.worker?.update(step.weights);
    }
    return this.core.recomputeRestartNeeded(room).includes(edit.field);
  }
}
