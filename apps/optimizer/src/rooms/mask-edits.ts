/**
 * The pure side of `mask:edit`: one member's edit as the delta it makes (protocol's MaskDelta),
 * and the room's masks after it. The server is the single ordering point, so strokes land in
 * the order they arrive and every member converges on the same layers by applying the same
 * deltas; undo and clear only ever touch the editor's own strokes. Layers of styles no longer
 * in the room are dropped on the way, which keeps the layers within the styles' bound.
 */
import {
  MAX_MASK_BYTES,
  MAX_MASK_STROKES,
  applyMaskDelta,
  maskBytes,
  strokeBytes,
  type MaskDelta,
  type MaskEdit,
  type RoomMasks,
} from "@atelier/protocol";

export type MaskEditOutcome =
  | { ok: true; delta: MaskDelta; masks: RoomMasks }
  /** `limit`: the room's regions are full (refused with the service's limit code) */
  | { ok: false; error: string; limit?: boolean };

export function applyMaskEdit(
  masks: RoomMasks,
  edit: MaskEdit,
  authorId: string,
  styleImageIds: readonly string[],
  maxBytes = MAX_MASK_BYTES,
): MaskEditOutcome {
  if (!styleImageIds.includes(edit.styleImageId))
    return { ok: false, error: `style ${edit.styleImageId} is not one of this room's styles` };
  const strokes = masks[edit.styleImageId]?.strokes ?? [];
  let delta: MaskDelta;
  switch (edit.op) {
    case "stroke": {
      if (strokes.some((s) => s.strokeId === edit.stroke.strokeId))
        return { ok: false, error: `stroke ${edit.stroke.strokeId} is already in this layer` };
      if (strokes.length >= MAX_MASK_STROKES)
        return { ok: false, error: `a layer holds at most ${MAX_MASK_STROKES} strokes: undo or clear some first` };
      const stroke = { ...edit.stroke, authorId };
      // only growth is refused: an undo or clear always goes through, even in a room over the bound
      const bytes = maskBytes(masks) + strokeBytes(stroke);
      if (bytes > maxBytes)
        return {
          ok: false,
          limit: true,
          error: `this room's style regions are full (${Math.ceil(bytes / 1024)} KB of ${maxBytes / 1024} KB with this stroke): undo or clear some strokes first`,
        };
      delta = { op: "add", styleImageId: edit.styleImageId, stroke };
      break;
    }
    case "undo": {
      const last = strokes.findLast((s) => s.authorId === authorId);
      if (!last) return { ok: false, error: "you have no stroke to undo in this layer" };
      delta = { op: "remove", styleImageId: edit.styleImageId, strokeIds: [last.strokeId] };
      break;
    }
    case "clear": {
      const own = strokes.filter((s) => s.authorId === authorId).map((s) => s.strokeId);
      if (own.length === 0) return { ok: false, error: "you have no strokes in this layer" };
      delta = { op: "remove", styleImageId: edit.styleImageId, strokeIds: own };
      break;
    }
  }
  return { ok: true, delta, masks: applyMaskDelta(masks, delta, styleImageIds) };
}
