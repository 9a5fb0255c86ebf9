/**
 * Parameter sweeps: a grid of small runs from the room's settings (protocol's expandSweep),
 * queued as ONE batch in the run manager's fair queue — the whole grid counts as one job of
 * the user who started it — and run one cell after another in a worker thread. Every cell's
 * frames stream to the room as `sweep:frame` (its final image last, as PNG); `sweep:update`
 * carries the grid's state. Promoting a cell gives the path of its final image, from which the
 * server starts the full-size run.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  expandSweep,
  settingsDiff,
  type RoomDocument,
  type SettingChange,
  type StartSweep,
  type SweepCell,
  type SweepFrame,
  type SweepInfo,
  type SweepParam,
} from "@atelier/protocol";
import { inspectImage } from "@atelier/storage";
import { ServiceError } from "./errors.ts";
import type { JobHandle, WorkerEnd, WorkerPool } from "./job-worker.ts";
import type { Logger } from "./log.ts";
import type { LiveRoom } from "./rooms.ts";
import type { QueueBatch, User } from "./live-run.ts";
import type { RunManager } from "./runs.ts";

interface SweepBroadcaster {
  update(roomId: string, sweep: SweepInfo): void;
  frame(frame: SweepFrame): void;
}

interface CellState {
  cell: SweepCell;
  info: SweepInfo["cells"][number];
  /** the latest frame (late joiners get it), the final PNG once the cell completed */
  frame: SweepFrame | null;
  finalPath: string;
}

class Sweep implements QueueBatch {
  readonly kind = "batch";
  readonly userId: string;
  queuePosition: number | null = null;
  private cancelled = false;
  private current: JobHandle | null = null;

  constructor(
    readonly id: string,
    readonly roomId: string,
    readonly author: User,
    readonly request: { axes: SweepInfo["axes"]; size: number; iterations: number },
    readonly cells: CellState[],
    private readonly job: { contentPath: string; stylePaths: string[]; dir: string },
    private readonly broadcast: SweepBroadcaster,
    private readonly log: Logger,
  ) {
    this.userId = author.id;
  }

  info(): SweepInfo {
    return {
      sweepId: this.id,
      author: { userId: this.author.id, name: this.author.name },
      ...this.request,
      queuePosition: this.queuePosition,
      cells: this.cells.map((c) => ({ ...c.info })),
    };
  }

  get ended(): boolean {
    return this.cells.every((c) => c.info.status !== "queued" && c.info.status !== "running");
  }

  setQueuePosition(position: number | null): void {
    if (position === this.queuePosition) return;
    this.queuePosition = position;
    this.broadcast.update(this.roomId, this.info());
  }

  cancel(): void {
    this.cancelled = true;
    this.current?.cancel();
    for (const c of this.cells) if (c.info.status === "queued") c.info.status = "cancelled";
    this.broadcast.update(this.roomId, this.info());
  }

  async run(pool: WorkerPool): Promise<void> {
    for (const state of this.cells) {
      if (this.cancelled) break;
      await this.runCell(pool, state);
    }
  }

  private async runCell(pool: WorkerPool, state: CellState): Promise<void> {
    state.info.status = "running";
    this.broadcast.update(this.roomId, this.info());
    const end = await new Promise<WorkerEnd>((resolve) => {
      this.current = pool.run(
        {
          runId: `${this.id}-${state.cell.index}`,
          params: state.cell.params,
          contentPath: this.job.contentPath,
          stylePaths: this.job.stylePaths,
          initImagePath: null,
          previewFps: 4,
          previewMime: "image/webp",
          // a cell is short: no checkpoints
          checkpointEvery: this.request.iterations + 1,
          checkpointPath: path.join(this.job.dir, `${state.cell.index}.checkpoint.png`),
          finalPath: state.finalPath,
        },
        {
          onMessage: (message) => {
            if (message.type === "iteration") state.info.iteration = message.event.iteration;
            if (message.type !== "preview") return;
            const { iteration, mime, width, height } = message;
            state.frame = { ...this.ids(state), iteration, mime, width, height, data: Buffer.from(message.data) };
            this.broadcast.frame(state.frame);
          },
          onEnd: resolve,
        },
      );
    });
    this.current = null;
    if (end.kind === "done") {
      state.info.status = "completed";
      state.info.iteration = end.iteration;
      try {
        // the exact final pixels, as the cell's last frame
        const data = await readFile(end.path);
        const { width, height } = await inspectImage(data, { maxBytes: Number.MAX_SAFE_INTEGER });
        state.frame = { ...this.ids(state), iteration: end.iteration, mime: "image/png", width, height, data };
        this.broadcast.frame(state.frame);
      } catch (error) {
        this.log.warn("sweep.final_frame_failed", { sweepId: this.id, cell: state.cell.index, error });
      }
    } else if (end.kind === "cancelled") {
      state.info.status = "cancelled";
    } else {
      state.info.status = "failed";
      state.info.error = "this cell failed";
      this.log.error("sweep.cell_failed", { sweepId: this.id, cell: state.cell.index, error: end.error });
    }
    this.broadcast.update(this.roomId, this.info());
  }

