/*
 * Words for the run history strip and the activity line: pure, so what the room reads about
 * each run (what changed, who did what) is unit-tested.
 */
import {
  settingsDiff,
  type RoomActivity,
  type RoomField,
  type RunParams,
  type RunSummary,
  type SettingChange,
  type SweepInfo,
  type SweepParam,
} from "@atelier/protocol";
import { cellLabel } from "./sweep-form";

function formatValue(value: unknown): string {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
  if (typeof value === "boolean") return value ? "on" : "off";
  if (typeof value === "string") return value;
  return "";
}

/** One change as a short phrase: "Style weight 100 → 5000"; lists and images just say that they changed. */
export function describeChange(change: SettingChange, labels: Record<RoomField, string>): string {
  const label = labels[change.field];
  const [before, after] = [formatValue(change.before), formatValue(change.after)];
  const isImage = change.field === "contentImageId";
  if (!isImage && before && after) return `${label} ${before} → ${after}`;
  return `${label} changed`;
}

/**
 * What a run changed relative to the run before it (the next one in the newest-first list):
 * "first run" for the oldest listed, "same settings" when nothing differs.
 */
export function runChangesText(runs: readonly RunSummary[], index: number, labels: Record<RoomField, string>): string {
  const run = runs[index]!;
  const previous = runs[index + 1];
  if (!previous) return "first run";
  const changes = settingsDiff(previous.params, run.params);
  if (changes.length === 0) return "same settings";
  return changes.map((c) => describeChange(c, labels)).join(" · ");
}

/** A run's label in the strip: its number in the room (oldest listed = #1). */
export function runNumber(runs: readonly RunSummary[], runId: string): number | null {
  const index = runs.findIndex((r) => r.runId === runId);
  return index < 0 ? null : runs.length - index;
}

/** A run's value of a swept parameter (styleBlend: the first style's share of the weights). */
function sweptValue(params: RunParams, param: SweepParam): number | undefined {
  if (param !== "styleBlend") return params[param];
  const [a, b] = params.styles;
  if (!a || !b || a.weight + b.weight === 0) return undefined;
  return a.weight / (a.weight + b.weight);
}

/**
 * The sweep cell a promoted run came from: the cell whose swept values are the run's (promotion
 * writes them into the room before the run starts), or null when no cell matches.
 */
export function promotedCell(sweep: SweepInfo | null, params: RunParams): SweepInfo["cells"][number] | null {
  if (!sweep) return null;
  const close = (a: number | undefined, b: number) =>
    a !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  return (
    sweep.cells.find((cell) =>
      (Object.entries(cell.values) as [SweepParam, number][]).every(([param, v]) =>
        close(sweptValue(params, param), v),
      ),
    ) ?? null
  );
}

/**
 * The activity line: who did what, naming the run by its number when the strip knows it. A
 * promotion changes the room's settings, so it says to what (the cell's values) once the run is
 * listed, and that they changed before that.
 */
export function activityText(
  activity: RoomActivity,
  runs: readonly RunSummary[],
  myUserId: string,
  sweep: SweepInfo | null = null,
): string {
  const who = activity.author.userId === myUserId ? "You" : activity.author.name;
  const n = runNumber(runs, activity.runId);
  const run = n === null ? "an earlier run" : `run #${n}`;
  switch (activity.kind) {
    case "restored-settings":
      return `${who} restored the settings of ${run}.`;
    case "continued-from":
      return `${who} started a new run from the image of ${run}.`;
    case "started-sweep":
      return `${who} started a sweep.`;
    case "promoted": {
      const promoted = runs.find((r) => r.runId === activity.runId);
      const cell = promoted ? promotedCell(sweep, promoted.params) : null;
      return cell
        ? `${who} promoted the sweep cell ${cellLabel(cell.values)}: the room's settings are now its values, and a full run starts from its image.`
        : `${who} promoted a sweep cell: the room's settings are now its values, and a full run starts from its image.`;
    }
    case "resumed":
      return `The worker painting ${run} went away: another worker continued it from its last checkpoint.`;
  }
}

/**
 * The sizes a run's painting exists at, smallest first: its own, then each finished run that
 * painted it again larger from its image ("Render large") — what its Download offers.
 */
export function downloadSizes(runs: readonly RunSummary[], run: RunSummary): { size: number; imageId: string }[] {
  if (!run.finalImageId) return [];
  const sizes = [{ size: run.params.size, imageId: run.finalImageId }];
  for (const r of runs) {
    if (r.resumedFromId === run.runId && r.status === "completed" && r.finalImageId && r.params.size > run.params.size)
      sizes.push({ size: r.params.size, imageId: r.finalImageId });
  }
  return sizes.sort((a, b) => a.size - b.size);
}
