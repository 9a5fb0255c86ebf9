/**
 * A tiled level pass by pass, through a recording objective factory around the real tfjs tile
 * objectives (real VGG-19): for every tile visit it keeps the image before the visit, the
 * tile's optimised pixels and the image after the paste. From those the test reads back which
 * rectangle each pass optimised (so a grid that does not move between passes fails) and the
 * weight each pasted pixel got (so a paste without the feather fails), and, on a masked level,
 * that every tile got its own crop of every style mask.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FloatImage, Objective, ObjectiveWeights } from "../src/objective.ts";
import type { StyleMask } from "../src/style-masks.ts";
import { TfjsTileObjectives, TiledLevel, type TileObjectives } from "../src/tiled-level.ts";
import { tileGrid, type Rect } from "../src/tiles.ts";
import { VggFeatures } from "../src/vgg.ts";
import { loadVggWeights } from "../src/weights.ts";
import { STYLE_LAYERS, loadFloatImage, objectiveWeights } from "./objective-fixtures.ts";
import { initTfjsBackend } from "./tfjs-backend.ts";

// 80×64 in 48 px tiles: overlap 12 px, stride 36 px, 2–3 tiles per side, so every pass has
// tiles with inner edges on all four sides.
const W = 80;
const H = 64;
const TILE = 48;
/** The feather's width the test expects: a quarter of the tile, at least 8 px (written out, not imported). */
const OVERLAP = Math.max(8, Math.round(TILE / 4));

interface Visit {
  /** the whole image when the tile's objective was made (the previous tile already pasted) */
  before: Float32Array;
  /** the tile's pixels, optimised in place by the level (the array it evaluates) */
  tile: Float32Array | null;
  /** the whole image after this tile's paste */
  after: Float32Array | null;
  content: FloatImage;
  masks: (StyleMask | null)[] | undefined;
}

/** Wraps a level's real tile objectives and records every visit (see the module comment). */
class RecordingObjectives implements TileObjectives {
  visits: Visit[] = [];
  constructor(
    private readonly inner: TileObjectives,
    private readonly image: () => Float32Array,
  ) {}

  /** Closes the last visit: call when the pass returned. */
  passEnded(): Visit[] {
    const last = this.visits.at(-1);
    if (last && !last.after) last.after = this.image().slice();
    const visits = this.visits;
    this.visits = [];
    return visits;
  }

