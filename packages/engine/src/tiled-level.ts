/**
 * One multi-scale level optimised in overlapping tiles (see tiles.ts), so memory follows the
 * tile's size and not the output's.
 *
 * Style targets come from the whole style image at this level: its Gram matrices are sums
 * over positions, so they are accumulated tile by tile over the style image (FᵀF of each
 * part, divided once by C · all positions) and shared by every tile. TileObjectives hides
 * the backend (tfjs here, onnx in onnx-tiles.ts; network.ts picks one). Content targets are per
 * tile (the content crop under it). Each pass visits every tile of a freshly shifted grid for
 * a few optimiser steps and pastes it back feathered.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { LevelSteps } from "./level-steps.ts";
import { gram } from "./losses.ts";
import { VggObjective, type FloatImage, type LossTerms, type Objective, type ObjectiveWeights } from "./objective.ts";
import { Adam } from "./optimizers/adam.ts";
import { Lbfgs } from "./optimizers/lbfgs.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";
import { poolingsBefore, type StyleMask } from "./style-masks.ts";
import {
  TILED_LBFGS_HISTORY,
  crop,
  cropMask,
  ownAtLayer,
  pasteTile,
  styleParts,
  tileGrid,
  tileOverlap,
} from "./tiles.ts";
import type { VggFeatures } from "./vgg.ts";

/** Optimiser steps each tile gets per visit: enough for L-BFGS to build some curvature. */
export const TILE_STEPS = 8;

/**
 * The Gram matrix (C·H·W-normalised, as losses.gram) of a whole image at each layer,
 * accumulated over styleParts, counting only each part's own positions: the zero padding at a
 * part's border, which the whole image does not have there, stays out of the sums.
 */
export function gramsInParts(
  net: VggFeatures,
  image: FloatImage,
  layers: readonly string[],
  tile: number,
): tf.Tensor2D[] {
  const sums: (tf.Tensor2D | null)[] = layers.map(() => null);
  const positions = layers.map(() => 0);
  const channels = layers.map(() => 0);
  for (const part of styleParts(image.width, image.height, tile)) {
    const { read } = part;
    tf.tidy(() => {
      const input = tf.tensor4d(crop(image.pixels, image.width, read), [1, read.height, read.width, 3]);
      const features = net.features(input, layers);
      layers.forEach((layer, l) => {
        const map = features[layer]!;
        const [, mh, mw, c] = map.shape;
        const own = ownAtLayer(part, poolingsBefore(layer), mw, mh);
        if (!own) return;
        const { x, y, width: w, height: h } = own;
        const region = tf.slice(map, [0, y, x, 0], [1, h, w, c]);
        const unnormalised = tf.mul<tf.Tensor2D>(gram(region), c * h * w);
        const previous = sums[l];
        sums[l] = tf.keep(previous ? tf.add<tf.Tensor2D>(previous, unnormalised) : unnormalised);
        previous?.dispose();
        positions[l] = positions[l]! + h * w;
        channels[l] = c;
      });
    });
  }
  return sums.map((sum, l) => {
    if (!sum) throw new Error(`gramsInParts: no positions at ${layers[l]}`);
    const g = tf.div<tf.Tensor2D>(sum, channels[l]! * positions[l]!);
    sum.dispose();
    return g;
  });
}

/**
 * Where a tiled level gets each tile's objective: the styles' whole-image Grams are computed
 * once (at creation) and shared by every tile; a tile brings its content crop and mask crops.
 */
export interface TileObjectives {
  create(content: FloatImage, masks: (StyleMask | null)[] | undefined, weights: ObjectiveWeights): Promise<Objective>;
  dispose(): void;
}

/** Tile objectives on tfjs: VggObjective with the Grams of gramsInParts. */
export class TfjsTileObjectives implements TileObjectives {
  /** grams[s][l] of the whole style image s */
  private readonly grams: tf.Tensor2D[][];

