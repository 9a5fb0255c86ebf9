/**
 * Parameter sweeps: a grid of small runs from the room's settings (protocol's expandSweep),
 * queued as ONE batch — the whole grid counts as one job of the user who started it — and run
 * one cell after another (sweeps/sweep-cell.ts). Every cell's frames stream to the room as
 * `sweep:frame` (its final image last, as PNG); `sweep:update` carries the grid's state.
 * Promoting a cell gives the path of its final image, from which the server starts the
 * full-size run. This file: the embedded mode (the run manager's fair queue, this process's
 * engine processes); in a cluster, sweeps go to the workers like runs (sweeps/cluster-sweeps.ts).
 */
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
import { ServiceError } from "../common/errors.ts";
import type { JobHandle, WorkerPool } from "../engine-slots/slot-pool.ts";
import type { Logger } from "../common/log.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import type { QueueBatch } from "../runs/queue-entry.ts";
import type { User } from "../common/live-run.ts";
import type { RunFiles } from "../runs/files.ts";
import type { LocalScheduler } from "../runs/scheduler.ts";
import { sweepSecondsLeft } from "../runs/eta.ts";
import {
  cellFinalPath,
  newCellInfo,
  runSweepCell,
  sweepDir,
  sweepEnded,
  type CellState,
  type SweepFiles,
} from "./sweep-cell.ts";

export interface SweepBroadcaster {
  update(roomId: string, sweep: SweepInfo): void;
  frame(frame: SweepFrame): void;
}

export type SweepRequest = Required<Omit<StartSweep, "roomId">>;

/** What the gateway asks of sweeps, embedded (SweepManager) or in a cluster (ClusterSweeps). */
export interface Sweeps {
  /** Validates and queues a sweep of the room's current settings. */
  start(room: LiveRoom, user: User, request: SweepRequest): Promise<SweepInfo>;
  /** The room's latest sweep and its cells' latest frames, for a (late) joiner. */
  snapshot(roomId: string): Promise<{ sweep: SweepInfo; frames: SweepFrame[] } | null>;
  /** A completed cell's settings changes and final image, to promote it. */
  promotion(room: LiveRoom, sweepId: string, index: number): Promise<{ changes: SettingChange[]; imagePath: string }>;
}

/**
 * A sweep request checked against the room's settings and the user's images (refusals as
 * ServiceErrors), expanded into its cells, with a fresh id: the same steps in both modes.
 */
export async function planSweep(
  files: Pick<RunFiles, "resolveImages">,
  room: LiveRoom,
  user: User,
  request: SweepRequest,
  newId: () => string,
): Promise<{ sweepId: string; cells: SweepCell[]; paths: { contentPath: string; stylePaths: string[] } }> {
  const expanded = expandSweep(room.document, request);
  if (!expanded.ok) throw new ServiceError("invalid", expanded.error);
  const paths = await files.resolveImages(expanded.cells[0]!.params, user.id);
  return { sweepId: newId(), cells: expanded.cells, paths };
}

/** A sweep id unique across nodes: the node's id, the time, and the node's own count. */
export function sweepIdMaker(nodeId: string): () => string {
  let serial = 0;
  return () => `sweep-${nodeId}-${Date.now().toString(36)}-${++serial}`;
}

/** The promotion of `index` in a sweep whose cells are `cells` (refusals as ServiceErrors). */
export function promotionOf(
  document: RoomDocument,
  dir: string,
  cells: { cell: SweepCell; info: SweepInfo["cells"][number] }[],
  index: number,
): { changes: SettingChange[]; imagePath: string } {
  const state = cells[index];
  if (!state) throw new ServiceError("not_found", `the sweep has no cell ${index}`);
  if (state.info.status !== "completed")
    throw new ServiceError("conflict", `that cell is ${state.info.status}: promote a finished one`);
  return { changes: promotedChanges(document, state.cell), imagePath: cellFinalPath(dir, index) };
}

class Sweep implements QueueBatch {
  readonly kind = "batch";
  readonly userId: string;
  queuePosition: number | null = null;
  private cancelled = false;
  private current: JobHandle | null = null;

  constructor(
    readonly author: User,
    readonly request: SweepRequest,
    readonly cells: CellState[],
    readonly files: SweepFiles,
    private readonly broadcast: SweepBroadcaster,
    private readonly log: Logger,
  ) {
    this.userId = author.id;
  }

  get id(): string {
    return this.files.sweepId;
  }
  get roomId(): string {
    return this.files.roomId;
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
    return sweepEnded({ cells: this.cells.map((c) => c.info) });
  }

  secondsLeft(msPerPixelIteration: number | null): number | null {
    return sweepSecondsLeft(
      this.cells.map((c) => c.info),
      this.request,
      msPerPixelIteration,
    );
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
      await runSweepCell(
        pool,
        this.files,
        state,
        {
          update: () => this.broadcast.update(this.roomId, this.info()),
          frame: (frame) => this.broadcast.frame(frame),
          handle: (handle) => (this.current = handle),
        },
        this.log,
      );
    }
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

export class SweepManager implements Sweeps {
  /** each room's latest sweep (one going at a time per room) */
  private readonly byRoom = new Map<string, Sweep>();
  private readonly newId: () => string;

  constructor(
    private readonly o: {
      /** the images a sweep uses, and where its files go */
      files: RunFiles;
      /** this node's fair queue: a sweep takes its turn as one job of its user */
      queue: Pick<LocalScheduler, "enqueueBatch">;
      nodeId: string;
      log: Logger;
      broadcast: SweepBroadcaster;
    },
  ) {
    this.newId = sweepIdMaker(o.nodeId);
  }

  async start(room: LiveRoom, user: User, request: SweepRequest): Promise<SweepInfo> {
    const going = this.byRoom.get(room.id);
    if (going && !going.ended) throw new ServiceError("conflict", "a sweep is already going in this room");
    const { sweepId: id, cells: planned, paths } = await planSweep(this.o.files, room, user, request, this.newId);
    const cells: CellState[] = planned.map((cell) => ({ cell, info: newCellInfo(cell), frame: null }));
    const store = this.o.files.store;
    const files = { store, sweepId: id, roomId: room.id, ...paths, dir: sweepDir(store, id) };
    const sweep = new Sweep(user, request, cells, files, this.o.broadcast, this.o.log);
    this.byRoom.set(room.id, sweep);
    this.o.log.info("sweep.queued", { sweepId: id, roomId: room.id, userId: user.id, cells: cells.length });
    this.o.queue.enqueueBatch(sweep);
    this.o.broadcast.update(room.id, sweep.info());
    return sweep.info();
  }

  async snapshot(roomId: string): Promise<{ sweep: SweepInfo; frames: SweepFrame[] } | null> {
    const sweep = this.byRoom.get(roomId);
    if (!sweep) return null;
    return { sweep: sweep.info(), frames: sweep.cells.flatMap((c) => (c.frame ? [c.frame] : [])) };
  }

  async promotion(
    room: LiveRoom,
    sweepId: string,
    index: number,
  ): Promise<{ changes: SettingChange[]; imagePath: string }> {
    const sweep = this.byRoom.get(room.id);
    if (!sweep || sweep.id !== sweepId) throw new ServiceError("not_found", "no such sweep in this room");
    return promotionOf(room.document, sweep.files.dir, sweep.cells, index);
  }
}
