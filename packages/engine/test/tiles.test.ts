import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { loadFloatImage } from "./objective-fixtures.ts";
import { gram } from "../src/losses.ts";
import { gramsInParts } from "../src/tiled-level.ts";
import {
  crop,
  featherWeight,
  isTiled,
  memoryBound,
  passOffset,
  pasteTile,
  splitSide,
  tileGrid,
  tileOverlap,
  tileStarts,
} from "../src/tiles.ts";
import { VggFeatures } from "../src/vgg.ts";
import { loadVggWeights } from "../src/weights.ts";

describe("tile planning", () => {
  it("covers every pixel, keeps tiles inside the image and shifts the grid every pass", () => {
    for (const [w, h, tile] of [
      [256, 192, 128],
      [2048, 1536, 512],
      [300, 100, 128],
    ] as const) {
      const firsts = new Set<string>();
      for (let pass = 0; pass < 6; pass++) {
        const rects = tileGrid(w, h, tile, pass);
        const covered = new Uint8Array(w * h);
        for (const r of rects) {
          expect(r.x >= 0 && r.y >= 0 && r.x + r.width <= w && r.y + r.height <= h).toBe(true);
          for (let y = r.y; y < r.y + r.height; y++) covered.fill(1, y * w + r.x, y * w + r.x + r.width);
        }
        expect(covered.every((c) => c === 1)).toBe(true);
        firsts.add(
          rects
            .map((r) => `${r.x},${r.y}`)
            .slice(0, 4)
            .join(" "),
        );
      }
      if (w > tile) expect(firsts.size).toBeGreaterThan(3); // the borders move from pass to pass
    }
  });

  it("lays tiles one stride apart with the far edge covered; one tile when the side fits", () => {
    expect(tileStarts(100, 128, 32, 0)).toEqual([0]);
    expect(tileStarts(256, 128, 32, 0)).toEqual([0, 96, 128]);
    expect(tileStarts(256, 128, 32, 40)).toEqual([0, 56, 128]);
    expect(tileOverlap(128)).toBe(32);
    const offsets = [0, 1, 2, 3, 4].map((p) => passOffset(p, 96, 0));
    offsets.forEach((o) => expect(o >= 0 && o < 96).toBe(true));
    expect(new Set(offsets).size).toBe(5);
  });

  it("feathers only edges inside the image and pastes with those weights", () => {
    const rect = { x: 4, y: 0, width: 12, height: 4 };
    // left edge inside the image: ramps; top, bottom and right edges on the border: full weight
    expect(featherWeight(0, 0, rect, 16, 4, 4)).toBeCloseTo(0.125);
    expect(featherWeight(3, 0, rect, 16, 4, 4)).toBeCloseTo(0.875);
    expect(featherWeight(4, 3, rect, 16, 4, 4)).toBe(1);
    expect(featherWeight(11, 2, rect, 16, 4, 4)).toBe(1);
    expect(featherWeight(7, 2, { ...rect, width: 8 }, 16, 4, 4)).toBeCloseTo(0.125); // right edge at 12 < 16: inside
    const image = new Float32Array(16 * 4 * 3);
    pasteTile(image, 16, 4, new Float32Array(12 * 4 * 3).fill(100), rect, 4);
    expect(image[(0 * 16 + 4) * 3]).toBeCloseTo(12.5);
    expect(image[(0 * 16 + 8) * 3]).toBe(100);
    expect(image[(0 * 16 + 3) * 3]).toBe(0);
    expect(Array.from(crop(image, 16, { x: 8, y: 1, width: 2, height: 1 }))).toEqual([100, 100, 100, 100, 100, 100]);
  });

  it("splits sides into near-equal parts and bounds memory by the tile, not the output", () => {
    expect(splitSide(10, 4)).toEqual([
      [0, 3],
      [3, 4],
      [7, 3],
    ]);
    expect(isTiled(256, 192, 128)).toBe(true);
    expect(isTiled(128, 96, 128)).toBe(false);
    expect(isTiled(4096, 3072, null)).toBe(false);
    const tiled = memoryBound(4096, 3072, 512, 4096);
    const untiled = memoryBound(4096, 3072, null, 4096);
    expect(untiled / tiled).toBeGreaterThan(5);
  });
});

describe("style Grams in parts", () => {
  let net: VggFeatures;
  beforeAll(async () => {
    await initTfjsBackend();
    net = new VggFeatures(await loadVggWeights(13), { pooling: "max", gradient: "flipped" });
  });

  it("equal the whole image's Grams in one part and stay close in four", async () => {
    const style = await loadFloatImage("starry_night.jpg", 96, 64);
    const layers = ["relu1_1", "relu3_1", "relu5_1"];
    const whole = tf.tidy(() => {
      const f = net.features(tf.tensor4d(style.pixels, [1, 64, 96, 3]), layers);
      return layers.map((l) => gram(f[l]!));
    });
    const one = gramsInParts(net, style, layers, 192); // parts of half a tile: one part
    const four = gramsInParts(net, style, layers, 96); // 48 px parts, 24 px of context
    const errors = layers.map((_, l) => {
      const rel = (a: tf.Tensor, b: tf.Tensor) =>
        tf.tidy(() => tf.norm(tf.sub(a, b)).dataSync()[0]! / tf.norm(b).dataSync()[0]!);
      expect(rel(one[l]!, whole[l]!)).toBeLessThan(1e-5);
      return rel(four[l]!, whole[l]!);
    });
    console.log("relative Gram error in four parts:", errors);
    // part borders (zero padding inside the image) matter more deep down, where a 48×32 part is a few positions
    expect(errors[0]).toBeLessThan(1e-3);
    expect(errors[1]).toBeLessThan(1e-3);
    expect(errors[2]).toBeLessThan(0.2);
    tf.dispose([...whole, ...one, ...four]);
  });
});
