import { z } from "zod";
import type { Role } from "./roles.ts";
import { id } from "./ids.ts";
import { imageMime } from "./image-types.ts";
import { formatZodError, runParams, type RoomDocument, type RunParams } from "./params.ts";

/*
 * Parameter sweeps: one or two parameters × 2–4 values each → a grid of small runs, queued as
 * one batch. Expansion is a pure function: every cell's settings are the room's with the swept
 * values in, each checked by the run settings schema, so a sweep never queues a run that could
 * not start on its own.
 */

/** What a sweep may vary. `styleBlend`: the first style's share of a two-style blend (0–1). */
export const SWEEP_PARAMS = ["styleWeight", "contentWeight", "tvWeight", "styleScale", "styleBlend"] as const;
export const sweepParam = z.enum(SWEEP_PARAMS);
export type SweepParam = z.infer<typeof sweepParam>;

export const MAX_SWEEP_AXES = 2;
export const MAX_SWEEP_VALUES = 4;
export const MAX_SWEEP_CELLS = MAX_SWEEP_VALUES ** MAX_SWEEP_AXES;
/** Sweeps are previews: small and short, so a 4×4 grid stays quick. */
export const MAX_SWEEP_SIZE = 256;
export const MAX_SWEEP_ITERATIONS = 200;

export const sweepAxis = z.object({
  param: sweepParam,
  values: z.array(z.number().finite()).min(2).max(MAX_SWEEP_VALUES),
});
export type SweepAxis = z.infer<typeof sweepAxis>;

export const startSweep = z.object({
  roomId: id,
  axes: z
    .array(sweepAxis)
    .min(1)
    .max(MAX_SWEEP_AXES)
    .refine((axes) => new Set(axes.map((a) => a.param)).size === axes.length, "sweep two different parameters"),
  size: z.number().int().min(32).max(MAX_SWEEP_SIZE).default(128),
  iterations: z.number().int().min(1).max(MAX_SWEEP_ITERATIONS).default(30),
});
export type StartSweep = z.input<typeof startSweep>;

export const promoteSweepCell = z.object({ roomId: id, sweepId: id, cell: z.number().int().min(0) });

/**
 * Stop a sweep: its running cell is cancelled and its queued cells never run. Its starter and the
 * room's owner may; cancelling a sweep that already ended changes nothing and succeeds.
 */
export const cancelSweep = z.object({ roomId: id, sweepId: id });

/**
 * Why `user` (their `role` in the room, null when unknown) may not cancel a sweep `authorId`
 * started, or null: its starter and the room's owner may. The service's rule, which the studio
 * uses to show its Cancel button only to them.
 */
export function sweepCancelRefusal(authorId: string, user: { id: string }, role: Role | null): string | null {
  return authorId === user.id || role === "owner" ? null : "only the sweep's starter or the room's owner can cancel it";
}

/** One cell: the swept values (by parameter) and the full settings it runs with. */
export interface SweepCell {
  index: number;
  values: Partial<Record<SweepParam, number>>;
  params: RunParams;
}

/** A swept value applied to the room's settings. */
function withValue(params: RunParams, param: SweepParam, value: number): RunParams | string {
  if (param !== "styleBlend") return { ...params, [param]: value };
  if (params.styles.length !== 2) return "a style blend sweep needs exactly two styles in the room";
  if (value < 0 || value > 1) return `styleBlend: ${value} is not a share between 0 and 1`;
  const [a, b] = params.styles;
  return {
    ...params,
    styles: [
      { ...a!, weight: value },
      { ...b!, weight: 1 - value },
    ],
  };
}

/**
 * The sweep's grid, row-major (the first axis varies slowest), from the room document: every
 * cell is the document's settings at the sweep's size and iterations with its values in,
 * validated as run settings. Any invalid value refuses the whole sweep with the reason.
 */
export function expandSweep(
  document: RoomDocument,
  sweep: { axes: SweepAxis[]; size: number; iterations: number },
): { ok: true; cells: SweepCell[] } | { ok: false; error: string } {
  for (const axis of sweep.axes) {
    if (new Set(axis.values).size !== axis.values.length) return { ok: false, error: `${axis.param}: repeated values` };
  }
  const base = runParams.safeParse({ ...document, size: sweep.size, iterations: sweep.iterations, multiscale: false });
  if (!base.success) return { ok: false, error: `cannot sweep: ${formatZodError(base.error)}` };
  let combos: Partial<Record<SweepParam, number>>[] = [{}];
  for (const axis of sweep.axes) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.param]: v })));
  if (combos.length > MAX_SWEEP_CELLS) return { ok: false, error: `at most ${MAX_SWEEP_CELLS} cells` };
  const cells: SweepCell[] = [];
  for (const [index, values] of combos.entries()) {
    let params: RunParams | string = base.data;
    for (const [param, value] of Object.entries(values) as [SweepParam, number][]) {
      if (typeof params === "string") break;
      params = withValue(params, param, value);
    }
    if (typeof params === "string") return { ok: false, error: params };
    const checked = runParams.safeParse(params);
    if (!checked.success) return { ok: false, error: formatZodError(checked.error) };
    cells.push({ index, values, params: checked.data });
  }
  return { ok: true, cells };
}

export const SWEEP_CELL_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;

/** A sweep as everyone in the room sees it (thumbnails come as `sweep:frame`). */
export const sweepInfo = z.object({
  sweepId: id,
  author: z.object({ userId: id, name: z.string() }),
  axes: z.array(sweepAxis),
  size: z.number().int(),
  iterations: z.number().int(),
  /** 1-based position of the batch in the queue while it waits; null once it runs */
  queuePosition: z.number().int().nullable(),
  cells: z.array(
    z.object({
      index: z.number().int(),
      values: z.partialRecord(sweepParam, z.number()),
      status: z.enum(SWEEP_CELL_STATUSES),
      iteration: z.number().int(),
      error: z.string().nullable(),
      /** the engine backend the cell ran on, once it started (optional for older senders) */
      backend: z.string().max(32).optional(),
    }),
  ),
});
export type SweepInfo = z.infer<typeof sweepInfo>;

export const sweepUpdate = z.object({ roomId: id, sweep: sweepInfo });

/** A live thumbnail of one cell (binary, like run:preview). */
export const sweepFrame = z.object({
  roomId: id,
  sweepId: id,
  cell: z.number().int(),
  iteration: z.number().int(),
  mime: imageMime,
  width: z.number().int(),
  height: z.number().int(),
  data: z.custom<Uint8Array | ArrayBuffer>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer),
});
export type SweepFrame = z.infer<typeof sweepFrame>;

/**
 * A sweep as its database row keeps it (apps/optimizer sweeps/sweep-rows.ts): what was asked,
 * and each cell with its params and its last state, so a sweep outlives the process that ran it.
 */
export const storedSweepRequest = z.object({
  axes: z.array(sweepAxis),
  size: z.number().int(),
  iterations: z.number().int(),
  authorName: z.string(),
});
export const storedSweepCells = z.array(
  z.object({
    cell: z.object({
      index: z.number().int().min(0),
      values: z.partialRecord(sweepParam, z.number()),
      params: runParams,
    }),
    info: sweepInfo.shape.cells.element,
  }),
);
