/**
 * Tiled optimisation of large levels: pure planning and pixel bookkeeping.
 *
 * A level larger than the tile is optimised a few steps at a time in overlapping tiles that
 * cover it. Every pass shifts the grid (a golden-ratio sequence of offsets, so no offset
 * repeats and borders never settle in one place), and a tile is pasted back with a linear
 * feather across the overlap, so no seam can build up at a fixed border.
 */
import type { StyleMask } from "./style-masks.ts";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Overlap between neighbouring tiles: a quarter of the tile (the feather's width). */
export function tileOverlap(tile: number): number {
  return Math.max(8, Math.round(tile / 4));
}

/** Golden-ratio offset of pass k in [0, stride): successive grids never line up. */
export function passOffset(pass: number, stride: number, axis: 0 | 1): number {
  const phi = axis === 0 ? 0.6180339887498949 : 0.7548776662466927; // 1/φ, and the plastic number's 1/ρ
  return Math.floor((((pass + 1) * phi) % 1) * stride);
}

/** Start positions of tiles of `tile` px along a side of `length` px, shifted by `offset`. */
export function tileStarts(length: number, tile: number, overlap: number, offset: number): number[] {
  if (length <= tile) return [0];
  const stride = tile - overlap;
  const starts = new Set<number>();
  for (let s = -offset; s < length - overlap; s += stride) starts.add(Math.min(Math.max(s, 0), length - tile));
  starts.add(length - tile); // the far edge is always covered
  return [...starts].sort((a, b) => a - b);
}

/** The tiles of pass `pass` over a width × height image. */
export function tileGrid(width: number, height: number, tile: number, pass: number): Rect[] {
  const overlap = tileOverlap(tile);
  const stride = tile - overlap;
  const xs = tileStarts(width, tile, overlap, passOffset(pass, stride, 0));
  const ys = tileStarts(height, tile, overlap, passOffset(pass, stride, 1));
  const rects: Rect[] = [];
  for (const y of ys) {
    for (const x of xs) rects.push({ x, y, width: Math.min(tile, width), height: Math.min(tile, height) });
  }
  return rects;
}

/** A rectangle of an interleaved image with `channels` values per pixel. */
export function crop(pixels: Float32Array, width: number, rect: Rect, channels = 3): Float32Array {
  const out = new Float32Array(rect.width * rect.height * channels);
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.y + y) * width + rect.x) * channels;
    out.set(pixels.subarray(from, from + rect.width * channels), y * rect.width * channels);
  }
  return out;
}

export function cropMask(mask: StyleMask, rect: Rect): StyleMask {
  return { width: rect.width, height: rect.height, values: crop(mask.values, mask.width, rect, 1) };
}

/**
 * Feather weight of a tile pixel at (x, y): ramps from ~0 to 1 across `overlap` px from each
 * edge that lies inside the image (edges on the image's border are not feathered).
 */
export function featherWeight(
  x: number,
  y: number,
  rect: Rect,
  width: number,
  height: number,
  overlap: number,
): number {
  let w = 1;
  const ramp = (d: number) => Math.min(1, (d + 0.5) / overlap);
  if (rect.x > 0) w = Math.min(w, ramp(x));
  if (rect.y > 0) w = Math.min(w, ramp(y));
  if (rect.x + rect.width < width) w = Math.min(w, ramp(rect.width - 1 - x));
  if (rect.y + rect.height < height) w = Math.min(w, ramp(rect.height - 1 - y));
  return w;
}

/** Writes an optimised tile back into the image (in place), feathered across the overlap. */
export function pasteTile(
  image: Float32Array,
  width: number,
  height: number,
  tilePixels: Float32Array,
  rect: Rect,
  overlap: number,
): void {
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const w = featherWeight(x, y, rect, width, height, overlap);
      const o = ((rect.y + y) * width + rect.x + x) * 3;
      const t = (y * rect.width + x) * 3;
      for (let c = 0; c < 3; c++) image[o + c] = image[o + c]! * (1 - w) + tilePixels[t + c]! * w;
    }
  }
}

/** Whether a level is optimised in tiles. */
export function isTiled(width: number, height: number, tile: number | null): tile is number {
  return tile !== null && (width > tile || height > tile);
}

/** L-BFGS pairs kept in a tiled run: its history is the largest buffer (100 pairs of a 512² image are 630 MB). */
export const TILED_LBFGS_HISTORY = 20;