  private ids(state: CellState) {
    return { roomId: this.roomId, sweepId: this.id, cell: state.cell.index };
  }
}

/** The settings a promoted cell brings into the room: only its swept values (size and iterations stay the room's). */
export function promotedChanges(document: RoomDocument, cell: SweepCell): SettingChange[] {
  const next: RoomDocument = { ...document };
  for (const param of Object.keys(cell.values) as SweepParam[]) {
    if (param === "styleBlend") next.styles = cell.params.styles;
    else next[param] = cell.params[param];
  }
  return settingsDiff(document, next);
}

export class SweepManager {
  /** each room's latest sweep (one going at a time per room) */
  private readonly byRoom = new Map<string, Sweep>();
  private serial = 0;

  constructor(
    private readonly o: {
      runs: RunManager;
      dataDir: string;
      nodeId: string;
      log: Logger;
      broadcast: SweepBroadcaster;
    },
  ) {}

  /** Validates and queues a sweep of the room's current settings. */
  async start(room: LiveRoom, user: User, request: Required<Omit<StartSweep, "roomId">>): Promise<SweepInfo> {
    const going = this.byRoom.get(room.id);
    if (going && !going.ended) throw new ServiceError("conflict", "a sweep is already going in this room");
    const expanded = expandSweep(room.document, request);
    if (!expanded.ok) throw new ServiceError("invalid", expanded.error);
    const paths = await this.o.runs.resolveImages(expanded.cells[0]!.params, user.id);
    const id = `sweep-${this.o.nodeId}-${Date.now().toString(36)}-${++this.serial}`;
    const dir = path.join(this.o.dataDir, "sweeps", id);
    const cells: CellState[] = expanded.cells.map((cell) => ({
      cell,
      info: { index: cell.index, values: cell.values, status: "queued", iteration: 0, error: null },
      frame: null,
      finalPath: path.join(dir, `${cell.index}.png`),
    }));
    const sweep = new Sweep(id, room.id, user, request, cells, { ...paths, dir }, this.o.broadcast, this.o.log);
    this.byRoom.set(room.id, sweep);
    this.o.log.info("sweep.queued", { sweepId: id, roomId: room.id, userId: user.id, cells: cells.length });
    this.o.runs.enqueueBatch(sweep);
    this.o.broadcast.update(room.id, sweep.info());
    return sweep.info();
  }

  /** The room's latest sweep and its cells' latest frames, for a (late) joiner. */
  snapshot(roomId: string): { sweep: SweepInfo; frames: SweepFrame[] } | null {
    const sweep = this.byRoom.get(roomId);
    if (!sweep) return null;
    return { sweep: sweep.info(), frames: sweep.cells.flatMap((c) => (c.frame ? [c.frame] : [])) };
  }

  /** A completed cell's settings changes and final image, to promote it. */
  promotion(room: LiveRoom, sweepId: string, index: number): { changes: SettingChange[]; imagePath: string } {
    const sweep = this.byRoom.get(room.id);
    if (!sweep || sweep.id !== sweepId) throw new ServiceError("not_found", "no such sweep in this room");
    const state = sweep.cells[index];
    if (!state) throw new ServiceError("not_found", `the sweep has no cell ${index}`);
    if (state.info.status !== "completed")
      throw new ServiceError("conflict", `that cell is ${state.info.status}: promote a finished one`);
    return { changes: promotedChanges(room.document, state.cell), imagePath: state.finalPath };
  }
}
