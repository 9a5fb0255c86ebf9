import { describe, expect, it } from "vitest";
import { MAX_MASK_STROKES, type MaskEdit, type RoomMasks } from "@atelier/protocol";
import { applyMaskEdit } from "../src/rooms/mask-edits.ts";

const stroke = (strokeId: string) => ({
  strokeId,
  tool: "brush" as const,
  size: 0.1,
  points: [[0.5, 0.5]] as [number, number][],
});
const add = (strokeId: string): MaskEdit => ({
  op: "stroke",
  roomId: "r",
  styleImageId: "A",
  stroke: stroke(strokeId),
});
const styles = ["A", "B"];

function apply(masks: RoomMasks, edit: MaskEdit, author: string): RoomMasks {
  const out = applyMaskEdit(masks, edit, author, styles);
  if (!out.ok) throw new Error(out.error);
  return out.masks;
}

describe("applyMaskEdit", () => {
  it("appends strokes in arrival order with their author", () => {
    const masks = apply(apply({}, add("1"), "ada"), add("2"), "bob");
    expect(masks.A!.strokes.map((s) => [s.strokeId, s.authorId])).toEqual([
      ["1", "ada"],
      ["2", "bob"],
    ]);
  });

  it("undoes the editor's own last stroke only, and clears only the editor's strokes", () => {
    let masks = apply(apply(apply({}, add("1"), "ada"), add("2"), "ada"), add("3"), "bob");
    masks = apply(masks, { op: "undo", roomId: "r", styleImageId: "A" }, "ada");
    expect(masks.A!.strokes.map((s) => s.strokeId)).toEqual(["1", "3"]);
    masks = apply(masks, { op: "clear", roomId: "r", styleImageId: "A" }, "bob");
    expect(masks.A!.strokes.map((s) => s.strokeId)).toEqual(["1"]);
    masks = apply(masks, { op: "clear", roomId: "r", styleImageId: "A" }, "ada");
    expect(masks).toEqual({});
  });

  it("refuses an undo with nothing of one's own, a duplicate id, a full layer, a style not in the room", () => {
    const one = apply({}, add("1"), "ada");
    expect(applyMaskEdit(one, { op: "undo", roomId: "r", styleImageId: "A" }, "bob", styles).ok).toBe(false);
    expect(applyMaskEdit(one, add("1"), "bob", styles).ok).toBe(false);
    let full: RoomMasks = {};
    for (let i = 0; i < MAX_MASK_STROKES; i++) full = apply(full, add(`s${i}`), "ada");
    expect(applyMaskEdit(full, add("more"), "ada", styles).ok).toBe(false);
    expect(applyMaskEdit({}, { ...add("1"), styleImageId: "Z" }, "ada", styles).ok).toBe(false);
  });

  it("drops the layers of styles no longer in the room", () => {
    const masks = apply({}, { ...add("1"), styleImageId: "B" }, "ada");
    const out = applyMaskEdit(masks, add("2"), "ada", ["A"]);
    expect(out.ok && Object.keys(out.masks)).toEqual(["A"]);
  });
});
