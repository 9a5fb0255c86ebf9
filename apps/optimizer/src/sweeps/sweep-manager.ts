/**
 * Parameter sweeps: a grid of small runs from the room's settings (protocol's expandSweep), run
 * one cell after another (sweeps/sweep-cell.ts). A going sweep counts as ONE active job of the
 * user who started it (common/active-jobs.ts); its cells are fair-queue jobs queued one at a time
 * (sweeps/embedded-sweep.ts), so other users' jobs go between its cells. Every cell's frames
 * stream to the room as `sweep:frame` (its final image last, as PNG); `sweep:update` carries the
 * grid's state. Its starter or the room's owner may cancel it (`sweep:cancel`). Promoting a cell
 * gives the path of its final image, from which the server starts the full-size run. This file:
 * the embedded mode (the run manager's fair queue, this process's engine processes; the sweep's
 * database row: sweeps/sweep-rows.ts); in a cluster, sweeps go to the workers like runs
 * (sweeps/cluster-sweeps.ts).
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
import type { Role } from "@atelier/protocol";
import type { LiveRoom } from "../rooms/live-room.ts";
import type { User } from "../common/live-run.ts";
import type { RunFiles } from "../runs/files.ts";
import type { FileStore } from "@atelier/files";
import { cellFinalPath, sweepDir } from "./sweep-cell.ts";

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
  /** `sweep:cancel` by `user` (their `role` in the room): the sweep as it is after. */
  cancel(room: LiveRoom, user: User, role: Role, sweepId: string): Promise<SweepInfo>;
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

/** promotionOf, refused too when the cell's final image was removed (the files TTL): the same in both modes. */
export async function keptPromotion(
  document: RoomDocument,
  store: FileStore,
  sweepId: string,
  cells: { cell: SweepCell; info: SweepInfo["cells"][number] }[],
  index: number,
): Promise<{ changes: SettingChange[]; imagePath: string }> {
  const promotion = promotionOf(document, sweepDir(store, sweepId), cells, index);
  if (!(await store.stat(`sweeps/${sweepId}/${index}.png`)))
    throw new ServiceError("conflict", "this sweep's images were removed (they are kept for a while); sweep again");
  return promotion;
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
