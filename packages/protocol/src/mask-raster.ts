/**
 * Strokes → a grey mask the engine takes as `styles[i].mask` (white = this style). Pure, so
 * the painting rules have their own tests: a brush paints discs along its path (a capsule per
 * segment), an eraser clears the same shape, a fill floods the connected area of the value
 * under its point (a paint bucket on the mask as painted so far). Strokes apply in layer order.
 * Shared by the optimiser (the run's mask) and the studio (the overlay), so what a painter sees
 * is the mask the run gets.
 */
import type { MaskLayer, MaskStroke } from "./masks.ts";

/**
 * The long side a run's style masks are rasterised at (at most; a smaller run uses its own
 * size), and the studio's overlay: the regions are painted on a raster of this size, so the
 * run gets exactly the mask the painter saw, and the engine resizes it to each level of the run
 * (smooth edges) as it does any mask image. It also bounds what a room's masks cost a run,
 * whatever the run's size (`npm run bench:masks`).
 */
export const MASK_RASTER_LONG_SIDE = 320;

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
  const raster = new LayerRaster(width, height);
  for (const stroke of layer.strokes) raster.apply(stroke);
  return raster.mask;
}

/**
 * A layer being painted stroke by stroke: the engine applies a whole layer at once, the studio
 * one new stroke at a time onto what it drew before (so a stroke costs its own length, never
 * the layer's). Costs: a brush or eraser stroke is linear in its length — per segment, each
 * row it crosses gets the capsule's one x-interval (no per-pixel distance tests), merged with
 * the interval the previous segment left in that row and written as a span; a fill is linear
 * in the area it floods (scanline spans).
 */
export class LayerRaster {
  readonly mask: GreyMask;
  /** per row, the span of the stroke being painted not yet written (-1: none) */
  private readonly spanFrom: Int32Array;
  private readonly spanTo: Int32Array;

  constructor(width: number, height: number) {
    this.mask = { width, height, data: new Uint8Array(width * height) };
    this.spanFrom = new Int32Array(height).fill(-1);
    this.spanTo = new Int32Array(height);
  }

  apply(stroke: MaskStroke): void {
    const { width, height, data } = this.mask;
    if (stroke.tool === "fill") floodFill(data, width, height, stroke.points[0]!);
    else this.paintPath(stroke, stroke.tool === "brush" ? 255 : 0);
  }

  private paintPath(stroke: MaskStroke, value: number): void {
    const { width, height } = this.mask;
    // pixel centres within the radius of the polyline; the radius is never under half a pixel
    const radius = Math.max(0.5, (stroke.size * Math.max(width, height)) / 2);
    const points = stroke.points;
    let top = height;
    let bottom = -1;
    const last = points.length - 1;
    for (let i = 0; i < Math.max(1, last); i++) {
      const [ax, ay] = points[i]!;
      const [bx, by] = points[Math.min(i + 1, last)]!;
      const rows = this.paintCapsule(ax * width, ay * height, bx * width, by * height, radius, value);
      if (rows) {
        top = Math.min(top, rows[0]);
        bottom = Math.max(bottom, rows[1]);
      }
    }
    for (let y = top; y <= bottom; y++) this.flush(y, value);
  }

