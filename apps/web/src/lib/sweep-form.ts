/*
 * The sweep form's pure parts: reading a list of values as typed ("10, 100, 1e3") and naming a
 * cell by its swept values. The service validates everything again (expandSweep).
 */
import {
  FIELD_LABELS,
  MAX_SWEEP_VALUES,
  estimateRunSeconds,
  type SpeedModel,
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
