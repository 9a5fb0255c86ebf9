/**
 * One multi-scale level optimised in overlapping tiles (see tiles.ts), so memory follows the
 * tile's size and not the output's.
 *
 * Style targets come from the whole style image at this level: its Gram matrices are sums
 * over positions, so they are accumulated tile by tile over the style image (FᵀF of each
 * part, divided once by C · all positions) and shared by every tile. Content targets are per
 * tile (the content crop under it). Each pass visits every tile of a freshly shifted grid for
 * a few optimiser steps and pastes it back feathered.
 */
import * as tf from "@tensorflow/tfjs-core";
import { gram } from "./losses.ts";
import { VggObjective, type FloatImage, type LossTerms, type ObjectiveWeights } from "./objective.ts";
import { Adam } from "./optimizers/adam.ts";
import { Lbfgs } from "./optimizers/lbfgs.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";
import { poolingsBefore, type StyleMask } from "./style-masks.ts";
import { TILED_LBFGS_HISTORY, crop, cropMask, pasteTile, tileGrid, tileOverlap, type Rect } from "./tiles.ts";
import type { VggFeatures } from "./vgg.ts";

/** Optimiser steps each tile gets per visit: enough for L-BFGS to build some curvature. */
export const TILE_STEPS = 8;

/** Splits a side into ⌈length / tile⌉ near-equal parts (no overlap): [start, size] pairs. */
export function splitSide(length: number, tile: number): [number, number][] {
  const parts = Math.max(1, Math.ceil(length / tile));
  const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * length) / parts));
  return bounds.slice(0, -1).map((start, i) => [start, bounds[i + 1]! - start]);
}

/**
 * The Gram matrix (C·H·W-normalised, as losses.gram) of a whole image at each layer,
 * accumulated over parts of half a tile, each read with a quarter tile of context around it
 * (so a read is at most a tile, plus up to 15 px of alignment), counting only the part's own
 * positions: the zero padding at a part's border, which the whole image does not have there,
 * stays out of the sums.
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
  const part = Math.max(16, Math.floor(tile / 2));
  const margin = Math.floor(tile / 4);
  for (const [y, height] of splitSide(image.height, part)) {
    for (const [x, width] of splitSide(image.width, part)) {
      // on the deepest pooling grid (16 px), so the part's pooling windows are the whole image's
      const x0 = Math.max(0, Math.floor((x - margin) / 16) * 16);
      const y0 = Math.max(0, Math.floor((y - margin) / 16) * 16);
      const read: Rect = {
        x: x0,
        y: y0,
        width: Math.min(image.width, x + width + margin) - x0,
        height: Math.min(image.height, y + height + margin) - y0,
      };
      tf.tidy(() => {
        const input = tf.tensor4d(crop(image.pixels, image.width, read), [1, read.height, read.width, 3]);
        const features = net.features(input, layers);
        layers.forEach((layer, l) => {
          const map = features[layer]!;
          const scale = 2 ** poolingsBefore(layer);
          const [, mh, mw, c] = map.shape;
          // the part's own positions at this layer's resolution
          const top = Math.min(mh, Math.floor((y - y0) / scale));
          const left = Math.min(mw, Math.floor((x - x0) / scale));
          const h = Math.min(mh, Math.floor((y + height - y0) / scale)) - top;
          const w = Math.min(mw, Math.floor((x + width - x0) / scale)) - left;
          if (h <= 0 || w <= 0) return;
          const own = tf.slice(map, [0, top, left, 0], [1, h, w, c]);
          const unnormalised = tf.mul<tf.Tensor2D>(gram(own), c * h * w);
          const previous = sums[l];
          sums[l] = tf.keep(previous ? tf.add<tf.Tensor2D>(previous, unnormalised) : unnormalised);
          previous?.dispose();
          positions[l] = positions[l]! + h * w;
          channels[l] = c;
        });
      });
    }
  }
  return sums.map((sum, l) => {
    if (!sum) throw new Error(`gramsInParts: no positions at ${layers[l]}`);
    const g = tf.div<tf.Tensor2D>(sum, channels[l]! * positions[l]!);
    sum.dispose();
    return g;
  });
}

export interface TiledLevelSetup {
  net: VggFeatures;
  width: number;
  height: number;
  /** the content at this level */
  content: Float32Array;
  /** the style images at this level's style size */
  styles: FloatImage[];
  /** the style masks at this level's size (undefined: none) */
  masks: (StyleMask | null)[] | undefined;
  contentLayers: readonly string[];
  styleLayers: readonly string[];
  tile: number;
  optimizer: "lbfgs" | "adam";
  learningRate: number;
  signal?: AbortSignal;
}

export class TiledLevel {
  /** grams[s][l] of the whole style image s */
  private readonly grams: tf.Tensor2D[][];

  constructor(private readonly setup: TiledLevelSetup) {
    this.grams = setup.styles.map((style) => gramsInParts(setup.net, style, setup.styleLayers, setup.tile));
  }

  /**
   * One pass: every tile of pass `index`'s grid gets `steps` optimiser steps, starting from
   * and pasted back into `pixels` (in place). Returns, per step, the loss terms summed over
   * the tiles (each tile's terms at the point before that step).
   */
  async pass(pixels: Float32Array, index: number, steps: number, weights: ObjectiveWeights): Promise<LossTerms[]> {
    const { width, height, tile } = this.setup;
    const sums: LossTerms[] = Array.from({ length: steps }, () => ({ total: 0, content: 0, style: {}, tv: 0 }));
    for (const rect of tileGrid(width, height, tile, index)) {
      const objective = new VggObjective({
        net: this.setup.net,
        content: { width: rect.width, height: rect.height, pixels: crop(this.setup.content, width, rect) },
        styles: [],
        styleGrams: this.grams,
        contentLayers: this.setup.contentLayers,
        styleLayers: this.setup.styleLayers,
        weights,
        ...(this.setup.masks ? { styleMasks: this.setup.masks.map((m) => m && cropMask(m, rect)) } : {}),
      });
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
    for (const perStyle of this.grams) for (const g of perStyle) g.dispose();
  }
}

function addTerms(sum: LossTerms, e: LossTerms): void {
  sum.total += e.total;
  sum.content += e.content;
  sum.tv += e.tv;
  for (const [layer, v] of Object.entries(e.style)) sum.style[layer] = (sum.style[layer] ?? 0) + v;
}
