/**
 * Live edit or restart needed, free of IO: which document edits a going run follows from its
 * next iteration (weights, iterations, style blend weights), and which fields differ from what
 * the run uses in a way it cannot follow (the room shows "restart needed" for those).
 */
import { isDeepStrictEqual } from "node:util";
import type { LiveWeights } from "@atelier/engine";
import {
  LIVE_FIELDS,
  ROOM_FIELDS,
  renderLargeParams,
  isLiveScalarEdit,
  isLiveStylesEdit,
  type FieldEdit,
  type LiveEdit,
  type RenderLarge,
  type RoomDocument,
  type RoomField,
  type RunParams,
  type StyleRef,
} from "@atelier/protocol";

/** Weights-only styles edits are live unless they zero every weight (nothing to normalise). */
export function isLiveStyles(before: StyleRef[], after: StyleRef[]): boolean {
  return isLiveStylesEdit(before, after) && after.some((s) => s.weight > 0);
}

/**
 * How a going run follows an edit: its new params and the weights its worker applies, or null
 * when the edit is not live (the run keeps its params; the field may then need a restart).
 */
export function liveEditOf(params: RunParams, edit: FieldEdit): { params: RunParams; weights: LiveWeights } | null {
  if (isLiveScalarEdit(edit)) {
    const weights: LiveWeights = {};
    weights[edit.field] = edit.value;
    return { params: { ...params, [edit.field]: edit.value }, weights };
  }
  if (edit.field === "iterations") {
    return { params: { ...params, iterations: edit.value }, weights: { iterations: edit.value } };
  }
  if (edit.field === "styles" && isLiveStyles(params.styles, edit.value)) {
    const styles = edit.value;
    return { params: { ...params, styles }, weights: { styleBlendWeights: styles.map((s) => s.weight) } };
  }
  return null;
}

/** What a going run's following of an edit changes: its params, its record of live edits, the weights its worker applies. */
export interface LiveEditStep {
  params: RunParams;
  liveEdits: LiveEdit[];
  weights: LiveWeights;
}

/**
 * Whether and how a going run follows a document edit, the same in embedded and cluster mode;
 * the caller sets the run's fields and tells its worker. Null when the edit is not live, or when
 * it changes nothing the run uses: a repeat (in cluster mode every gateway that applied an edit
 * forwards it) is neither sent to the engine nor recorded.
 */
export function applyLiveEdit(
  run: { params: RunParams; iteration: number; liveEdits: readonly LiveEdit[]; render?: RenderLarge | null },
  edit: FieldEdit,
  authorId: string,
): LiveEditStep | null {
  // a large render keeps its own iterations (its top level's share), whatever the room's become
  if (run.render && edit.field === "iterations") return null;
  const live = liveEditOf(run.params, edit);
  if (!live || isDeepStrictEqual(live.params, run.params)) return null;
  return {
    params: live.params,
    liveEdits: [...run.liveEdits, { iteration: run.iteration, field: edit.field, value: edit.value, authorId }],
    weights: live.weights,
  };
}

/** The fields whose document value differs from the run's params and that the run cannot follow live. */
export function restartNeededFields(params: RunParams, room: RoomDocument, render?: RenderLarge | null): RoomField[] {
  // a large render is compared with the room's settings as it would render them: its own size,
  // one level, are no change of the room's
  const document = render ? { ...room, ...renderLargeParams(room, render.size) } : room;
  const fields: RoomField[] = [];
  for (const field of ROOM_FIELDS) {
    if (LIVE_FIELDS.includes(field)) continue;
    if (field === "styles") {
      if (!isLiveStyles(params.styles, document.styles)) fields.push(field);
    } else if (!isDeepStrictEqual(document[field], params[field])) {
      fields.push(field);
    }
  }
  return fields;
}
