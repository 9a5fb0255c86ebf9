import { z } from "zod";
import { id } from "./ids.ts";
import { roomMasks } from "./masks.ts";

/** VGG-19 layer names the engine can tap (ReLU outputs after each conv). */
export const VGG_LAYERS = [
  "relu1_1",
  "relu1_2",
  "relu2_1",
  "relu2_2",
  "relu3_1",
  "relu3_2",
  "relu3_3",
  "relu3_4",
  "relu4_1",
  "relu4_2",
  "relu4_3",
  "relu4_4",
  "relu5_1",
  "relu5_2",
  "relu5_3",
  "relu5_4",
] as const;
export const vggLayer = z.enum(VGG_LAYERS);
export type VggLayer = z.infer<typeof vggLayer>;

export const DEFAULT_CONTENT_LAYERS: VggLayer[] = ["relu4_2"];
export const DEFAULT_STYLE_LAYERS: VggLayer[] = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"];

export const MAX_STYLES = 5;
export const MIN_SIZE = 32;
export const MAX_SIZE = 2048;
export const MAX_ITERATIONS = 5000;

export const COLOR_CONTROLS = ["none", "luminance", "match-style", "match-result"] as const;

/** One style image of the blend, with its blend weight (weights are normalised to sum 1). */
export const styleRef = z.object({
  imageId: id,
  weight: z.number().finite().min(0).max(100),
});
export type StyleRef = z.infer<typeof styleRef>;

/**
 * The optimisation settings of a run, without the images. Weights and optimiser follow
 * jcjohnson/neural-style (content 5, style 100, TV 1e-3, L-BFGS); size, iterations and
 * coarse-to-fine are the "Balanced" preset (presets.ts), chosen by measurement so a room's
 * first preview arrives within seconds of Start on a 2-core CPU and the run ends in minutes.
 */
export const runSettings = z.object({
  size: z.number().int().min(MIN_SIZE).max(MAX_SIZE).default(512),
  iterations: z.number().int().min(1).max(MAX_ITERATIONS).default(200),
  optimizer: z.enum(["lbfgs", "adam"]).default("lbfgs"),
  learningRate: z.number().finite().positive().max(1000).default(10),
  contentWeight: z.number().finite().min(0).max(1e6).default(5),
  styleWeight: z.number().finite().min(0).max(1e9).default(100),
  tvWeight: z.number().finite().min(0).max(1e3).default(1e-3),
  styleScale: z.number().finite().min(0.1).max(4).default(1),
  originalColors: z.boolean().default(false),
  /**
   * Colour control (issue 13); absent: originalColors decides (true → "luminance"). Given, it
   * wins over originalColors. "match-style"/"match-result": mean/covariance colour matching of
   * the style images before the run / of the result after it, to the content's colours.
   */
  colorControl: z.enum(COLOR_CONTROLS).optional(),
  init: z.enum(["noise", "content", "style"]).default("content"),
  seed: z.number().int().min(0).max(2_147_483_647).default(42),
  pooling: z.enum(["max", "avg"]).default("max"),
  contentLayers: z.array(vggLayer).min(1).max(16).default(DEFAULT_CONTENT_LAYERS),
  styleLayers: z.array(vggLayer).min(1).max(16).default(DEFAULT_STYLE_LAYERS),
  multiscale: z.boolean().default(true),
});
export type RunSettings = z.infer<typeof runSettings>;
export type ColorControl = (typeof COLOR_CONTROLS)[number];

/**
 * The colour control a run uses: the explicit choice, or, when none was made, the older
 * "Original colours" toggle (on = luminance only). The one rule for the engine and the studio.
 */
export function effectiveColorControl(settings: {
  colorControl?: ColorControl | undefined;
  originalColors?: boolean | undefined;
}): ColorControl {
  return settings.colorControl ?? (settings.originalColors ? "luminance" : "none");
}

/**
 * The co-edited room document: the images and all settings. Every top-level key is one
 * independently editable field (per-field last-writer-wins).
 */
export const roomDocument = runSettings.extend({
  contentImageId: id.nullable().default(null),
  styles: z.array(styleRef).max(MAX_STYLES).default([]),
  /** painted regions per style (masks.ts); edited stroke by stroke with `mask:edit`, not `doc:edit` */
  masks: roomMasks.default({}),
});
export type RoomDocument = z.infer<typeof roomDocument>;
export type RoomField = keyof RoomDocument;
export const ROOM_FIELDS = Object.keys(roomDocument.shape) as RoomField[];
export const roomField = z.enum(ROOM_FIELDS as [RoomField, ...RoomField[]]);

export function defaultRoomDocument(): RoomDocument {
  return roomDocument.parse({});
}

/** Validates one field's value with that field's own schema. */
export function parseFieldValue<F extends RoomField>(
  field: F,
  value: unknown,
): { ok: true; value: RoomDocument[F] } | { ok: false; error: string } {
  const schema = roomDocument.shape[field];
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, error: `${field}: ${formatZodError(parsed.error)}` };
  return { ok: true, value: parsed.data as RoomDocument[F] };
}

/**
 * One field's new value, typed by its field: narrowing on `field` gives `value` that field's
 * type, so a parsed edit reaches the run (and the engine) without a cast.
 */
export type FieldEdit = { [F in RoomField]: { field: F; value: RoomDocument[F] } }[RoomField];

/** Validates one field's value with that field's own schema, as a FieldEdit. */
export function parseFieldEdit(
  field: RoomField,
  value: unknown,
): { ok: true; edit: FieldEdit } | { ok: false; error: string } {
  const parsed = parseFieldValue(field, value);
  if (!parsed.ok) return parsed;
  // the value came out of `field`'s own schema: it has that field's type (which TypeScript
  // cannot tie to a `field` that is a union)
  return { ok: true, edit: { field, value: parsed.value } as FieldEdit };
}

/**
 * Params of a run that can start: the document with a content image and at least one style
 * with a positive weight. Stored on the Run row as JSON.
 */
export const runParams = roomDocument.extend({
  contentImageId: id,
  styles: z
    .array(styleRef)
    .min(1, "choose at least one style image")
    .max(MAX_STYLES)
    .refine((s) => s.some((x) => x.weight > 0), "at least one style needs a weight above 0"),
});
export type RunParams = z.infer<typeof runParams>;

/**
 * Fields that a running job takes from the next iteration on; editing any other field
 * while a run is going marks the room "restart needed".
 */
export const LIVE_SCALAR_FIELDS = ["contentWeight", "styleWeight", "tvWeight"] as const satisfies readonly RoomField[];
export type LiveScalarField = (typeof LIVE_SCALAR_FIELDS)[number];
/** Whether the edit is of a live weight (its value then is that weight, a number). */
export function isLiveScalarEdit(edit: FieldEdit): edit is Extract<FieldEdit, { field: LiveScalarField }> {
  return (LIVE_SCALAR_FIELDS as readonly RoomField[]).includes(edit.field);
}
/** A `styles` edit is live when it keeps the same images in the same order and only changes weights. */
export function isLiveStylesEdit(before: StyleRef[], after: StyleRef[]): boolean {
  return before.length === after.length && before.every((s, i) => s.imageId === after[i]!.imageId);
}
/**
 * Every field a running job follows without a restart: the live weights, and `iterations` (the job
 * stops at the new count). `styles` is live too when only its weights change (isLiveStylesEdit).
 */
export const LIVE_FIELDS: readonly RoomField[] = [...LIVE_SCALAR_FIELDS, "iterations"];

export function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}