  /** Adds one segment's capsule to the rows' spans; returns the rows it touched. */
  private paintCapsule(
    ax: number,
    ay: number,
    bx: number,
    by: number,
    r: number,
    value: number,
  ): [number, number] | null {
    const { width, height } = this.mask;
    // rows whose centre (y + 0.5) is within r of the segment's vertical extent
    const y0 = Math.max(0, Math.ceil(Math.min(ay, by) - r - 0.5));
    const y1 = Math.min(height - 1, Math.floor(Math.max(ay, by) + r - 0.5));
    if (y0 > y1) return null;
    const dx = bx - ax;
    const dy = by - ay;
    const lengthSq = dx * dx + dy * dy;
    const length = Math.sqrt(lengthSq);
    const rr = r * r;
    for (let y = y0; y <= y1; y++) {
      const py = y + 0.5;
      // the capsule is convex, so its row is one interval: the hull of the row's intervals of
      // the two end discs and of the rectangle between them
      let lo = Infinity;
      let hi = -Infinity;
      const da = rr - (py - ay) * (py - ay);
      if (da >= 0) {
        const h = Math.sqrt(da);
        lo = ax - h;
        hi = ax + h;
      }
      const db = rr - (py - by) * (py - by);
      if (db >= 0) {
        const h = Math.sqrt(db);
        if (bx - h < lo) lo = bx - h;
        if (bx + h > hi) hi = bx + h;
      }
      if (lengthSq > 0) {
        // inside the rectangle: 0 ≤ (p − a)·d ≤ |d|² and |(p − a)×d| ≤ r|d|, each linear in x
        const oy = py - ay;
        let rlo = -Infinity;
        let rhi = Infinity;
        if (dx !== 0) {
          const u = ax - (oy * dy) / dx;
          const v = ax + (lengthSq - oy * dy) / dx;
          rlo = Math.min(u, v);
          rhi = Math.max(u, v);
        } else if (oy * dy < 0 || oy * dy > lengthSq) rhi = -Infinity;
        if (dy !== 0) {
          const u = ax + (oy * dx - r * length) / dy;
          const v = ax + (oy * dx + r * length) / dy;
          rlo = Math.max(rlo, Math.min(u, v));
          rhi = Math.min(rhi, Math.max(u, v));
        } else if (Math.abs(oy * dx) > r * length) rhi = -Infinity;
        if (rlo <= rhi) {
          if (rlo < lo) lo = rlo;
          if (rhi > hi) hi = rhi;
        }
      }
      if (lo > hi) continue;
      // pixels whose centre (x + 0.5) lies in [lo, hi]
      const from = Math.max(0, Math.ceil(lo - 0.5));
      const to = Math.min(width - 1, Math.floor(hi - 0.5));
      if (from > to) continue;
      const spanFrom = this.spanFrom[y]!;
      if (spanFrom < 0) {
        this.spanFrom[y] = from;
        this.spanTo[y] = to;
      } else if (from <= this.spanTo[y]! + 1 && to >= spanFrom - 1) {
        // the next segment of a stroke mostly overlaps the one before: one span grows
        if (from < spanFrom) this.spanFrom[y] = from;
        if (to > this.spanTo[y]!) this.spanTo[y] = to;
      } else {
        this.flush(y, value);
        this.spanFrom[y] = from;
        this.spanTo[y] = to;
      }
    }
    return [y0, y1];
  }

  private flush(y: number, value: number): void {
    const from = this.spanFrom[y]!;
    if (from < 0) return;
    const row = y * this.mask.width;
    this.mask.data.fill(value, row + from, row + this.spanTo[y]! + 1);
    this.spanFrom[y] = -1;
  }
}

/** Grey → the RGB image the engine decodes (r = g = b). */
export function greyToRgb(mask: GreyMask): { width: number; height: number; data: Uint8Array } {
  const rgb = new Uint8Array(mask.width * mask.height * 3);
  for (let i = 0; i < mask.data.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = mask.data[i]!;
  return { width: mask.width, height: mask.height, data: rgb };
}

/**
 * 4-connected flood of the value under `point` (0 → 255; on 255 nothing changes), by scanline
 * spans: each pixel is written once and each row's neighbours are scanned once per span.
 */
function floodFill(data: Uint8Array, width: number, height: number, point: readonly [number, number]): void {
  const sx = Math.min(width - 1, Math.floor(point[0] * width));
  const sy = Math.min(height - 1, Math.floor(point[1] * height));
  const target = data[sy * width + sx]!;
  if (target === 255) return;
  // seeds as (x, y) pairs; a seed is any unfilled pixel of a span still to fill
  let stack = new Int32Array(256);
  let top = 0;
  const push = (x: number, y: number) => {
    if (top + 2 > stack.length) {
      const grown = new Int32Array(stack.length * 2);
      grown.set(stack);
      stack = grown;
    }
    stack[top++] = x;
    stack[top++] = y;
  };
  push(sx, sy);
  while (top > 0) {
    const y = stack[--top]!;
    const x = stack[--top]!;
    const row = y * width;
    if (data[row + x] !== target) continue;
    let left = x;
    while (left > 0 && data[row + left - 1] === target) left--;
    let right = x;
    while (right < width - 1 && data[row + right + 1] === target) right++;
    data.fill(255, row + left, row + right + 1);
    // one seed per run of target pixels in the rows above and below
    if (y > 0) seedRuns(y - 1);
    if (y < height - 1) seedRuns(y + 1);

    function seedRuns(ny: number): void {
      const nrow = ny * width;
      let inRun = false;
      for (let nx = left; nx <= right; nx++) {
        const open = data[nrow + nx] === target;
        if (open && !inRun) push(nx, ny);
        inRun = open;
      }
    }
  }
}
