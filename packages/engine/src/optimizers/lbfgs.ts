/**
 * L-BFGS as torch's optim.lbfgs runs it for jcjohnson/neural-style: history 100, learning
 * rate 1, no line search (one function evaluation per iteration). Made robust:
 * - a step without curvature information (the first, or while every pair so far had yᵀs ≤ 0)
 *   is gradient descent that moves the largest coordinate by `firstStep` (default 1, one grey
 *   level), doubled after each such step that lowered the loss and halved after one that
 *   raised it. Style losses are locally concave from a noise start (Gram targets far above
 *   the current Grams), so the first pairs have negative curvature; torch then takes the
 *   raw step −g (|Δx| up to ~1e4) and its min(1, 1/‖g‖₁) first step is below float32
 *   resolution for pixels around 100 — neither is a good way out;
 * - curvature pairs with yᵀs ≤ 1e-10 are skipped;
 * - a direction that is not a descent direction resets the history;
 * - a non-finite loss or gradient steps back to the last good point with half the step.
 */
import { allFinite, axpy, axpyDot, dot, type Optimizer } from "./optimizer.ts";

export interface LbfgsOptions {
  /** number of curvature pairs kept (default 100) */
  history?: number;
  /** step length (default 1) */
  learningRate?: number;
  /** max |Δx| of a step taken without curvature information (default 1) */
  firstStep?: number;
}

export class Lbfgs implements Optimizer {
  private readonly history: number;
  private readonly learningRate: number;
  private readonly firstStep: number;
  /** curvature pairs, oldest first; arrays are recycled when the history is full */
  private s: Float32Array[] = [];
  private y: Float32Array[] = [];
  private rho: number[] = [];
  private spare: { s: Float32Array; y: Float32Array } | null = null;
  /** initial Hessian scale γ = sᵀy / yᵀy of the newest pair */
  private hDiag = 1;
  private hasScale = false;
  /** growth factor of curvature-free steps (see above) */
  private boost = 1;
  private lossPrev = Number.POSITIVE_INFINITY;
  private readonly alpha: Float64Array;
  /** last good point, its gradient and loss; the step taken from it */
  private readonly xPrev: Float32Array;
  private readonly gPrev: Float32Array;
  private readonly direction: Float32Array;
  private t = 0;
  /** a pair can be formed with xPrev/gPrev (false right after a reset) */
  private hasPrev = false;
  /** xPrev/direction/t describe a real step we can retreat along */
  private stepped = false;

  constructor(
    private readonly n: number,
    options: LbfgsOptions = {},
  ) {
    this.history = Math.max(1, Math.floor(options.history ?? 100));
    this.learningRate = options.learningRate ?? 1;
    this.firstStep = options.firstStep ?? 1;
    if (!(this.learningRate > 0))
      throw new RangeError(`L-BFGS learning rate must be positive, got ${this.learningRate}`);
    this.alpha = new Float64Array(this.history);
    this.xPrev = new Float32Array(n);
    this.gPrev = new Float32Array(n);
    this.direction = new Float32Array(n);
  }

  reset(): void {
    // Keep γ: the new objective has a similar scale, and torch's tiny first step would waste an iteration.
    this.s = [];
    this.y = [];
    this.rho = [];
    this.spare = null;
    this.hasPrev = false;
  }

  step(x: Float32Array, loss: number, grad: Float32Array): void {
    if (x.length !== this.n || grad.length !== this.n) throw new RangeError("L-BFGS: vector length changed");

    if (!Number.isFinite(loss) || !allFinite(grad)) {
      // Overshot into NaN/Inf: go back and retry with half the step, without the bad pair.
      if (!this.stepped) throw new Error("L-BFGS: the objective is not finite at the starting point");
      this.t *= 0.5;
      x.set(this.xPrev);
      axpy(this.t, this.direction, x);
      return;
    }

    if (this.hasPrev) {
      this.addPair(x, grad);
      if (!this.hasScale) this.boost = loss < this.lossPrev ? Math.min(this.boost * 2, 1e6) : this.boost * 0.5;
    }

    const d = this.direction;
    this.twoLoop(grad, d);
    if (!(dot(grad, d) < 0)) {
      // Not a descent direction (bad curvature information): start over from steepest descent.
      this.reset();
      this.hasScale = false;
      for (let i = 0; i < this.n; i++) d[i] = -grad[i]!;
    }
    this.t = this.hasScale ? this.learningRate : (this.boost * this.firstStep * this.learningRate) / maxAbs(grad);

    this.xPrev.set(x);
    this.gPrev.set(grad);
    this.lossPrev = loss;
    this.hasPrev = true;
    this.stepped = true;
    axpy(this.t, d, x);
  }

  /** s = x − xPrev (= t·d), y = g − gPrev; kept only with positive curvature. */
  private addPair(x: Float32Array, grad: Float32Array): void {
    const s = this.spare?.s ?? new Float32Array(this.n);
    const y = this.spare?.y ?? new Float32Array(this.n);
    this.spare = null;
    for (let i = 0; i < this.n; i++) {
      s[i] = x[i]! - this.xPrev[i]!;
      y[i] = grad[i]! - this.gPrev[i]!;
    }
    const ys = dot(y, s);
    if (!(ys > 1e-10)) {
      this.spare = { s, y }; // skipped: non-positive curvature
      return;
    }
    if (this.s.length >= this.history) {
      this.spare = { s: this.s.shift()!, y: this.y.shift()! }; // recycle the oldest pair's arrays
      this.rho.shift();
    }
    this.s.push(s);
    this.y.push(y);
    this.rho.push(1 / ys);
    this.hDiag = ys / dot(y, y);
    this.hasScale = true;
  }

  /**
   * d = −H·g by the two-loop recursion over the stored pairs. Each pair's axpy is fused with
   * the next pair's dot product (axpyDot), so each loop makes one pass per pair instead of two:
   * the same updates in the same order, half the passes over memory.
   */
  private twoLoop(grad: Float32Array, d: Float32Array): void {
    for (let i = 0; i < this.n; i++) d[i] = -grad[i]!;
    const k = this.s.length;
    if (k === 0) {
      if (this.hasScale) for (let i = 0; i < this.n; i++) d[i]! *= this.hDiag;
      return;
    }
    let sd = dot(this.s[k - 1]!, d);
    for (let i = k - 1; i >= 0; i--) {
      const a = this.rho[i]! * sd;
      this.alpha[i] = a;
      // the dot for the next pair down; after the last pair, nothing further is needed
      if (i > 0) sd = axpyDot(-a, this.y[i]!, d, this.s[i - 1]!);
      else axpy(-a, this.y[i]!, d);
    }
    if (this.hasScale) for (let i = 0; i < this.n; i++) d[i]! *= this.hDiag;
    let yd = dot(this.y[0]!, d);
    for (let i = 0; i < k; i++) {
      const b = this.rho[i]! * yd;
      if (i < k - 1) yd = axpyDot(this.alpha[i]! - b, this.s[i]!, d, this.y[i + 1]!);
      else axpy(this.alpha[i]! - b, this.s[i]!, d);
    }
  }
}

function maxAbs(v: Float32Array): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  return max > 0 ? max : 1;
}
