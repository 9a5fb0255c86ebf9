/**
 * Colour matching (Gatys et al. 2017, §5 "colour histogram matching"): an affine map of RGB,
 * x' = A (x − μ_s) + μ_r, that gives an image the mean and covariance of a reference image's
 * colours. Used before a run (the style's colours matched to the content's, so the style
 * brings texture but the photo's palette) or after it (the result's colours matched to the
 * content's).
 *
 * Why mean/covariance and not per-channel CDF matching: it matches the joint colour
 * statistics (CDF matching treats R, G and B independently and breaks their correlations),
 * it is one smooth linear map so it cannot posterise or band the style's textures, and it is
 * closed form. A = L_r L_s⁻¹ with L the Cholesky factors of the two covariances, so
 * A Σ_s Aᵀ = Σ_r exactly; Cholesky rather than the symmetric square root (PCA) because a 3×3
 * Cholesky needs no eigen-solver. A small ridge keeps flat (rank-deficient) images solvable.
 */
import type { RgbImage } from "./api.ts";
import { toRgbImage } from "./color.ts";

type Mat3 = [number, number, number, number, number, number, number, number, number];

/** Mean [r, g, b] and covariance (row-major 3×3) of interleaved RGB pixels. */
export function colorStats(pixels: ArrayLike<number>): { mean: [number, number, number]; cov: Mat3 } {
  const n = pixels.length / 3;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`colorStats: need RGB triples, got ${pixels.length} values`);
  const mean: [number, number, number] = [0, 0, 0];
  for (let o = 0; o < pixels.length; o += 3) for (let c = 0; c < 3; c++) mean[c]! += pixels[o + c]!;
  for (let c = 0; c < 3; c++) mean[c]! /= n;
  const cov: Mat3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let o = 0; o < pixels.length; o += 3) {
    const d0 = pixels[o]! - mean[0];
    const d1 = pixels[o + 1]! - mean[1];
    const d2 = pixels[o + 2]! - mean[2];
    cov[0] += d0 * d0;
    cov[1] += d0 * d1;
    cov[2] += d0 * d2;
    cov[4] += d1 * d1;
    cov[5] += d1 * d2;
    cov[8] += d2 * d2;
  }
  cov[3] = cov[1];
  cov[6] = cov[2];
  cov[7] = cov[5];
  for (let i = 0; i < 9; i++) cov[i]! /= n;
  return { mean, cov };
}

/** Lower-triangular L with L Lᵀ = m (m symmetric positive definite). */
export function cholesky3(m: Mat3): Mat3 {
  const l: Mat3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = m[i * 3 + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * 3 + k]! * l[j * 3 + k]!;
      if (i === j) {
        if (!(sum > 0)) throw new RangeError("cholesky3: matrix is not positive definite");
        l[i * 3 + i] = Math.sqrt(sum);
      } else {
        l[i * 3 + j] = sum / l[j * 3 + j]!;
      }
    }
  }
  return l;
}

/** Inverse of a lower-triangular 3×3 matrix. */
function invertLower(l: Mat3): Mat3 {
  const inv: Mat3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 3; i++) {
    inv[i * 3 + i] = 1 / l[i * 3 + i]!;
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum += l[i * 3 + k]! * inv[k * 3 + j]!;
      inv[i * 3 + j] = -sum / l[i * 3 + i]!;
    }
  }
  return inv;
}

function multiply(a: Mat3, b: Mat3): Mat3 {
  const out: Mat3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j]! += a[i * 3 + k]! * b[k * 3 + j]!;
  return out;
}

/** Variance (0–255 units²) added to each channel so flat images still have a Cholesky factor. */
const RIDGE = 1e-3;

function ridged(cov: Mat3): Mat3 {
  const out = [...cov] as Mat3;
  out[0] += RIDGE;
  out[4] += RIDGE;
  out[8] += RIDGE;
  return out;
}

/**
 * `source` (interleaved RGB, 0–255, any size) with the colour mean and covariance of
 * `reference` (any size), clipped to 0–255. Identity when both have the same statistics.
 */
export function matchColors(source: ArrayLike<number>, reference: ArrayLike<number>): Float32Array {
  const s = colorStats(source);
  const r = colorStats(reference);
  const a = multiply(cholesky3(ridged(r.cov)), invertLower(cholesky3(ridged(s.cov))));
  const out = new Float32Array(source.length);
  for (let o = 0; o < source.length; o += 3) {
    const d0 = source[o]! - s.mean[0];
    const d1 = source[o + 1]! - s.mean[1];
    const d2 = source[o + 2]! - s.mean[2];
    for (let c = 0; c < 3; c++) {
      const v = a[c * 3]! * d0 + a[c * 3 + 1]! * d1 + a[c * 3 + 2]! * d2 + r.mean[c]!;
      out[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** An 8-bit image with the colour statistics of `reference` (e.g. a style matched to the content). */
export function matchImageColors(image: RgbImage, reference: RgbImage): RgbImage {
  return toRgbImage(matchColors(image.data, reference.data), image.width, image.height);
}
