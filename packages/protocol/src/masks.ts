import { z } from "zod";
import { id } from "./ids.ts";

/*
 * Painted style masks (issue 13): per style slot of the room (keyed by the style's imageId) a
 * region layer made of strokes. White where a layer's strokes paint = that style goes there;
 * areas no layer covers keep the photo. Coordinates are normalised to the content photo
 * (x: 0–1 of its width, y: 0–1 of its height), so a layer fits any output size.
 *
 * Granularity: one stroke is the unit of co-editing. Each stroke arrives as its own
 * `mask:edit` event and the server appends it in arrival order, so two people painting at
 * once both keep their strokes (a whole-layer last-writer-wins would drop one of them), and
 * undo removes the undoer's own last stroke only, never someone else's.
 */

/** Bounds that keep a room document small enough to send to every joiner. */
export const MAX_MASK_STROKES = 64;
/** = MAX_STYLES (params.ts imports this file): a mask edit drops the layers of styles no longer in the room */
export const MAX_MASK_LAYERS = 5;
export const MAX_STROKE_POINTS = 256;
export const MIN_BRUSH_SIZE = 0.005;
export const MAX_BRUSH_SIZE = 0.5;

export const MASK_TOOLS = ["brush", "eraser", "fill"] as const;
export const maskTool = z.enum(MASK_TOOLS);
export type MaskTool = z.infer<typeof maskTool>;

const unit = z.number().finite().min(0).max(1);
/** A point in normalised photo coordinates: [x, y]. */
export const maskPoint = z.tuple([unit, unit]);

/** A stroke as a client sends it. `fill` takes one point (where the bucket was tipped). */
export const maskStrokeInput = z
  .object({
    strokeId: id,
    tool: maskTool,
    /** brush diameter as a fraction of the photo's longer side */
    size: z.number().finite().min(MIN_BRUSH_SIZE).max(MAX_BRUSH_SIZE),
    points: z.array(maskPoint).min(1).max(MAX_STROKE_POINTS),
  })
  .refine((s) => s.tool !== "fill" || s.points.length === 1, "a fill takes exactly one point");
export type MaskStrokeInput = z.infer<typeof maskStrokeInput>;

/** A stroke as stored in the document: who painted it (undo and clear touch one's own only). */
export const maskStroke = z
  .object({
    strokeId: id,
    authorId: id,
    tool: maskTool,
    size: z.number().finite().min(MIN_BRUSH_SIZE).max(MAX_BRUSH_SIZE),
    points: z.array(maskPoint).min(1).max(MAX_STROKE_POINTS),
  })
  .refine((s) => s.tool !== "fill" || s.points.length === 1, "a fill takes exactly one point");
export type MaskStroke = z.infer<typeof maskStroke>;

/** One style's region layer: strokes in the order the server received them. */
export const maskLayer = z.object({ strokes: z.array(maskStroke).max(MAX_MASK_STROKES) });
export type MaskLayer = z.infer<typeof maskLayer>;

/** The room document's `masks` field: style imageId → its layer. */
export const roomMasks = z
  .record(id, maskLayer)
  .refine((m) => Object.keys(m).length <= MAX_MASK_LAYERS, `at most ${MAX_MASK_LAYERS} style regions`);
export type RoomMasks = z.infer<typeof roomMasks>;

/** One mask edit: append a stroke, undo one's own last stroke, or clear one's own strokes, in a style's layer. */
export const maskEdit = z.discriminatedUnion("op", [
  z.object({ op: z.literal("stroke"), roomId: id, styleImageId: id, stroke: maskStrokeInput }),
  z.object({ op: z.literal("undo"), roomId: id, styleImageId: id }),
  z.object({ op: z.literal("clear"), roomId: id, styleImageId: id }),
]);
export type MaskEdit = z.infer<typeof maskEdit>;
/** A mask edit as the studio asks for it (its connection adds the room). */
export type MaskEditRequest = MaskEdit extends infer E ? (E extends MaskEdit ? Omit<E, "roomId"> : never) : never;

/** Whether a layer paints anything at all (a run passes masks only for layers that do). */
export function layerHasPaint(layer: MaskLayer | undefined): boolean {
  return Boolean(layer?.strokes.some((s) => s.tool !== "eraser"));
}
