/**
 * Adam on the pixels (jcjohnson's alternative to L-BFGS: learning rate 10, β₁ 0.9,
 * β₂ 0.999, ε 1e-8, torch's bias-corrected step). A non-finite gradient skips the update.
 */
import { allFinite, type Optimizer } from "./optimizer.ts";

export interface AdamOptions {
  learningRate?: number; // default 10
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam implements Optimizer {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(
    private readonly n: number,
    options: AdamOptions = {},
  ) {
    this.lr = options.learningRate ?? 10;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    if (!(this.lr > 0)) throw new RangeError(`Adam learning rate must be positive, got ${this.lr}`);
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
  }

  /**
   * Nothing to forget: the moments adapt to a changed objective within a few steps, while
   * zeroing them would make the next step a full learning-rate jump on every pixel.
   */
  reset(): void {}

  step(x: Float32Array, _loss: number, grad: Float32Array): void {
    if (x.length !== this.n || grad.length !== this.n) throw new RangeError("Adam: vector length changed");
    if (!allFinite(grad)) return;
    this.t++;
    const { beta1, beta2, epsilon, m, v } = this;
    const stepSize = (this.lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    for (let i = 0; i < this.n; i++) {
      const g = grad[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      x[i]! -= (stepSize * mi) / (Math.sqrt(vi) + epsilon);
    }
  }
}
