/**
 * The mask painter's pure parts: where a pointer is in photo coordinates, which points a stroke
 * keeps, the tinted overlay a style's region is drawn as (from the same rasteriser the run
 * uses, so the overlay is the mask the run gets), and whose strokes get an outline.
 */
import {
  LayerRaster,
  MAX_STROKE_POINTS,
  colorOf,
  type GreyMask,
  type MaskLayer,
  type MaskStroke,
} from "@atelier/protocol";

/** One colour per style slot (the order of the room's styles), readable over a photo. */
const REGION_COLORS: [number, number, number][] = [
  [230, 57, 70],
  [29, 120, 230],
  [46, 170, 90],
  [240, 160, 20],
  [150, 70, 200],
];

export function regionColor(styleIndex: number): [number, number, number] {
  return REGION_COLORS[styleIndex % REGION_COLORS.length]!;
}

export function cssColor([r, g, b]: [number, number, number], alpha = 1): string {
  return `rgb(${r} ${g} ${b} / ${alpha})`;
}

/** A pointer position inside `box` as normalised photo coordinates, clamped to the photo. */
export function photoPoint(
  clientX: number,
  clientY: number,
  box: { left: number; top: number; width: number; height: number },
): [number, number] {
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return [clamp((clientX - box.left) / box.width), clamp((clientY - box.top) / box.height)];
}

/**
 * The stroke with `point` added, or unchanged when the point is closer than `minStep` to the
 * last one (pointer moves come far faster than a stroke needs points) or the stroke is full.
 */
export function extendStroke(points: [number, number][], point: [number, number], minStep: number): [number, number][] {
  const last = points.at(-1);
  if (last && Math.hypot(point[0] - last[0], point[1] - last[1]) < minStep) return points;
  if (points.length >= MAX_STROKE_POINTS) return points;
  return [...points, point];
}

/** A style's region as RGBA pixels: its colour at `alpha` where painted, transparent elsewhere. */
export function tintMask(
  mask: GreyMask,
  color: [number, number, number],
  alpha: number,
): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(mask.width * mask.height * 4);
  const a = Math.round(alpha * 255);
  for (let i = 0; i < mask.data.length; i++) {
    if (mask.data[i] === 0) continue;
    rgba[i * 4] = color[0];
    rgba[i * 4 + 1] = color[1];
    rgba[i * 4 + 2] = color[2];
    rgba[i * 4 + 3] = a;
  }
  return rgba;
}

/**
 * One style's region raster as the painter keeps it between changes: a stroke appended to the
 * layer (the usual change: `mask:changed` adds one) is painted onto the raster as it stands, so
 * it costs its own length, not the layer's; a removal (undo, clear) or a new size repaints the
 * layer from its first stroke (the same result: LayerRaster is exact either way).
 */
export class LayerRasterCache {
  private raster: LayerRaster;
  private strokeIds: string[] = [];

  constructor(
    private width: number,
    private height: number,
  ) {
    this.raster = new LayerRaster(width, height);
  }

  get mask(): GreyMask {
    return this.raster.mask;
  }

  /** Brings the raster to `layer`; says how: nothing changed, strokes appended, or repainted. */
  sync(layer: MaskLayer | undefined, width = this.width, height = this.height): "same" | "appended" | "repainted" {
    const strokes = layer?.strokes ?? [];
    const known = this.strokeIds;
    const sameSize = width === this.width && height === this.height;
    const isPrefix = sameSize && known.length <= strokes.length && known.every((id, i) => strokes[i]!.strokeId === id);
    if (isPrefix && known.length === strokes.length) return "same";
    if (!isPrefix) {
      this.width = width;
      this.height = height;
      this.raster = new LayerRaster(width, height);
      this.strokeIds = [];
    }
    const from = this.strokeIds.length;
    for (const stroke of strokes.slice(from)) {
      this.raster.apply(stroke);
      this.strokeIds.push(stroke.strokeId);
    }
    return isPrefix ? "appended" : "repainted";
  }
}

/**
 * The strokes of a layer painted by someone other than `me`, each with its author's presence
 * colour (colorOf, as their avatar and field rings): the painter outlines them so everyone sees
 * who painted what. My own strokes are not outlined (undo and clear act on exactly those).
 */
export function othersStrokes(layer: MaskLayer, me: string): { stroke: MaskStroke; color: string }[] {
  return layer.strokes.filter((s) => s.authorId !== me).map((stroke) => ({ stroke, color: colorOf(stroke.authorId) }));
}
