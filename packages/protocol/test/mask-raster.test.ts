import { describe, expect, it } from "vitest";
import type { MaskStroke } from "../src/index.ts";
import { greyToRgb, maskSize, rasteriseLayer } from "../src/index.ts";

const s = (tool: MaskStroke["tool"], size: number, points: [number, number][], strokeId = tool): MaskStroke => ({
  strokeId,
  authorId: "u",
  tool,
  size,
  points,
});
const painted = (m: { data: Uint8Array }) => m.data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);
const at = (m: { width: number; data: Uint8Array }, x: number, y: number) => m.data[y * m.width + x];

describe("maskSize", () => {
  it("keeps the photo's aspect with the long side given", () => {
    expect(maskSize(1024, 768, 64)).toEqual({ width: 64, height: 48 });
    expect(maskSize(300, 600, 100)).toEqual({ width: 50, height: 100 });
  });
});

describe("rasteriseLayer", () => {
  it("paints a brush dab as a disc of the brush's diameter", () => {
    // diameter 0.5 of the long side (40 px) → radius 20 px around (40, 20)
    const m = rasteriseLayer({ strokes: [s("brush", 0.5, [[0.5, 0.5]])] }, 80, 40);
    expect(at(m, 40, 20)).toBe(255);
    expect(at(m, 40 + 18, 20)).toBe(255);
    expect(at(m, 40 + 22, 20)).toBe(0);
    expect(at(m, 0, 0)).toBe(0);
    expect(painted(m) / (Math.PI * 20 * 20)).toBeCloseTo(1, 1);
  });

  it("paints a capsule along a path", () => {
    const m = rasteriseLayer(
      {
        strokes: [
          s("brush", 0.1, [
            [0.1, 0.5],
            [0.9, 0.5],
          ]),
        ],
      },
      100,
      100,
    );
    for (const x of [10, 30, 50, 70, 89]) expect(at(m, x, 50)).toBe(255);
    expect(at(m, 50, 60)).toBe(0);
    expect(at(m, 50, 30)).toBe(0);
  });

  it("erases what a brush painted, in stroke order", () => {
    const brush = s("brush", 0.5, [[0.5, 0.5]]);
    const eraser = s("eraser", 0.1, [[0.5, 0.5]]);
    const erased = rasteriseLayer({ strokes: [brush, eraser] }, 100, 100);
    expect(at(erased, 50, 50)).toBe(0);
    expect(at(erased, 50, 30)).toBe(255);
    // an eraser before the brush erases nothing
    expect(at(rasteriseLayer({ strokes: [eraser, brush] }, 100, 100), 50, 50)).toBe(255);
  });

  it("fills the connected area under its point, bounded by paint", () => {
    // a vertical wall at x ≈ 50 splits the image; a fill on the left covers the left only
    const wall = s("brush", 0.04, [
      [0.5, 0],
      [0.5, 1],
    ]);
    const m = rasteriseLayer({ strokes: [wall, s("fill", 0.01, [[0.1, 0.5]])] }, 100, 100);
    expect(at(m, 5, 5)).toBe(255);
    expect(at(m, 30, 95)).toBe(255);
    expect(at(m, 80, 50)).toBe(0);
    expect(at(m, 99, 99)).toBe(0);
    // a fill inside paint changes nothing; on an empty mask it covers everything
    expect(painted(rasteriseLayer({ strokes: [wall, s("fill", 0.01, [[0.5, 0.5]])] }, 100, 100))).toBe(
      painted(rasteriseLayer({ strokes: [wall] }, 100, 100)),
    );
    expect(painted(rasteriseLayer({ strokes: [s("fill", 0.01, [[1, 1]])] }, 10, 10))).toBe(100);
  });

  it("turns grey into the engine's RGB", () => {
    const rgb = greyToRgb({ width: 2, height: 1, data: new Uint8Array([0, 255]) });
    expect([...rgb.data]).toEqual([0, 0, 0, 255, 255, 255]);
  });
});
