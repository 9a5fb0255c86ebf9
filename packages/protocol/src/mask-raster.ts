/**
 * Strokes → a grey mask the engine takes as `styles[i].mask` (white = this style). Pure, so
 * the painting rules have their own tests: a brush paints discs along its path (a capsule per
 * segment), an eraser clears the same shape, a fill floods the connected area of the value
 * under its point (a paint bucket on the mask as painted so far). Strokes apply in layer order.
 * Shared by the optimiser (the run's mask) and the studio (the overlay), so what a painter sees
 * is the mask the run gets.
 */
import type { MaskLayer, MaskStroke } from "./masks.ts";

export interface GreyMask {
  width: number;
  height: number;
  /** one byte per pixel, 0 or 255 */
  data: Uint8Array;
}

/** The raster's size: `longSide` on the photo's longer side, at the photo's aspect. */
export function maskSize(photoWidth: number, photoHeight: number, longSide: number): { width: number; height: number } {
  const scale = longSide / Math.max(photoWidth, photoHeight);
  return {
    width: Math.max(1, Math.round(photoWidth * scale)),
    height: Math.max(1, Math.round(photoHeight * scale)),
  };
}

export function rasteriseLayer(layer: MaskLayer, width: number, height: number): GreyMask {
  const data = new Uint8Array(width * height);
  for (const stroke of layer.strokes) {
    if (stroke.tool === "fill") floodFill(data, width, height, stroke.points[0]!);
    else paintPath(data, width, height, stroke, stroke.tool === "brush" ? 255 : 0);
  }
  return { width, height, data };
}

/** Grey → the RGB image the engine decodes (r = g = b). */
export function greyToRgb(mask: GreyMask): { width: number; height: number; data: Uint8Array } {
  const rgb = new Uint8Array(mask.width * mask.height * 3);
  for (let i = 0; i < mask.data.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = mask.data[i]!;
  return { width: mask.width, height: mask.height, data: rgb };
}

function paintPath(data: Uint8Array, width: number, height: number, stroke: MaskStroke, value: number): void {
  // pixel centres within the radius of the polyline; the radius is never under half a pixel
  const radius = Math.max(0.5, (stroke.size * Math.max(width, height)) / 2);
  const pts = stroke.points.map(([x, y]) => [x * width, y * height] as const);
  const segments = pts.length === 1 ? [[pts[0]!, pts[0]!]] : pts.slice(1).map((p, i) => [pts[i]!, p]);
  for (const [a, b] of segments) {
    const x0 = Math.max(0, Math.floor(Math.min(a![0], b![0]) - radius));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(a![0], b![0]) + radius));
    const y0 = Math.max(0, Math.floor(Math.min(a![1], b![1]) - radius));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(a![1], b![1]) + radius));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (distanceToSegment(x + 0.5, y + 0.5, a!, b!) <= radius) data[y * width + x] = value;
      }
    }
  }
}

function distanceToSegment(px: number, py: number, a: readonly [number, number], b: readonly [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const lengthSq = dx * dx + dy * dy;
  const t = lengthSq === 0 ? 0 : Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / lengthSq));
  return Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}

/** 4-connected flood of the value under `point`, flipping it (0 → 255, 255 → 255 stays). */
function floodFill(data: Uint8Array, width: number, height: number, point: readonly [number, number]): void {
  const sx = Math.min(width - 1, Math.floor(point[0] * width));
  const sy = Math.min(height - 1, Math.floor(point[1] * height));
  const target = data[sy * width + sx]!;
  if (target === 255) return;
  const stack = [sy * width + sx];
  data[sy * width + sx] = 255;
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    const neighbours = [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, i - width, i + width];
    for (const n of neighbours) {
      if (n >= 0 && n < data.length && data[n] === target) {
        data[n] = 255;
        stack.push(n);
      }
    }
  }
}
