/**
 * The optimisers work on the image's pixels as one flat Float32Array, in place. A run calls
 * `step` once per objective evaluation (one function evaluation per iteration, like
 * torch's optim.lbfgs without line search as jcjohnson/neural-style uses it).
 *
 * Plain JS arrays rather than tensors: the state is a handful of vector updates per
 * iteration (dot products, axpys) that stay exactly reproducible (double-precision
 * accumulation, fixed order) and need no tensor bookkeeping. L-BFGS's two-loop is the one
 * large cost (2 passes per history pair over the image: at 512 px with 100 pairs, 400 passes of
 * 786 k floats), so its kernels are fused (axpyDot: one pass where two were) and unrolled by
 * four with independent accumulators, which lets V8 overlap the multiply-adds.
 */
export interface Optimizer {
  /**
   * Given the loss and gradient at the current x, moves x (in place) to the next point to
   * evaluate.
   */
  step(x: Float32Array, loss: number, grad: Float32Array): void;
  /** The objective changed (weights were edited): forget curvature/moment history. */
  reset(): void;
}

export function dot(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/**
 * y += alpha · x, then returns z · y (the updated y) — the two-loop's axpy of one pair fused
 * with the dot product of the next, in one pass over the arrays.
 */
export function axpyDot(alpha: number, x: Float32Array, y: Float32Array, z: Float32Array): number {
  const n = y.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    // Math.fround: the dot must see y as stored (float32), exactly as a separate pass would
    const y0 = Math.fround(y[i]! + alpha * x[i]!);
    const y1 = Math.fround(y[i + 1]! + alpha * x[i + 1]!);
    const y2 = Math.fround(y[i + 2]! + alpha * x[i + 2]!);
    const y3 = Math.fround(y[i + 3]! + alpha * x[i + 3]!);
    y[i] = y0;
    y[i + 1] = y1;
    y[i + 2] = y2;
    y[i + 3] = y3;
    s0 += z[i]! * y0;
    s1 += z[i + 1]! * y1;
    s2 += z[i + 2]! * y2;
    s3 += z[i + 3]! * y3;
  }
  for (; i < n; i++) {
    const v = Math.fround(y[i]! + alpha * x[i]!);
    y[i] = v;
    s0 += z[i]! * v;
  }
  return s0 + s1 + s2 + s3;
}

/** y += alpha · x */
export function axpy(alpha: number, x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

export function allFinite(v: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return false;
  return true;
}
