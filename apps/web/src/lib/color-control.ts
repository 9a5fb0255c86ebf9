import type { RoomDocument } from "@atelier/protocol";

/**
 * The colour control a run of this document uses: the explicit choice, or, when none was made,
 * the older "Original colours" toggle (on = luminance only) — the engine's own rule.
 */
export function effectiveColorControl(
  doc: Pick<RoomDocument, "colorControl" | "originalColors">,
): NonNullable<RoomDocument["colorControl"]> {
  return doc.colorControl ?? (doc.originalColors ? "luminance" : "none");
}
