/**
 * Starting and cancelling a room's run: `run:start` (a new run from the room's document; with
 * restart, the going one cancelled first and the new one continuing from its image; branching
 * from an earlier run's image or a promoted sweep cell's; a large render of a finished run,
 * render-large.ts) and `run:cancel`. A room's starts, restarts and cancels run one after
 * another (each awaits the database and workers), so they never interleave.
 */
import { isUniqueViolation, serializeRunParams, type Db } from "@atelier/db";
import { formatZodError, runParams, type RunParams } from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import { KeyedQueue } from "../common/keyed-queue.ts";
import { countActiveJobs } from "../common/active-jobs.ts";
import { activeRunLimitRefusal, runSizeRefusal } from "../common/limits.ts";
import { isActive, type LiveRun, type RunStartImage, type User } from "../common/live-run.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import type { RunControl } from "./control.ts";
import type { RunCore } from "./core.ts";
import { renderLargeRunParams } from "./render-large.ts";
import { resumeStartIteration } from "./resume-point.ts";
import { liveRunFromRow } from "./views.ts";

export class RunStarter {
  /** each room's start/restart/cancel, one after another, so they never interleave */
  private readonly roomOps = new KeyedQueue();

  constructor(
    private readonly core: RunCore,
    private readonly control: RunControl,
    /** a queued run goes on: to this node's scheduler, or (cluster) to the dispatcher */
    private readonly submit: (run: LiveRun, initImagePath: string | null) => Promise<void>,
    /** cluster runs: held by the cluster's workers, which resume them from their own checkpoints */
    private readonly clustered: boolean,
  ) {}

  /**
   * Starts a run from the room's document. With `restart`, the room's current run is cancelled
   * first and the new one starts from its latest image (or an interrupted/finished run's
   * checkpoint or final image). `from`: start from the image an earlier run of the room left
   * (branching), or from an image file (a promoted sweep cell).
   */
  startRun(room: LiveRoom, user: User, restart: boolean, from?: RunStartImage): Promise<LiveRun> {
    if (this.core.closing) return Promise.reject(new ServiceError("conflict", "the optimiser is shutting down"));
    // one start at a time per room: a second one sent meanwhile is refused, not queued behind it
    // (checked and claimed synchronously, so two starts cannot both pass)
    if (this.roomOps.busy(room.id))
      return Promise.reject(new ServiceError("conflict", "a run is being started or stopped in this room; try again"));
    return this.roomOps.run(room.id, () => this.startRunNow(room, user, restart, from));
  }

  /** The room's settings, or for a large render the finished run's own, overridden for this run only. */
  private async paramsToRun(room: LiveRoom, from?: RunStartImage): Promise<RunParams> {
    if (from && "runId" in from && from.render)
      return renderLargeRunParams(this.core.o.db, room.id, from.runId, from.render, this.core.o.limits);
    const parsed = runParams.safeParse(room.document);
    if (!parsed.success) throw new ServiceError("invalid", `cannot start: ${formatZodError(parsed.error)}`);
    return parsed.data;
  }

  private async startRunNow(room: LiveRoom, user: User, restart: boolean, from?: RunStartImage): Promise<LiveRun> {
    const { db, log, limits } = this.core.o;
    const files = this.core.files;
    const params = await this.paramsToRun(room, from);
    const overCap = runSizeRefusal(params, limits);
    if (overCap) throw new ServiceError("limit", overCap);
    const paths = await files.resolveImages(params, user.id);
    // checked before anything is cancelled: a refused branch leaves the going run alone
    const fromRunId = from && "runId" in from ? from.runId : null;
    const branchImage = fromRunId
      ? await files.imageOfRoomRun(room.id, fromRunId)
      : from && "imagePath" in from
        ? from.imagePath
        : null;

    const previous = room.run;
    // the user's queued/running runs, not counting the one a restart replaces (checked before
    // anything is cancelled, so a refused restart leaves the going run alone)
    const replaced = restart && previous && isActive(previous.status) ? [previous.id] : [];
    // sweeps count too (one each: common/active-jobs.ts)
    const active = await countActiveJobs(db, user.id, replaced);
    const tooMany = activeRunLimitRefusal(active, limits);
    if (tooMany) throw new ServiceError("limit", tooMany);
    if (previous && isActive(previous.status)) {
      if (!restart) throw new ServiceError("conflict", "a run is already going in this room (restart it instead)");
      await this.control.cancelActive(room);
    }
    // the previous run may have been replaced while we waited (another node, a recovered run)
    if (room.run && room.run !== previous && isActive(room.run.status)) {
      throw new ServiceError("conflict", "another run was started in this room meanwhile");
    }
    const initImagePath = branchImage ?? (restart && previous ? await files.imageToContinueFrom(previous.id) : null);
    const resumedFromId = branchImage ? fromRunId : initImagePath && previous ? previous.id : null;
    // an interrupted run restarted as it was runs only what it had left (a cluster's workers
    // resume their runs themselves, from the run's own checkpoint)
    const startIteration = this.clustered
      ? 0
      : resumeStartIteration(previous ?? null, params, Boolean(!branchImage && resumedFromId));

    let row: Awaited<ReturnType<Db["run"]["create"]>>;
    try {
      row = await db.run.create({
        data: {
          roomId: room.id,
          authorId: user.id,
          params: serializeRunParams(params),
          seed: params.seed,
          status: "queued",
          resumedFromId,
          iterations: startIteration,
          // the database's own guard: a second active run of the room violates the unique index
          activeRoomId: room.id,
        },
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ServiceError("conflict", "another run is already going in this room (started elsewhere)");
      throw error;
    }
    const run = liveRunFromRow(row, params);
    Object.assign(run, { local: !this.clustered, initImagePath, ...paths });
    if (startIteration > 0) run.resumeAt = startIteration;
    if (from && "runId" in from && from.render) run.render = from.render;
    room.attachRun(run);
    this.core.recomputeRestartNeeded(room);
    log.info("run.queued", {
      runId: run.id,
      roomId: room.id,
      userId: user.id,
      resumedFromId,
      startIteration,
      size: params.size,
      iterations: params.iterations,
    });
    await this.submit(run, initImagePath);
    return run;
  }

  /**
   * `run:cancel`: stops every active run of the room (after any start or restart in progress).
   * Queued ones are removed; running ones stop with their image kept as a checkpoint.
   */
  cancelRoom(room: LiveRoom): Promise<void> {
    return this.roomOps.run(room.id, async () => {
      const stopped = await this.control.cancelActive(room);
      if (stopped === 0) throw new ServiceError("not_found", "no run is going in this room");
    });
  }
}