  async create(
    content: FloatImage,
    masks: (StyleMask | null)[] | undefined,
    weights: ObjectiveWeights,
  ): Promise<Objective> {
    const now = this.image().slice();
    const last = this.visits.at(-1);
    if (last && !last.after) last.after = now;
    const visit: Visit = { before: now, tile: null, after: null, content, masks };
    this.visits.push(visit);
    const objective = await this.inner.create(content, masks, weights);
    return {
      width: objective.width,
      height: objective.height,
      evaluate: (pixels, options) => {
        visit.tile ??= pixels;
        return objective.evaluate(pixels, options);
      },
      setWeights: (w) => objective.setWeights(w),
      dispose: () => objective.dispose(),
    };
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** The smallest rectangle holding every pixel that differs between two images. */
function changedRect(a: Float32Array, b: Float32Array): Rect | null {
  let [x0, y0, x1, y1] = [W, H, -1, -1];
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) {
        const o = (y * W + x) * 3 + c;
        if (a[o] !== b[o]) {
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
          y1 = Math.max(y1, y);
        }
      }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** What a pasted pixel's weight must be: a linear ramp over OVERLAP px from each edge inside the image. */
function expectedWeight(x: number, y: number, r: Rect): number {
  const ramp = (d: number) => Math.min(1, (d + 0.5) / OVERLAP);
  const edges = [
    r.x > 0 ? ramp(x) : 1,
    r.y > 0 ? ramp(y) : 1,
    r.x + r.width < W ? ramp(r.width - 1 - x) : 1,
    r.y + r.height < H ? ramp(r.height - 1 - y) : 1,
  ];
  return Math.min(...edges);
}

/**
 * The weight each pixel of the tile was pasted with, read back from the image before and
 * after and the tile's pixels (where the tile moved the pixel by more than a grey level, so
 * the ratio is well defined); returns the largest difference to expectedWeight.
 */
function worstFeatherError(v: Visit, r: Rect): { worst: number; checked: number; inner: number } {
  let worst = 0;
  let checked = 0;
  let inner = 0; // pixels whose expected weight is below 1: the feather itself
  for (let y = 0; y < r.height; y++)
    for (let x = 0; x < r.width; x++)
      for (let c = 0; c < 3; c++) {
        const o = ((r.y + y) * W + r.x + x) * 3 + c;
        const t = v.tile![(y * r.width + x) * 3 + c]!;
        const moved = t - v.before[o]!;
        if (Math.abs(moved) < 1) continue;
        const w = (v.after![o]! - v.before[o]!) / moved;
        const want = expectedWeight(x, y, r);
        worst = Math.max(worst, Math.abs(w - want));
        checked++;
        if (want < 1) inner++;
      }
  return { worst, checked, inner };
}

const key = (r: Rect) => `${r.x},${r.y} ${r.width}×${r.height}`;

let net: VggFeatures;
let content: FloatImage;
let styles: FloatImage[];

beforeAll(async () => {
  await initTfjsBackend();
  net = new VggFeatures(await loadVggWeights(13), { pooling: "max", gradient: "flipped" });
  content = await loadFloatImage("tubingen.jpg", W, H);
  styles = [await loadFloatImage("starry_night.jpg", 64, 48), await loadFloatImage("the_scream.jpg", 48, 64)];
});
afterAll(() => {
  net?.dispose();
});

/** Runs `passes` passes of a level from noise-free grey through the recorder; returns each pass's visits. */
async function recordPasses(masks: StyleMask[] | undefined, passes: number): Promise<Visit[][]> {
  const pixels = new Float32Array(W * H * 3).fill(128);
  const inner = new TfjsTileObjectives(net, masks ? styles : styles.slice(0, 1), ["relu4_2"], STYLE_LAYERS, TILE);
  const recorder = new RecordingObjectives(inner, () => pixels);
  const level = new TiledLevel({
    objectives: recorder,
    width: W,
    height: H,
    content: content.pixels,
    masks,
    tile: TILE,
    optimizer: "adam",
    learningRate: 8,
  });
  const weights = objectiveWeights(masks ? { styleBlendWeights: [1, 1] } : {});
  const recorded: Visit[][] = [];
  try {
    for (let pass = 0; pass < passes; pass++) {
      const before = tf.memory().numTensors;
      await level.pass(pixels, pass, 1, weights);
      recorded.push(recorder.passEnded());
      expect(tf.memory().numTensors, `tensors left by pass ${pass}`).toBe(before);
    }
  } finally {
    level.dispose();
  }
  return recorded;
}

describe("a tiled level, pass by pass", () => {
  it("optimises each pass on its own shifted grid and pastes every tile with the feather's weights", async () => {
    const passes = await recordPasses(undefined, 2);
    const grids = passes.map((visits) => visits.map((v) => changedRect(v.before, v.after!)));
    for (const [pass, grid] of grids.entries()) {
      // each visit changed exactly its tile of this pass's grid, in order
      expect(grid.map((r) => r && key(r))).toEqual(tileGrid(W, H, TILE, pass).map(key));
    }
    // the borders moved between the passes
    expect(new Set(grids[1]!.map((r) => key(r!)))).not.toEqual(new Set(grids[0]!.map((r) => key(r!))));

    let checked = 0;
    let inner = 0;
    for (const [pass, visits] of passes.entries()) {
      for (const [i, v] of visits.entries()) {
        const r = tileGrid(W, H, TILE, pass)[i]!;
        // the tile's objective saw the content under its own rectangle
        expect([v.content.width, v.content.height]).toEqual([r.width, r.height]);
        const e = worstFeatherError(v, r);
        expect(e.worst, `pass ${pass} tile ${key(r)}: pasted weight vs the feather`).toBeLessThan(2e-3);
        checked += e.checked;
        inner += e.inner;
      }
    }
    // the weights were read where it matters: many pixels, a good share of them in the feather
    expect(checked).toBeGreaterThan(W * H);
    expect(inner).toBeGreaterThan(checked / 10);
  });

  it("hands every tile its own crop of each style mask (a masked tiled level)", async () => {
    // left half to the first style, right half to the second, a soft column between
    const left: StyleMask = { width: W, height: H, values: new Float32Array(W * H) };
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) left.values[y * W + x] = Math.min(1, Math.max(0, (W / 2 + 4 - x) / 8));
    const right: StyleMask = { width: W, height: H, values: left.values.map((v) => 1 - v) };
    const [visits] = await recordPasses([left, right], 1);
    const grid = tileGrid(W, H, TILE, 0);
    expect(visits!.length).toBe(grid.length);
    for (const [i, v] of visits!.entries()) {
      const r = grid[i]!;
      expect(v.masks?.length).toBe(2);
      for (const [m, mask] of [left, right].entries()) {
        const got = v.masks![m]!;
        expect([got.width, got.height]).toEqual([r.width, r.height]);
        for (let y = 0; y < r.height; y++)
          for (let x = 0; x < r.width; x++)
            expect(got.values[y * r.width + x]).toBe(mask.values[(r.y + y) * W + r.x + x]);
      }
      expect(worstFeatherError(v, r).worst).toBeLessThan(2e-3);
    }
  });
});
