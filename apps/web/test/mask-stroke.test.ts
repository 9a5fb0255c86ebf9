import { describe, expect, it } from "vitest";
import { MAX_STROKE_POINTS, colorOf, type MaskStroke } from "@atelier/protocol";
import { extendStroke, othersStrokes, photoPoint, regionColor, regionOverlay } from "../src/lib/mask-stroke";

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

describe("regionOverlay", () => {
  it("tints painted pixels in the style's colour and leaves the rest transparent", () => {
    const layer = {
      strokes: [
        { strokeId: "s", authorId: "u", tool: "fill" as const, size: 0.1, points: [[0, 0]] as [number, number][] },
      ],
    };
    const rgba = regionOverlay(layer, 2, 2, regionColor(0), 0.5);
    expect([...rgba.subarray(0, 4)]).toEqual([...regionColor(0), 128]);
    expect([...regionOverlay({ strokes: [] }, 2, 2, regionColor(1), 0.5)]).toEqual(new Array(16).fill(0));
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
