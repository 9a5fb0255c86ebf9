/**
 * The optimisers work on the image's pixels as one flat Float32Array, in place. A run calls
 * `step` once per objective evaluation (one function evaluation per iteration, like
 * torch's optim.lbfgs without line search as jcjohnson/neural-style uses it).
 *
 * Plain JS arrays rather than tensors: the state is a handful of vector updates per
 * iteration (dot products, axpys) that cost ~1–3 % of a VGG evaluation, stay exactly
 * reproducible (double-precision accumulation, fixed order), and need no tensor bookkeeping.
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
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** y += alpha · x */
export function axpy(alpha: number, x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += alpha * x[i]!;
}

export function allFinite(v: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return false;
  return true;
}