  constructor(
    private readonly net: VggFeatures,
    styles: readonly FloatImage[],
    private readonly contentLayers: readonly string[],
    private readonly styleLayers: readonly string[],
    tile: number,
  ) {
    this.grams = styles.map((style) => gramsInParts(net, style, styleLayers, tile));
  }

  create(content: FloatImage, masks: (StyleMask | null)[] | undefined, weights: ObjectiveWeights): Promise<Objective> {
    return Promise.resolve(
      new VggObjective({
        net: this.net,
        content,
        styles: [],
        styleGrams: this.grams,
        contentLayers: this.contentLayers,
        styleLayers: this.styleLayers,
        weights,
        ...(masks ? { styleMasks: masks } : {}),
      }),
    );
  }

  dispose(): void {
    for (const perStyle of this.grams) for (const g of perStyle) g.dispose();
  }
}

export interface TiledLevelSetup {
  /** the tiles' objectives (owned: disposed with the level) */
  objectives: TileObjectives;
  width: number;
  height: number;
  /** the content at this level */
  content: Float32Array;
  /** the style masks at this level's size (undefined: none) */
  masks: (StyleMask | null)[] | undefined;
  tile: number;
  optimizer: "lbfgs" | "adam";
  learningRate: number;
  signal?: AbortSignal;
}

export class TiledLevel implements LevelSteps {
  readonly stride = TILE_STEPS;
  private passes = 0;

  constructor(private readonly setup: TiledLevelSetup) {}

  /** The next pass (a freshly shifted grid), `steps` iterations; the image after it is the result. */
  async advance(
    pixels: Float32Array,
    steps: number,
    _last: boolean,
    weights: ObjectiveWeights,
  ): Promise<{ terms: LossTerms[]; at: Float32Array }> {
    const terms = await this.pass(pixels, this.passes++, steps, weights);
    return { terms, at: pixels.slice() };
  }

  /** Nothing to do: every tile's objective is built with the weights its pass gets. */
  weightsChanged(): void {}

  /**
   * One pass: every tile of pass `index`'s grid gets `steps` optimiser steps, starting from
   * and pasted back into `pixels` (in place). Returns, per step, the loss terms summed over
   * the tiles (each tile's terms at the point before that step).
   */
  async pass(pixels: Float32Array, index: number, steps: number, weights: ObjectiveWeights): Promise<LossTerms[]> {
    const { width, height, tile } = this.setup;
    const sums: LossTerms[] = Array.from({ length: steps }, () => ({ total: 0, content: 0, style: {}, tv: 0 }));
    for (const rect of tileGrid(width, height, tile, index)) {
      const objective = await this.setup.objectives.create(
        { width: rect.width, height: rect.height, pixels: crop(this.setup.content, width, rect) },
        this.setup.masks?.map((m) => m && cropMask(m, rect)),
        weights,
      );
      try {
        const x = crop(pixels, width, rect);
        const optimizer: Optimizer =
          this.setup.optimizer === "adam"
            ? new Adam(x.length, { learningRate: this.setup.learningRate })
            : new Lbfgs(x.length, { history: TILED_LBFGS_HISTORY, learningRate: 1 });
        for (let k = 0; k < steps; k++) {
          const e = await objective.evaluate(x, this.setup.signal ? { signal: this.setup.signal } : {});
          addTerms(sums[k]!, e);
          optimizer.step(x, e.total, e.grad);
        }
        pasteTile(pixels, width, height, x, rect, tileOverlap(tile));
      } finally {
        objective.dispose();
      }
    }
    return sums;
  }

  dispose(): void {
    this.setup.objectives.dispose();
  }
}

function addTerms(sum: LossTerms, e: LossTerms): void {
  sum.total += e.total;
  sum.content += e.content;
  sum.tv += e.tv;
  for (const [layer, v] of Object.entries(e.style)) sum.style[layer] = (sum.style[layer] ?? 0) + v;
}
