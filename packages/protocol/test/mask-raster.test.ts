import { describe, expect, it } from "vitest";
import type { MaskStroke } from "../src/index.ts";
import { LayerRaster, greyToRgb, maskSize, rasteriseLayer } from "../src/index.ts";

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

/** The rule the rasteriser implements, pixel by pixel (the old bounding-box way): the reference. */
function referenceLayer(strokes: MaskStroke[], width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height);
  const distance = (px: number, py: number, a: number[], b: number[]) => {
    const dx = b[0]! - a[0]!;
    const dy = b[1]! - a[1]!;
    const l = dx * dx + dy * dy;
    const t = l === 0 ? 0 : Math.max(0, Math.min(1, ((px - a[0]!) * dx + (py - a[1]!) * dy) / l));
    return Math.hypot(px - (a[0]! + t * dx), py - (a[1]! + t * dy));
  };
  for (const stroke of strokes) {
    const r = Math.max(0.5, (stroke.size * Math.max(width, height)) / 2);
    const pts = stroke.points.map(([x, y]) => [x * width, y * height]);
    const segments = pts.length === 1 ? [[pts[0]!, pts[0]!]] : pts.slice(1).map((p, i) => [pts[i]!, p]);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        if (segments.some(([a, b]) => distance(x + 0.5, y + 0.5, a!, b!) <= r))
          data[y * width + x] = stroke.tool === "brush" ? 255 : 0;
  }
  return data;
}

describe("rasteriseLayer against the per-pixel rule", () => {
  it("paints exactly the pixels whose centre is within the brush radius of the path (random strokes)", () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let round = 0; round < 8; round++) {
      const strokes: MaskStroke[] = [];
      for (let k = 0; k < 4; k++) {
        const n = 1 + Math.floor(random() * 12);
        const points: [number, number][] = [];
        for (let i = 0; i < n; i++) points.push([random(), random()]);
        // horizontal and vertical segments are their own cases in the row intervals
        if (k === 1 && n > 1) points[1] = [points[0]![0], points[1]![1]];
        if (k === 2 && n > 1) points[1] = [points[1]![0], points[0]![1]];
        const tool = k === 3 ? "eraser" : "brush";
        strokes.push({ strokeId: `s${k}`, authorId: "u", tool, size: 0.005 + random() * 0.3, points });
      }
      const [w, h] = [37 + round * 3, 29 + round * 2];
      const fast = rasteriseLayer({ strokes }, w, h).data;
      const slow = referenceLayer(strokes, w, h);
      let differing = 0;
      for (let i = 0; i < fast.length; i++) if (fast[i] !== slow[i]) differing++;
      // only a pixel centre on the brush's edge to within rounding may differ
      expect(differing).toBeLessThanOrEqual(1);
    }
  });

  it("a stroke applied onto an earlier raster gives the layer's raster (the studio paints only the new stroke)", () => {
    const a = s("brush", 0.2, [
      [0.1, 0.1],
      [0.8, 0.6],
    ]);
    const b = s("eraser", 0.05, [
      [0.5, 0],
      [0.5, 1],
    ]);
    const c = s("fill", 0.01, [[0.95, 0.05]]);
    const raster = new LayerRaster(90, 60);
    for (const stroke of [a, b, c]) raster.apply(stroke);
    expect(raster.mask.data).toEqual(rasteriseLayer({ strokes: [a, b, c] }, 90, 60).data);
  });
});
