import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RgbImage } from "../src/api.ts";
import { initBackend } from "../src/backend.ts";
import { decodeImage, encodeImage, resizeImage } from "../src/image.ts";
import { continueLevels, type Level } from "../src/level-plan.ts";
import { stylize } from "../src/stylize.ts";

const level = (side: number, iterations: number): Level => ({
  side,
  iterations,
  dims: { width: side, height: Math.round((side * 3) / 4) },
});

describe("continueLevels", () => {
  const levels = [level(96, 20), level(136, 20), level(192, 20), level(272, 40)];
  it("starts at the first level at least as large as the image, with all the run's iterations", () => {
    expect(continueLevels(levels, { width: 192, height: 144 })).toEqual([{ ...level(192, 78) }, { ...level(272, 22) }]);
    expect(continueLevels(levels, { width: 150, height: 100 }).map((l) => l.side)).toEqual([192, 272]);
    expect(continueLevels(levels, { width: 272, height: 204 })).toEqual([level(272, 100)]);
  });
  it("a larger image than every level continues at the last; a tiny one runs the whole plan", () => {
    expect(continueLevels(levels, { width: 1024, height: 768 })).toEqual([level(272, 100)]);
    expect(continueLevels(levels, { width: 40, height: 30 }).map((l) => [l.side, l.iterations])).toEqual([
      [96, 37],
      [136, 25],
      [192, 16],
      [272, 22],
    ]);
  });
});

/**
 * A run that continues from a finished painting: its first frame is that painting, at its own
 * size — not a copy shrunk to the coarse first level.
 */
describe("continuing a painting", () => {
  const IMAGES = process.env.ATELIER_IMAGES!;
  let content: RgbImage;
  let starry: RgbImage;
  let painting: Uint8Array;
  let source: RgbImage;

  beforeAll(async () => {
    await initBackend();
    [content, starry] = await Promise.all([
      decodeImage(join(IMAGES, "tubingen.jpg")),
      decodeImage(join(IMAGES, "starry_night.jpg")),
    ]);
    // the "finished painting": another picture at the run's final size (181 × 136), as the service stores it
    source = await resizeImage(await decodeImage(join(IMAGES, "shipwreck.jpg")), 181, 136);
    painting = new Uint8Array(await encodeImage(source, "png"));
  });

  const meanAbsDiff = (a: RgbImage, b: RgbImage) => {
    let sum = 0;
    for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
    return sum / a.data.length;
  };

  async function firstFrame(continues: boolean): Promise<{ frame: RgbImage; iterations: number }> {
    // coarse to fine at 181 px: levels of 128 and 181 px
    const handle = stylize({
      content,
      styles: [{ image: starry, weight: 1 }],
      size: 181,
      iterations: 2,
      multiscale: true,
      init: { image: painting, continues },
      seed: 3,
    });
    await handle.ready;
    const frame = await handle.currentImage();
    let iterations = 0;
    for await (const _ of handle) iterations++;
    await handle.result;
    return { frame, iterations };
  }

  it("starts from the painting at its own size and runs the iterations asked for", async () => {
    const continued = await firstFrame(true);
    expect([continued.frame.width, continued.frame.height]).toEqual([181, 136]);
    expect(meanAbsDiff(continued.frame, source)).toBeLessThan(1);
    expect(continued.iterations).toBe(2);
    // the old way (a plain init image): shrunk to the 128 px first level, a blurry copy
    const restarted = await firstFrame(false);
    expect(restarted.frame.width).toBe(128);
    const blurry = await resizeImage(restarted.frame, 181, 136);
    expect(meanAbsDiff(blurry, source)).toBeGreaterThan(3 * Math.max(0.5, meanAbsDiff(continued.frame, source)));
  }, 120_000);
});
