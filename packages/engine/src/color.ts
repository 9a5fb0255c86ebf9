/**
 * Colour helpers for "original colours" (luminance-only transfer, as jcjohnson's
 * -original_colors): keep the luminance Y of the stylised image and the chroma (I, Q) of
 * the content image, in YIQ (NTSC) space, then convert back to RGB and clip.
 */
import type { RgbImage } from "./api.ts";

// RGB → YIQ (FCC NTSC); the inverse is computed exactly so a round trip is lossless.
const Y = [0.299, 0.587, 0.114] as const;
const I = [0.595716, -0.274453, -0.321263] as const;
const Q = [0.211456, -0.522591, 0.311135] as const;
const [R_FROM, G_FROM, B_FROM] = invert3([Y, I, Q]) as [Vec3, Vec3, Vec3];
type Vec3 = [number, number, number];

function invert3(m: readonly (readonly [number, number, number])[]): [number, number, number][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, i] = m[2]!;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

function clipByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/**
 * Y of `styled`, I and Q of `content` (same size) → RGB bytes. Either input may be 8-bit or
 * float 0–255 interleaved RGB.
 */
export function transferLuminance(
  styled: ArrayLike<number>,
  content: ArrayLike<number>,
  width: number,
  height: number,
): Uint8Array {
  const n = width * height;
  if (styled.length !== n * 3 || content.length !== n * 3) {
    throw new RangeError(`transferLuminance: expected ${n * 3} values, got ${styled.length} and ${content.length}`);
  }
  const out = new Uint8Array(n * 3);
  for (let p = 0, o = 0; p < n; p++, o += 3) {
    const sr = styled[o]!,
      sg = styled[o + 1]!,
      sb = styled[o + 2]!;
    const cr = content[o]!,
      cg = content[o + 1]!,
      cb = content[o + 2]!;
    const y = Y[0] * sr + Y[1] * sg + Y[2] * sb;
    const i = I[0] * cr + I[1] * cg + I[2] * cb;
    const q = Q[0] * cr + Q[1] * cg + Q[2] * cb;
    out[o] = clipByte(R_FROM[0] * y + R_FROM[1] * i + R_FROM[2] * q);
    out[o + 1] = clipByte(G_FROM[0] * y + G_FROM[1] * i + G_FROM[2] * q);
    out[o + 2] = clipByte(B_FROM[0] * y + B_FROM[1] * i + B_FROM[2] * q);
  }
  return out;
}

/** Float 0–255 RGB → clipped, rounded 8-bit image. */
export function toRgbImage(pixels: ArrayLike<number>, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = clipByte(pixels[i]!);
  return { width, height, data };
}

/** 8-bit RGB → float 0–255. */
export function toFloatPixels(image: RgbImage): Float32Array {
  return Float32Array.from(image.data);
}
