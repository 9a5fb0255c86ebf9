import { describe, expect, it } from "vitest";
import { Adam } from "../src/optimizers/adam.ts";
import { Lbfgs } from "../src/optimizers/lbfgs.ts";
import { axpy, axpyDot, dot, type Optimizer } from "../src/optimizers/optimizer.ts";

type Fn = (x: Float32Array) => { loss: number; grad: Float32Array };

/** Rosenbrock in n dimensions: Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)², minimum 0 at all ones. */
const rosenbrock: Fn = (x) => {
  const grad = new Float32Array(x.length);
  let loss = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i]!;
    const b = x[i + 1]!;
    loss += 100 * (b - a * a) ** 2 + (1 - a) ** 2;
    grad[i]! += -400 * a * (b - a * a) - 2 * (1 - a);
    grad[i + 1]! += 200 * (b - a * a);
  }
  return { loss, grad };
};

/** An ill-conditioned quadratic ½ Σ c_i (x_i − i)², condition number 1000. */
const quadratic: Fn = (x) => {
  const grad = new Float32Array(x.length);
  let loss = 0;
  for (let i = 0; i < x.length; i++) {
    const c = 10 ** ((3 * i) / (x.length - 1));
    const d = x[i]! - i;
    loss += 0.5 * c * d * d;
    grad[i] = c * d;
  }
  return { loss, grad };
};

/** Runs like the engine: evaluate, then step (n evaluations). Returns the losses. */
function run(fn: Fn, x: Float32Array, optimizer: Optimizer, evaluations: number): number[] {
  const losses: number[] = [];
  for (let k = 0; k < evaluations; k++) {
    const { loss, grad } = fn(x);
    losses.push(loss);
    if (k + 1 < evaluations) optimizer.step(x, loss, grad);
  }
  return losses;
}

describe("L-BFGS", () => {
  it("minimises the 2-D Rosenbrock function from (−1.2, 1)", () => {
    const x = Float32Array.from([-1.2, 1]);
    const losses = run(rosenbrock, x, new Lbfgs(2), 300);
    expect(losses.at(-1)!).toBeLessThan(1e-6);
    expect(x[0]).toBeCloseTo(1, 2);
    expect(x[1]).toBeCloseTo(1, 2);
  });

  it("minimises a 10-D Rosenbrock function", () => {
    const x = new Float32Array(10).fill(-1);
    const losses = run(rosenbrock, x, new Lbfgs(10), 500);
    expect(losses.at(-1)!).toBeLessThan(1e-5);
  });

  it("solves an ill-conditioned quadratic in far fewer steps than its dimension", () => {
    const n = 200;
    const x = new Float32Array(n);
    const losses = run(quadratic, x, new Lbfgs(n, { history: 20 }), 120);
    expect(losses.at(-1)! / losses[0]!).toBeLessThan(1e-8);
  });

  it("skips pairs with non-positive curvature and still descends on a concave-then-convex function", () => {
    // f(x) = Σ (x_i² − 4)²: concave around 0 (where a noise-like start sits), minima at ±2.
    const fn: Fn = (x) => {
      const grad = new Float32Array(x.length);
      let loss = 0;
      for (let i = 0; i < x.length; i++) {
        const u = x[i]! * x[i]! - 4;
        loss += u * u;
        grad[i] = 4 * x[i]! * u;
      }
      return { loss, grad };
    };
    const x = Float32Array.from({ length: 50 }, (_, i) => 0.01 * Math.sin(i + 1));
    const losses = run(fn, x, new Lbfgs(50), 100);
    expect(losses.at(-1)! / losses[0]!).toBeLessThan(1e-6);
    for (const v of x) expect(Math.abs(Math.abs(v) - 2)).toBeLessThan(1e-3);
  });

  it("steps back with a smaller step after a non-finite evaluation", () => {
    // f(v) = 1/(3 − v) − v on v < 3 (minimum −1 at v = 2), not finite beyond the barrier. The
    // secant step from the first two points lands past the barrier.
    let nonFinite = 0;
    const fn: Fn = (x) => {
      const v = x[0]!;
      if (v >= 3) {
        nonFinite++;
        return { loss: Number.NaN, grad: Float32Array.from([Number.NaN]) };
      }
      return { loss: 1 / (3 - v) - v, grad: Float32Array.from([1 / (3 - v) ** 2 - 1]) };
    };
    const x = Float32Array.from([0]);
    const losses = run(fn, x, new Lbfgs(1), 40);
    expect(nonFinite).toBeGreaterThan(0);
    expect(losses.at(-1)!).toBeCloseTo(-1, 5);
    expect(x[0]).toBeCloseTo(2, 2);
  });

  it("reset() forgets the pairs but keeps working", () => {
    const x = new Float32Array(20);
    const lbfgs = new Lbfgs(20);
    run(quadratic, x, lbfgs, 10);
    lbfgs.reset();
    const losses = run(quadratic, x, lbfgs, 60);
    expect(losses.at(-1)! / losses[0]!).toBeLessThan(1e-6);
  });
});

describe("Adam", () => {
  it("minimises a quadratic", () => {
    const n = 20;
    const x = new Float32Array(n);
    const fn: Fn = (v) => {
      const grad = new Float32Array(n);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        const d = v[i]! - (i - 10);
        loss += d * d;
        grad[i] = 2 * d;
      }
      return { loss, grad };
    };
    const losses = run(fn, x, new Adam(n, { learningRate: 0.5 }), 500);
    expect(losses.at(-1)! / losses[0]!).toBeLessThan(1e-4);
  });

  it("minimises the 2-D Rosenbrock function", () => {
    const x = Float32Array.from([-1.2, 1]);
    const losses = run(rosenbrock, x, new Adam(2, { learningRate: 0.02 }), 5000);
    expect(losses.at(-1)!).toBeLessThan(1e-3);
  });

  it("moves each coordinate by about the learning rate on its first step", () => {
    const x = Float32Array.from([0, 0]);
    new Adam(2, { learningRate: 10 }).step(x, 1, Float32Array.from([3, -0.001]));
    expect(x[0]).toBeCloseTo(-10, 3);
    expect(x[1]).toBeCloseTo(10, 1);
  });

  it("ignores a non-finite gradient", () => {
    const x = Float32Array.from([1]);
    new Adam(1).step(x, Number.NaN, Float32Array.from([Number.NaN]));
    expect(x[0]).toBe(1);
  });
});

describe("fused kernels", () => {
  it("axpyDot is axpy followed by dot, in one pass (odd lengths too)", () => {
    for (const n of [1, 3, 4, 7, 1001]) {
      const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
      const z = Float32Array.from({ length: n }, (_, i) => Math.cos(3 * i));
      const fused = Float32Array.from({ length: n }, (_, i) => i / 7 - 3);
      const separate = fused.slice();
      const got = axpyDot(-0.37, x, fused, z);
      axpy(-0.37, x, separate);
      expect(fused).toEqual(separate);
      expect(got).toBeCloseTo(dot(z, separate), 9);
    }
  });
});
