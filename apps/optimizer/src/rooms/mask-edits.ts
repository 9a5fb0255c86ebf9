/**
 * The pure side of `mask:edit`: the room's masks after one member's edit. The server is the
 * single ordering point, so strokes land in the order they arrive and every member converges
 * on the same layers; undo and clear only ever touch the editor's own strokes. Layers of styles
 * no longer in the room are dropped on the way, which keeps the layers within the styles' bound.
 */
import { MAX_MASK_STROKES, type MaskEdit, type RoomMasks } from "@atelier/protocol";

export type MaskEditOutcome = { ok: true; masks: RoomMasks } | { ok: false; error: string };

export function applyMaskEdit(
  masks: RoomMasks,
  edit: MaskEdit,
  authorId: string,
  styleImageIds: readonly string[],
): MaskEditOutcome {
  if (!styleImageIds.includes(edit.styleImageId))
    return { ok: false, error: `style ${edit.styleImageId} is not one of this room's styles` };
  const strokes = masks[edit.styleImageId]?.strokes ?? [];
  let next = strokes;
  switch (edit.op) {
    case "stroke": {
      if (strokes.some((s) => s.strokeId === edit.stroke.strokeId))
        return { ok: false, error: `stroke ${edit.stroke.strokeId} is already in this layer` };
      if (strokes.length >= MAX_MASK_STROKES)
        return { ok: false, error: `a layer holds at most ${MAX_MASK_STROKES} strokes: undo or clear some first` };
      next = [...strokes, { ...edit.stroke, authorId }];
      break;
    }
    case "undo": {
      const last = strokes.findLastIndex((s) => s.authorId === authorId);
      if (last < 0) return { ok: false, error: "you have no stroke to undo in this layer" };
      next = strokes.filter((_, i) => i !== last);
      break;
    }
    case "clear":
      next = strokes.filter((s) => s.authorId !== authorId);
      break;
  }
  const result: RoomMasks = Object.fromEntries(
    Object.entries(masks).filter(([styleId]) => styleImageIds.includes(styleId)),
  );
  if (next.length === 0) delete result[edit.styleImageId];
  else result[edit.styleImageId] = { strokes: next };
  return { ok: true, masks: result };
}
