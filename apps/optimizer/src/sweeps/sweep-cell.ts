/**
 * One sweep cell on a engine process: the same code for a sweep run in this process (sweeps/sweep-manager.ts,
 * embedded mode) and for one run by a cluster worker (sweeps/sweep-job.ts). It runs the cell's
 * settings as a short run, reports every preview as the cell's frame, and on completion
 * reports the exact final pixels as the cell's last frame (PNG), which promotion starts from.
 */
import path from "node:path";
import type { FileStore } from "@atelier/files";
import type { SweepCell, SweepFrame, SweepInfo } from "@atelier/protocol";
import { inspectImage } from "@atelier/storage";
import type { JobHandle, WorkerEnd, WorkerPool } from "../engine-slots/slot-pool.ts";
import type { Logger } from "../common/log.ts";
import { DEFAULT_SETTINGS } from "../config.ts";

export type CellInfo = SweepInfo["cells"][number];

export interface CellState {
  cell: SweepCell;
  info: CellInfo;
  /** the latest frame (late joiners get it), the final PNG once the cell completed */
  frame: SweepFrame | null;
}

export interface SweepFiles {
  /** where the cells' final images are kept (the engine writes them at its local paths) */
  store: FileStore;
  sweepId: string;
  roomId: string;
  contentPath: string;
  stylePaths: string[];
  /** the sweep's directory: each cell's final image is `<index>.png` there */
  dir: string;
}

/** The sweep's directory in the file store (`sweeps/<id>`), as a local path. */
export function sweepDir(store: FileStore, sweepId: string): string {
  return store.localPath(`sweeps/${sweepId}`);
}

export function cellFinalPath(dir: string, index: number): string {
  return path.join(dir, `${index}.png`);
}

export function newCellInfo(cell: Pick<SweepCell, "index" | "values">): CellInfo {
  return { index: cell.index, values: cell.values, status: "queued", iteration: 0, error: null };
}

/**
 * The cell a sweep is on: the first one queued or running (cells run in order), null once every
 * cell ended. In a cluster it is the one a BullMQ job exists for, or is about to.
 */
export function currentCell(info: Pick<SweepInfo, "cells">): number | null {
  const i = info.cells.findIndex((c) => c.status === "queued" || c.status === "running");
  return i < 0 ? null : i;
}

/** A cluster sweep cell's BullMQ job id (BullMQ refuses ":" in ids). */
export function cellJobId(sweepId: string, index: number): string {
  return `${sweepId}-cell-${index}`;
}

/** Every cell ended (completed, failed or cancelled). */
export function sweepEnded(info: Pick<SweepInfo, "cells">): boolean {
  return info.cells.every((c) => c.status !== "queued" && c.status !== "running");
}

export interface CellReport {
  /** the cell's info changed (running, iteration at its end, completed/failed/cancelled) */
  update(): void;
  frame(frame: SweepFrame): void;
  /** the running cell's handle (to cancel it), null once it ended */
  handle(handle: JobHandle | null): void;
}

/** Runs one cell to its end; its status, iteration and error are set on `state.info`. */
export async function runSweepCell(
  pool: WorkerPool,
  files: SweepFiles,
  state: CellState,
  report: CellReport,
  log: Logger,
): Promise<void> {
  const { cell } = state;
  const ids = { roomId: files.roomId, sweepId: files.sweepId, cell: cell.index };
  state.info.status = "running";
  state.info.iteration = 0;
  report.update();
  const finalPath = cellFinalPath(files.dir, cell.index);
  const end = await new Promise<WorkerEnd>((resolve) => {
    report.handle(
      pool.run(
        {
          runId: `${files.sweepId}-${cell.index}`,
          params: cell.params,
          contentPath: files.contentPath,
          stylePaths: files.stylePaths,
          initImagePath: null,
          // a cell previews at the service's default rate and format, whatever this deployment's
          previewFps: DEFAULT_SETTINGS.previewFps,
          previewMime: DEFAULT_SETTINGS.previewMime,
          // a cell is short: no checkpoints
          checkpointEvery: cell.params.iterations + 1,
          checkpointPath: path.join(files.dir, `${cell.index}.checkpoint.png`),
          finalPath,
        },
        {
          onMessage: (message) => {
            if (message.type === "iteration") state.info.iteration = message.event.iteration;
            if (message.type === "started") state.info.backend = message.backend;
            if (message.type !== "preview") return;
            const { iteration, mime, width, height } = message;
            state.frame = { ...ids, iteration, mime, width, height, data: Buffer.from(message.data) };
            report.frame(state.frame);
          },
          onEnd: resolve,
        },
      ),
    );
  });
  report.handle(null);
  if (end.kind === "done") {
    state.info.status = "completed";
    state.info.iteration = end.iteration;
    try {
      // the exact final pixels, as the cell's last frame; kept in the store, where a promotion
      // on any node finds it
      const key = files.store.keyOf(end.path);
      if (key) await files.store.storeLocal(key);
      const data = key ? await files.store.read(key) : null;
      if (!data) throw new Error(`the final image of cell ${cell.index} is missing`);
      const { width, height } = await inspectImage(data, { maxBytes: Number.MAX_SAFE_INTEGER });
      state.frame = { ...ids, iteration: end.iteration, mime: "image/png", width, height, data };
      report.frame(state.frame);
    } catch (error) {
      log.warn("sweep.final_frame_failed", { sweepId: files.sweepId, cell: cell.index, error });
    }
  } else if (end.kind === "cancelled") {
    state.info.status = "cancelled";
  } else {
    state.info.status = "failed";
    state.info.error = "this cell failed";
    log.error("sweep.cell_failed", { sweepId: files.sweepId, cell: cell.index, error: end.error });
  }
  report.update();
}