/**
 * An upper bound (bytes) on the process's peak RSS for a run: ENGINE_BASE_BYTES (node, tsx,
 * both runtimes loaded — onnx keeps tfjs for image operations — and the VGG-19 weights;
 * measured ~0.84 GB for tiny runs) plus the largest piece optimised at once (a tile, or without
 * tiling the whole output) through VGG and L-BFGS, plus the full-size float buffers a level
 * keeps (image, snapshot, content, gradient, masks) and the style images.
 * VGG_BYTES_PER_PIXEL is measured, not derived: the wasm heap grew ~1.3 kB per tile pixel
 * between 128 px and 256 px tiles (relu5_1 forward + chained backward); 4 kB leaves a margin.
 * ONNX_SESSIONS_BYTES: on onnx a tiled level holds two sessions (the tile's objective and its
 * content targets, each with its own copy of the weights and its own arena) and a third while
 * it sums the style Grams. The bound is printed before the backend is chosen, so it always
 * counts them. Measured on the 2-core box (peak RSS): wasm 256 px in 128 px tiles 0.76 GB;
 * onnx 192 px in 96 px tiles 0.85 GB, 2048 px in 512 px tiles 1.52 GB, 384×288 untiled 1.00 GB.
 */
export const ENGINE_BASE_BYTES = 1_000_000_000;
export const ONNX_SESSIONS_BYTES = 300_000_000;
export const VGG_BYTES_PER_PIXEL = 4_000;
const FULL_BUFFERS = 12; // float copies of the full-size RGB image alive at once, at most

export function memoryBound(width: number, height: number, tile: number | null, styleSide: number): number {
  const tiled = isTiled(width, height, tile);
  const piece = tiled ? Math.min(tile, width) * Math.min(tile, height) : width * height;
  const lbfgs = (2 * (tile === null ? 100 : TILED_LBFGS_HISTORY) + 3) * piece * 3 * 4;
  const full = FULL_BUFFERS * width * height * 3 * 4;
  const styles = styleSide * styleSide * 3 * 5; // a decoded style image and its float copy
  return ENGINE_BASE_BYTES + ONNX_SESSIONS_BYTES + VGG_BYTES_PER_PIXEL * piece + lbfgs + full + styles;
}

/** Splits a side into ⌈length / tile⌉ near-equal parts (no overlap): [start, size] pairs. */
export function splitSide(length: number, tile: number): [number, number][] {
  const parts = Math.max(1, Math.ceil(length / tile));
  const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * length) / parts));
  return bounds.slice(0, -1).map((start, i) => [start, bounds[i + 1]! - start]);
}

/** A part of an image whose positions enter a Gram sum, and the rectangle read to compute it. */
export interface StylePart {
  read: Rect;
  own: Rect;
}

/**
 * The parts of half a tile a whole-image Gram is summed over, each read with a quarter tile of
 * context around it (so a read is at most a tile, plus up to 15 px of alignment), aligned to the
 * deepest pooling grid (16 px) so the part's pooling windows are the whole image's.
 */
export function styleParts(width: number, height: number, tile: number): StylePart[] {
  const part = Math.max(16, Math.floor(tile / 2));
  const margin = Math.floor(tile / 4);
  const parts: StylePart[] = [];
  for (const [y, h] of splitSide(height, part)) {
    for (const [x, w] of splitSide(width, part)) {
      const x0 = Math.max(0, Math.floor((x - margin) / 16) * 16);
      const y0 = Math.max(0, Math.floor((y - margin) / 16) * 16);
      parts.push({
        read: {
          x: x0,
          y: y0,
          width: Math.min(width, x + w + margin) - x0,
          height: Math.min(height, y + h + margin) - y0,
        },
        own: { x, y, width: w, height: h },
      });
    }
  }
  return parts;
}

/**
 * A part's own positions on a layer's map (`mapWidth` × `mapHeight`, read coordinates, 2^poolings
 * px per position), or null where none are left at that resolution.
 */
export function ownAtLayer(part: StylePart, poolings: number, mapWidth: number, mapHeight: number): Rect | null {
  const scale = 2 ** poolings;
  const { read, own } = part;
  const top = Math.min(mapHeight, Math.floor((own.y - read.y) / scale));
  const left = Math.min(mapWidth, Math.floor((own.x - read.x) / scale));
  const height = Math.min(mapHeight, Math.floor((own.y + own.height - read.y) / scale)) - top;
  const width = Math.min(mapWidth, Math.floor((own.x + own.width - read.x) / scale)) - left;
  return height > 0 && width > 0 ? { x: left, y: top, width, height } : null;
}
