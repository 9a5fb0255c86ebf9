import { describe, expect, it } from "vitest";
import {
  MAX_MASK_LAYERS,
  MAX_MASK_STROKES,
  MAX_STROKE_POINTS,
  defaultRoomDocument,
  layerHasPaint,
  maskEdit,
  maskLayer,
  maskStroke,
  parseFieldValue,
  runParams,
} from "../src/index.ts";

const stroke = { strokeId: "s1", tool: "brush", size: 0.1, points: [[0.2, 0.3]] };
const stored = (over: object = {}) => maskStroke.parse({ ...stroke, authorId: "u1", ...over });

describe("mask edits", () => {
  it("accept a stroke, an undo and a clear", () => {
    expect(maskEdit.safeParse({ op: "stroke", roomId: "r", styleImageId: "i", stroke }).success).toBe(true);
    expect(maskEdit.safeParse({ op: "undo", roomId: "r", styleImageId: "i" }).success).toBe(true);
    expect(maskEdit.safeParse({ op: "clear", roomId: "r", styleImageId: "i" }).success).toBe(true);
  });

  it("refuse strokes out of bounds", () => {
    const bad = [
      { ...stroke, points: [[-0.1, 0.5]] },
      { ...stroke, points: [[0.5, 1.01]] },
      { ...stroke, points: [] },
      { ...stroke, points: Array.from({ length: MAX_STROKE_POINTS + 1 }, () => [0.5, 0.5]) },
      { ...stroke, size: 0.001 },
      { ...stroke, size: 0.6 },
      { ...stroke, tool: "spray" },
      {
        ...stroke,
        tool: "fill",
        points: [
          [0.1, 0.1],
          [0.2, 0.2],
        ],
      },
      { ...stroke, strokeId: "" },
    ];
    for (const s of bad)
      expect(maskEdit.safeParse({ op: "stroke", roomId: "r", styleImageId: "i", stroke: s }).success).toBe(false);
    expect(maskEdit.safeParse({ op: "paint", roomId: "r", styleImageId: "i" }).success).toBe(false);
  });

  it("bound a layer's strokes", () => {
    const full = Array.from({ length: MAX_MASK_STROKES }, (_, i) => stored({ strokeId: `s${i}` }));
    expect(maskLayer.safeParse({ strokes: full }).success).toBe(true);
    expect(maskLayer.safeParse({ strokes: [...full, stored({ strokeId: "more" })] }).success).toBe(false);
  });
});

describe("masks in the room document", () => {
  it("default to none, so older documents and run params still parse", () => {
    expect(defaultRoomDocument().masks).toEqual({});
    const params = runParams.parse({ contentImageId: "c", styles: [{ imageId: "s", weight: 1 }] });
    expect(params.masks).toEqual({});
  });

  it("validate as one field", () => {
    expect(parseFieldValue("masks", { s: { strokes: [stored()] } }).ok).toBe(true);
    expect(parseFieldValue("masks", { s: { strokes: [stroke] } }).ok).toBe(false); // no author
    const layers = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, { strokes: [stored()] }]));
    expect(parseFieldValue("masks", layers(MAX_MASK_LAYERS)).ok).toBe(true);
    expect(parseFieldValue("masks", layers(MAX_MASK_LAYERS + 1)).ok).toBe(false);
  });

  it("paint only when some stroke is not an eraser", () => {
    expect(layerHasPaint(undefined)).toBe(false);
    expect(layerHasPaint({ strokes: [stored({ tool: "eraser" })] })).toBe(false);
    expect(layerHasPaint({ strokes: [stored({ tool: "eraser" }), stored({ tool: "fill" })] })).toBe(true);
  });
});
