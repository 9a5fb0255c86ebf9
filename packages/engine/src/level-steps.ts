/**
 * What the run driver (stylize.ts) steps through at one level: a whole level (one objective,
 * one optimiser: one iteration per advance) or a tiled level (tiled-level.ts: a pass over the
 * tiles, TILE_STEPS iterations per advance). The driver's bookkeeping — live edits, abort,
 * snapshot, events — is the same for both.
 */
import type { LossTerms, Objective, ObjectiveWeights } from "./objective.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";

export interface LevelSteps {
  /** the most iterations one advance runs */
  readonly stride: number;
  /**
   * Runs `steps` (≤ stride) iterations from `pixels`, which it changes in place; `last`: the
   * level ends with them. Returns each iteration's loss terms and the image they describe
   * (the level's result when it ends here).
   */
  advance(
    pixels: Float32Array,
    steps: number,
    last: boolean,
    weights: ObjectiveWeights,
  ): Promise<{ terms: LossTerms[]; at: Float32Array }>;
  /** The live weights changed (already written into the `weights` advance gets). */
  weightsChanged(weights: ObjectiveWeights): void;
  dispose(): void;
}

/** A whole level: one objective and one optimiser over the full image. */
export class WholeLevel implements LevelSteps {
  readonly stride = 1;

  constructor(
    private readonly objective: Objective,
    private readonly optimizer: Optimizer,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async advance(
    pixels: Float32Array,
    _steps: number,
    last: boolean,
  ): Promise<{ terms: LossTerms[]; at: Float32Array }> {
    const e = await this.objective.evaluate(pixels, { signal: this.signal });
    // The evaluated point is what the terms describe; the step after it only matters if
    // another iteration follows at this level.
    const at = pixels.slice();
    if (!last) this.optimizer.step(pixels, e.total, e.grad);
    return { terms: [{ total: e.total, content: e.content, style: e.style, tv: e.tv }], at };
  }

  weightsChanged(weights: ObjectiveWeights): void {
    this.objective.setWeights(weights);
    this.optimizer.reset(); // curvature pairs from the old objective would mislead L-BFGS
  }

  dispose(): void {
    this.objective.dispose();
  }
}
