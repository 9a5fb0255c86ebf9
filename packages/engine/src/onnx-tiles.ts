/**
 * A tiled level on ONNX Runtime (tiled-level.ts's TileObjectives): every tile of a level has
 * the same size (tiles.ts's tileGrid), so one objective graph and one content-targets graph
 * serve all of them. The level holds a lease on both sessions, so the tiles' objectives reuse
 * them instead of building a session per tile; the leases are released with the level.
 *
 * Style Grams come from the whole style image, summed over styleParts as on tfjs: each part's
 * read rectangle goes through a targets graph whose region input is 1 on the part's own
 * positions at each layer (0 elsewhere), giving its unnormalised Σ F Fᵀ; parts of one read size
 * share a session, one size at a time.
 */
import type { FloatImage, Objective, ObjectiveWeights } from "./objective.ts";
import { layerShape } from "./onnx-graph.ts";
import { OnnxObjective } from "./onnx-objective.ts";
import type { OnnxVgg } from "./onnx-vgg.ts";
import type { OrtSession } from "./onnx-runtime.ts";
import type { StyleMask } from "./style-masks.ts";
import type { TileObjectives } from "./tiled-level.ts";
import { crop, ownAtLayer, styleParts } from "./tiles.ts";
import { VGG19_CONVS } from "./weights-manifest.ts";
import { layerIndex } from "./vgg.ts";

type Lease = { session: OrtSession; release: () => void };

/** The C·H·W-normalised Gram of a whole image at each style layer index, summed over styleParts. */
export async function onnxGramsInParts(
  net: OnnxVgg,
  image: FloatImage,
  styleIdx: readonly number[],
  tile: number,
): Promise<Map<number, Float32Array>> {
  const sums = new Map<number, Float32Array>();
  const positions = new Map<number, number>(styleIdx.map((l) => [l, 0]));
  // Grouped by read size: parts of one size reuse its session, and only one is open at a time
  // (each session holds its own copy of the weights and its own arena; up to nine sizes were
  // held together at first, and a 192 px run in 96 px tiles went over its memory bound).
  const parts = styleParts(image.width, image.height, tile);
  const sizeOf = (p: (typeof parts)[number]) => `${p.read.width}x${p.read.height}`;
  parts.sort((a, b) => (sizeOf(a) < sizeOf(b) ? -1 : sizeOf(a) > sizeOf(b) ? 1 : 0));
  let heldKey = "";
  let held: Lease | null = null;
  try {
    for (const part of parts) {
      const { read } = part;
      const key = sizeOf(part);
      if (!held || heldKey !== key) {
        held?.release();
        held = null;
        held = await net.acquireTargetsSession(read.width, read.height, [], [...styleIdx], true);
        heldKey = key;
      }
      const regions = new Map<number, Float32Array>();
      for (const l of styleIdx) {
        const { h, w } = layerShape(l, read.width, read.height);
        const region = new Float32Array(h * w);
        const own = ownAtLayer(part, VGG19_CONVS[l]!.block - 1, w, h);
        if (own) {
          for (let y = own.y; y < own.y + own.height; y++) region.fill(1, y * w + own.x, y * w + own.x + own.width);
          positions.set(l, positions.get(l)! + own.width * own.height);
        }
        regions.set(l, region);
      }
      const pixels = { width: read.width, height: read.height, pixels: crop(image.pixels, image.width, read) };
      const { grams } = await net.targets(pixels, [], [...styleIdx], regions);
      for (const [l, g] of grams) {
        const sum = sums.get(l);
        if (!sum) sums.set(l, Float32Array.from(g));
        else for (let k = 0; k < g.length; k++) sum[k] = sum[k]! + g[k]!;
      }
    }
  } finally {
    held?.release();
  }
  for (const l of styleIdx) {
    const n = positions.get(l)!;
    if (!(n > 0)) throw new Error(`onnxGramsInParts: no positions at layer ${l}`);
    const c = VGG19_CONVS[l]!.outChannels;
    const sum = sums.get(l)!;
    for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! / (c * n);
  }
  return sums;
}

export interface OnnxTileSetup {
  net: OnnxVgg;
  /** the tiles' size (every tile of a level has it) */
  tileWidth: number;
  tileHeight: number;
  styles: readonly FloatImage[];
  styleCount: number;
  masked: boolean;
  contentLayers: readonly string[];
  styleLayers: readonly string[];
  tile: number;
}

/** Tile objectives on onnx: OnnxObjective with the whole-image Grams and the level's held sessions. */
export class OnnxTileObjectives implements TileObjectives {
  private constructor(
    private readonly setup: OnnxTileSetup,
    private readonly grams: Map<number, Float32Array>[],
    private readonly leases: Lease[],
  ) {}

  static async create(setup: OnnxTileSetup): Promise<OnnxTileObjectives> {
    const { net, tileWidth, tileHeight } = setup;
    const contentIdx = setup.contentLayers.map(layerIndex);
    const styleIdx = setup.styleLayers.map(layerIndex);
    const grams: Map<number, Float32Array>[] = [];
    for (const style of setup.styles) grams.push(await onnxGramsInParts(net, style, styleIdx, setup.tile));
    const leases: Lease[] = [];
    try {
      const masked = setup.masked ? setup.styleCount : 0;
      leases.push(await net.acquireTargetsSession(tileWidth, tileHeight, contentIdx, []));
      leases.push(await net.acquireObjectiveSession(tileWidth, tileHeight, contentIdx, styleIdx, masked));
    } catch (error) {
      for (const lease of leases) lease.release();
      throw error;
    }
    return new OnnxTileObjectives(setup, grams, leases);
  }

  create(content: FloatImage, masks: (StyleMask | null)[] | undefined, weights: ObjectiveWeights): Promise<Objective> {
    return OnnxObjective.create({
      net: this.setup.net,
      content,
      styles: [],
      styleGrams: this.grams,
      contentLayers: this.setup.contentLayers,
      styleLayers: this.setup.styleLayers,
      weights,
      ...(masks ? { styleMasks: masks } : {}),
    });
  }

  dispose(): void {
    for (const lease of this.leases.splice(0)) lease.release();
  }
}
