import { describe, expect, it } from "vitest";
import { MAX_STROKE_POINTS, colorOf, rasteriseLayer, type MaskStroke } from "@atelier/protocol";
import {
  LayerRasterCache,
  extendStroke,
  othersStrokes,
  photoPoint,
  regionColor,
  tintMask,
} from "../src/lib/mask-stroke";

describe("photoPoint", () => {
  it("maps a pointer to normalised photo coordinates, clamped to the photo", () => {
    const box = { left: 100, top: 50, width: 200, height: 100 };
    expect(photoPoint(200, 100, box)).toEqual([0.5, 0.5]);
    expect(photoPoint(50, 400, box)).toEqual([0, 1]);
  });
});

describe("extendStroke", () => {
  it("drops points closer than the step and stops at the stroke's bound", () => {
    let pts: [number, number][] = [[0, 0]];
    pts = extendStroke(pts, [0.001, 0], 0.01);
    expect(pts).toHaveLength(1);
    pts = extendStroke(pts, [0.02, 0], 0.01);
    expect(pts).toHaveLength(2);
    const full = Array.from({ length: MAX_STROKE_POINTS }, (_, i) => [i / MAX_STROKE_POINTS, 0] as [number, number]);
    expect(extendStroke(full, [1, 1], 0.01)).toBe(full);
  });
});

describe("tintMask", () => {
  it("tints painted pixels in the style's colour and leaves the rest transparent", () => {
    const layer = {
      strokes: [
        { strokeId: "s", authorId: "u", tool: "fill" as const, size: 0.1, points: [[0, 0]] as [number, number][] },
      ],
    };
    const rgba = tintMask(rasteriseLayer(layer, 2, 2), regionColor(0), 0.5);
    expect([...rgba.subarray(0, 4)]).toEqual([...regionColor(0), 128]);
    expect([...tintMask(rasteriseLayer({ strokes: [] }, 2, 2), regionColor(1), 0.5)]).toEqual(new Array(16).fill(0));
  });
});

describe("LayerRasterCache", () => {
  const stroke = (strokeId: string, tool: MaskStroke["tool"], points: [number, number][]): MaskStroke => ({
    strokeId,
    authorId: "u",
    tool,
    size: 0.1,
    points,
  });
  const a = stroke("a", "brush", [
    [0.1, 0.1],
    [0.9, 0.9],
  ]);
  const b = stroke("b", "eraser", [
    [0.5, 0],
    [0.5, 1],
  ]);
  const c = stroke("c", "fill", [[0.9, 0.1]]);

  it("paints only the appended stroke, and repaints on a removal; always the layer's raster", () => {
    const cache = new LayerRasterCache(40, 30);
    expect(cache.sync({ strokes: [a] })).toBe("appended");
    expect(cache.sync({ strokes: [a] })).toBe("same");
    expect(cache.sync({ strokes: [a, b, c] })).toBe("appended");
    expect(cache.mask.data).toEqual(rasteriseLayer({ strokes: [a, b, c] }, 40, 30).data);
    // an undo of b: repainted from the start
    expect(cache.sync({ strokes: [a, c] })).toBe("repainted");
    expect(cache.mask.data).toEqual(rasteriseLayer({ strokes: [a, c] }, 40, 30).data);
    expect(cache.sync(undefined)).toBe("repainted");
    expect(cache.mask.data.every((v) => v === 0)).toBe(true);
    // a new overlay size repaints at that size
    expect(cache.sync({ strokes: [a] }, 20, 15)).toBe("repainted");
    expect(cache.mask.data).toEqual(rasteriseLayer({ strokes: [a] }, 20, 15).data);
  });
});

describe("othersStrokes", () => {
  it("gives the strokes others painted, in order, each in its author's presence colour; none of mine", () => {
    const stroke = (strokeId: string, authorId: string): MaskStroke => ({
      strokeId,
      authorId,
      tool: "brush",
      size: 0.05,
      points: [[0.5, 0.5]],
    });
    const layer = { strokes: [stroke("a", "ana"), stroke("b", "me"), stroke("c", "bo"), stroke("d", "ana")] };
    const others = othersStrokes(layer, "me");
    expect(others.map((o) => o.stroke.strokeId)).toEqual(["a", "c", "d"]);
    expect(others.map((o) => o.color)).toEqual([colorOf("ana"), colorOf("bo"), colorOf("ana")]);
    expect(colorOf("ana")).not.toBe(colorOf("bo")); // else the test could not tell authors apart
    expect(othersStrokes({ strokes: [stroke("b", "me")] }, "me")).toEqual([]);
  });
});
