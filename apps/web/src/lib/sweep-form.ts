/*
 * The sweep panel's pure parts: reading a list of values as typed ("10, 100, 1e3"), naming a
 * cell by its swept values, who sees Cancel and what a cancel says. The service validates
 * everything again (expandSweep, sweepCancelRefusal).
 */
import {
  FIELD_LABELS,
  MAX_SWEEP_VALUES,
  estimateRunSeconds,
  sweepCancelRefusal,
  type Role,
  type SpeedModel,
  type SweepInfo,
  type SweepParam,
} from "@atelier/protocol";

export const SWEEP_PARAM_LABELS: Record<SweepParam, string> = {
  styleWeight: FIELD_LABELS.styleWeight,
  contentWeight: FIELD_LABELS.contentWeight,
  tvWeight: FIELD_LABELS.tvWeight,
  styleScale: FIELD_LABELS.styleScale,
  styleBlend: "Blend (first style’s share)",
};

/** "10, 100 1e3" → [10, 100, 1000]; 2–MAX_SWEEP_VALUES distinct numbers, else a sentence saying what is wrong. */
export function parseSweepValues(text: string): { ok: true; values: number[] } | { ok: false; error: string } {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const values = parts.map(Number);
  const bad = parts.find((_, i) => !Number.isFinite(values[i]));
  if (bad !== undefined) return { ok: false, error: `“${bad}” is not a number.` };
  if (values.length < 2 || values.length > MAX_SWEEP_VALUES)
    return { ok: false, error: `Give 2 to ${MAX_SWEEP_VALUES} values, separated by commas.` };
  if (new Set(values).size !== values.length) return { ok: false, error: "Each value once, please." };
  return { ok: true, values };
}

/** A cell's name: "Style weight 10 · TV weight 0". */
export function cellLabel(values: Partial<Record<SweepParam, number>>): string {
  return (Object.entries(values) as [SweepParam, number][])
    .map(([param, value]) => `${SWEEP_PARAM_LABELS[param]} ${value}`)
    .join(" · ");
}

/**
 * The grid's headers: one column per value of the last axis, and with two axes one row per value
 * of the first (cells are numbered row by row, the first axis outermost, as expandSweep makes them).
 */
export function sweepGridHeaders(axes: ReadonlyArray<{ param: SweepParam; values: number[] }>): {
  columns: { label: string; values: string[] } | null;
  rows: { label: string; values: string[] } | null;
} {
  const head = (axis: { param: SweepParam; values: number[] } | undefined) =>
    axis ? { label: SWEEP_PARAM_LABELS[axis.param], values: axis.values.map(String) } : null;
  return axes.length >= 2 ? { columns: head(axes[1]), rows: head(axes[0]) } : { columns: head(axes[0]), rows: null };
}

/**
 * How long a sweep takes here: every cell is a single-level run at the sweep's size, run one
 * after another (a room's sweep takes one engine slot).
 */
export function sweepEstimateSeconds(
  cells: number,
  settings: { size: number; iterations: number },
  speed: Pick<SpeedModel, "msPerPixelIteration">,
  aspect: number,
): number {
  return cells * estimateRunSeconds({ ...settings, multiscale: false }, speed, aspect);
}

/** The sweep has a cell queued or running. */
export function sweepGoing(sweep: Pick<SweepInfo, "cells">): boolean {
  return sweep.cells.some((c) => c.status === "queued" || c.status === "running");
}

/** Whether `userId` (their `role` in the room) gets a Cancel button: a going sweep, its starter or the room's owner. */
export function canCancelSweep(sweep: SweepInfo, userId: string, role: Role | null): boolean {
  return sweepGoing(sweep) && sweepCancelRefusal(sweep.author.userId, { id: userId }, role) === null;
}

/** What the panel says after a cancel: "Sweep cancelled: 3 cells done, 13 cancelled." (a cell that was stopping: "stopping"). */
export function sweepCancelNotice(sweep: Pick<SweepInfo, "cells">): string {
  const count = (status: SweepInfo["cells"][number]["status"]) => sweep.cells.filter((c) => c.status === status).length;
  const parts = [
    [count("completed"), "done"],
    [count("failed"), "failed"],
    [count("cancelled"), "cancelled"],
    [count("running"), "stopping"],
  ] as const;
  const said = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${n === 1 ? "cell" : "cells"} ${what}`);
  return `Sweep cancelled${said.length > 0 ? `: ${said.join(", ")}` : ""}.`;
}
