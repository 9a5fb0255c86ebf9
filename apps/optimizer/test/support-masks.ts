/**
 * Maximal style regions, for the flood test and `npm run bench:masks`: strokes at the protocol's
 * bounds (MAX_STROKE_POINTS points each, the largest brush), in the shapes that cost the most.
 */
import { MAX_BRUSH_SIZE, MAX_STROKE_POINTS, type MaskStrokeInput } from "@atelier/protocol";

type MaskShape = "zigzag" | "walk" | "fine";

/** A deterministic stroke: `zigzag` crosses the whole photo top to bottom at every point (the worst rows per segment), `walk` wanders, `fine` wanders with a small brush. */
export function maximalStroke(
  shape: MaskShape,
  serial: number,
  tool: MaskStrokeInput["tool"] = "brush",
): MaskStrokeInput {
  let seed = 1 + serial * 7919;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const points: [number, number][] = [];
  let [x, y] = [random(), random()];
  for (let i = 0; i < MAX_STROKE_POINTS; i++) {
    if (shape === "zigzag") points.push([(i + random()) / MAX_STROKE_POINTS, i % 2 === 0 ? 0.001 : 0.999]);
    else {
      x = Math.min(1, Math.max(0, x + (random() - 0.5) * 0.05));
      y = Math.min(1, Math.max(0, y + (random() - 0.5) * 0.05));
      // full float digits: the most bytes a point can take on the wire
      points.push([x, y]);
    }
  }
  return {
    strokeId: `stroke-${shape}-${serial}`,
    tool,
    size: shape === "fine" ? 0.01 : MAX_BRUSH_SIZE,
    points: tool === "fill" ? [points[0]!] : points,
  };
}
