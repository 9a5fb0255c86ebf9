import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import type { IterationEvent, RgbImage, RunHandle, StylizeOptions } from "../src/api.ts";
import { initBackend } from "../src/backend.ts";
import { EngineError } from "../src/errors.ts";
import { ImageError, decodeImage, encodeImage, resizeImage } from "../src/image.ts";
import { DEFAULT_STYLE_LAYERS, stylize } from "../src/stylize.ts";
import { loadVggWeights } from "../src/weights.ts";

/**
 * The Run API end to end on one backend (chosen once per process): stylize.test.ts runs it on
 * wasm, stylize-onnx.test.ts on ONNX Runtime — every engine option on both.
 */
export function stylizeSuite(backend: "wasm" | "onnx"): void {
  process.env.ATELIER_BACKEND = backend;
  const IMAGES = process.env.ATELIER_IMAGES!;
  let content: RgbImage;
  let starry: RgbImage;
  let scream: RgbImage;
  let baseline = 0;
  let modelHash = "";

  beforeAll(async () => {
    await initBackend();
    [content, starry, scream] = await Promise.all([
      decodeImage(join(IMAGES, "tubingen.jpg")),
      decodeImage(join(IMAGES, "starry_night.jpg")),
      decodeImage(join(IMAGES, "the_scream.jpg")),
    ]);
    // Weights are cached per process: load them first so tensor counts compare like for like.
    modelHash = (await loadVggWeights(13)).modelHash;
    baseline = tf.memory().numTensors;
  });

  function options(over: Partial<StylizeOptions> = {}): StylizeOptions {
    return {
      content,
      styles: [{ image: starry, weight: 1 }],
      size: 64,
      iterations: 20,
      seed: 7,
      init: "noise",
      ...over,
    };
  }

  async function collect(
    handle: RunHandle,
    onEvent?: (e: IterationEvent, tensors: number) => void,
  ): Promise<IterationEvent[]> {
    const events: IterationEvent[] = [];
    for await (const e of handle) {
      events.push(e);
      onEvent?.(e, tf.memory().numTensors);
    }
    return events;
  }

  /** Mean absolute difference per channel value (0–255) of two images of the same size. */
  function meanAbsDiff(a: RgbImage, b: RgbImage): number {
    expect([a.width, a.height]).toEqual([b.width, b.height]);
    let sum = 0;
    for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
    return sum / a.data.length;
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => {
        throw new Error("expected a rejection");
      },
      (e: unknown) => e,
    );
  }

  describe("a real run: tubingen × starry_night at 64 px", () => {
    let first: RgbImage;
    let firstEvents: IterationEvent[] = [];

    it("lowers the total loss by ≥ 90% in 20 L-BFGS iterations from noise, without leaking tensors", async () => {
      const handle = stylize(options());
      const tensors: number[] = [];
      const events = await collect(handle, (_, n) => tensors.push(n));
      first = await handle.result;
      firstEvents = events;

      expect(events.map((e) => e.iteration)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      for (const e of events) {
        expect(e).toMatchObject({ scale: 0, width: 64, height: 48 });
        expect(Object.keys(e.style)).toEqual([...DEFAULT_STYLE_LAYERS]);
        expect(e.total).toBeCloseTo(e.content + Object.values(e.style).reduce((a, b) => a + b, 0) + e.tv, 3);
        expect(e.ms).toBeGreaterThan(0);
      }
      const start = events[0]!.total;
      const end = events.at(-1)!.total;
      expect(end).toBeLessThanOrEqual(0.1 * start);

      // The same tensors live at every iteration, and none survive the run.
      expect(new Set(tensors).size).toBe(1);
      expect(tf.memory().numTensors).toBe(baseline);

      expect(first.width).toBe(64);
      expect(first.height).toBe(48);
      expect(first.data).toHaveLength(64 * 48 * 3);
      expect(handle.info.modelHash).toBe(modelHash);
      expect(handle.info.backend).toBe(backend);
      expect(await handle.ready).toEqual(handle.info);
      // After the run, currentImage is the result.
      expect(Buffer.from((await handle.currentImage()).data).equals(Buffer.from(first.data))).toBe(true);
    });

    it("gives byte-identical output for the same seed, and different noise for another seed", async () => {
      const again = await stylize(options()).result;
      expect(Buffer.from(again.data).equals(Buffer.from(first.data))).toBe(true);

      const a = await stylize(options({ iterations: 1, seed: 1 })).result;
      const b = await stylize(options({ iterations: 1, seed: 2 })).result;
      const c = await stylize(options({ iterations: 1, seed: 1 })).result;
      expect(Buffer.from(a.data).equals(Buffer.from(c.data))).toBe(true);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(false);
    });

    it("resumes from a checkpoint: starts from the saved image: its first loss is the checkpoint's, far below a fresh start's", async () => {
      expect(firstEvents).toHaveLength(20);
      // the checkpoint as the service stores it: a PNG of the image reached after 20 iterations
      const checkpoint = await encodeImage(first, "png");
      const resumed = stylize(options({ iterations: 2, init: { image: new Uint8Array(checkpoint) } }));
      const events = await collect(resumed);
      const fresh = firstEvents[0]!.total;
      const reached = firstEvents.at(-1)!.total;
      // 8-bit rounding of the checkpoint moves the loss a little, a fresh start moves it 10×
      expect(events[0]!.total).toBeLessThan(reached + 0.1 * (fresh - reached));
      expect(events[0]!.total).toBeGreaterThan(0.5 * reached);
      const image = await resumed.result;
      const content64 = await resizeImage(content, 64, 48);
      expect(meanAbsDiff(image, first)).toBeLessThan(0.25 * meanAbsDiff(first, content64));
    });
  });

  describe("cancellation", () => {
    it("stops promptly on abort, rejects with an AbortError and frees every tensor", async () => {
      const controller = new AbortController();
      const handle = stylize(options({ iterations: 1000, signal: controller.signal }));
      const events: IterationEvent[] = [];
      const iterated = (async () => {
        for await (const e of handle) {
          events.push(e);
          if (e.iteration === 2) controller.abort();
        }
      })();
      const error = await rejection(iterated);
      expect((error as Error).name).toBe("AbortError");
      expect(events.length).toBeLessThanOrEqual(3);
      expect(((await rejection(handle.result)) as Error).name).toBe("AbortError");
      expect(tf.memory().numTensors).toBe(baseline);
    });

    it("rejects at once when the signal is already aborted", async () => {
      const handle = stylize(options({ signal: AbortSignal.abort() }));
      expect(((await rejection(handle.result)) as Error).name).toBe("AbortError");
      expect(((await rejection(handle.ready)) as Error).name).toBe("AbortError");
    });
  });

  describe("live updates", () => {
    it("applies new weights from the next iteration and follows a new iteration count", async () => {
      const handle = stylize(options({ iterations: 30, init: "content" }));
      const events = await collect(handle, (e) => {
        if (e.iteration === 3) handle.update({ contentWeight: 0, styleWeight: 1000 });
        if (e.iteration === 4) handle.update({ iterations: 6 });
      });
      await handle.result;
      expect(events).toHaveLength(6);
      const styleSum = (e: IterationEvent) => Object.values(e.style).reduce((a, b) => a + b, 0);
      expect(events[0]!.content).toBe(0); // init "content": exactly at the content target
      expect(events[2]!.content).toBeGreaterThan(0);
      expect(events[3]!.content).toBe(0);
      // ×10 style weight; one optimiser step changes the raw style loss far less than that.
      expect(styleSum(events[3]!) / styleSum(events[2]!)).toBeGreaterThan(5);
    });

    it("re-blends styles live and can extend the run", async () => {
      const handle = stylize(
        options({
          iterations: 3,
          styles: [
            { image: starry, weight: 1 },
            { image: scream, weight: 0 },
          ],
        }),
      );
      const events = await collect(handle, (e) => {
        if (e.iteration === 1) handle.update({ styleBlendWeights: [0, 1], iterations: 4 });
      });
      expect(events).toHaveLength(4);
      // Same image before and after? No: one step apart, but the target Grams changed completely.
      expect(
        Math.abs(events[1]!.style.relu1_1! - events[0]!.style.relu1_1!) / events[0]!.style.relu1_1!,
      ).toBeGreaterThan(0.2);
      expect(() => handle.update({ styleBlendWeights: [1] })).toThrow(EngineError);
      expect(() => handle.update({ styleWeight: -1 })).toThrow(/styleWeight/);
      await handle.result;
    });
  });

  describe("options", () => {
    it("runs coarse to fine, ×√2 per level, carrying the image up", async () => {
      const handle = stylize(options({ iterations: 6, multiscale: { minSize: 32 } }));
      const events = await collect(handle);
      // 6 iterations over 3 levels split 3/2/1: most on the cheap coarse levels (splitIterations)
      expect(events.map((e) => [e.scale, e.width, e.height])).toEqual([
        [0, 32, 24],
        [0, 32, 24],
        [0, 32, 24],
        [1, 45, 34],
        [1, 45, 34],
        [2, 64, 48],
      ]);
      const image = await handle.result;
      expect([image.width, image.height]).toEqual([64, 48]);

      // A new total below what is done stops at once; the coarse result is resized to the output size.
      const cut = stylize(options({ iterations: 6, multiscale: { minSize: 32 } }));
      const cutEvents = await collect(cut, (e) => {
        if (e.iteration === 1) cut.update({ iterations: 1 });
      });
      expect(cutEvents).toHaveLength(1);
      const cutImage = await cut.result;
      expect([cutImage.width, cutImage.height]).toEqual([64, 48]);

      const custom = stylize(options({ multiscale: { minSize: 32, iterationsPerScale: [1, 1, 2] } }));
      expect((await collect(custom)).map((e) => e.scale)).toEqual([0, 1, 2, 2]);
      expect(() => stylize(options({ multiscale: { minSize: 32, iterationsPerScale: [1, 2] } }))).toThrow(/3 levels/);

      // The stall stop: at threshold 1 every coarse level "stalls" as soon as the window is full
      // (STALL_WINDOW + 1 = 6 iterations); the rest goes to the final level, the total is kept.
      const stalling = stylize(options({ multiscale: { minSize: 32, iterationsPerScale: [8, 8, 2], stall: 1 } }));
      expect((await collect(stalling)).map((e) => e.scale)).toEqual([
        ...Array<number>(6).fill(0),
        ...Array<number>(6).fill(1),
        ...Array<number>(6).fill(2),
      ]);
      expect(() => stylize(options({ multiscale: { stall: 0 } }))).toThrow(/multiscale.stall/);
    });

    it("keeps the content's colours with originalColors", async () => {
      const chroma = (img: RgbImage) => {
        const iq: number[] = [];
        for (let p = 0; p < img.data.length; p += 3) {
          const [r, g, b] = [img.data[p]!, img.data[p + 1]!, img.data[p + 2]!];
          iq.push(0.595716 * r - 0.274453 * g - 0.321263 * b, 0.211456 * r - 0.522591 * g + 0.311135 * b);
        }
        return iq;
      };
      const meanDiff = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
      const reference = chroma(await resizeImage(content, 64, 48));
      const kept = await stylize(options({ iterations: 3, originalColors: true })).result;
      const free = await stylize(options({ iterations: 3 })).result;
      expect(meanDiff(chroma(kept), reference)).toBeLessThan(2);
      expect(meanDiff(chroma(free), reference)).toBeGreaterThan(5);
    });

    it("starts from the content, the style or a given image", async () => {
      const fromContent = stylize(options({ iterations: 1, init: "content" }));
      expect((await collect(fromContent))[0]!.content).toBe(0);
      const target = await resizeImage(content, 64, 48);
      expect(Buffer.from((await fromContent.result).data).equals(Buffer.from(target.data))).toBe(true);

      // A painting unlike the content (and unlike the style): the run starts from it, not from the content.
      const painting = await resizeImage(await decodeImage(join(IMAGES, "shipwreck.jpg")), 64, 48);
      const fromImage = stylize(options({ iterations: 1, init: { image: join(IMAGES, "shipwreck.jpg") } }));
      const [firstFromImage] = await collect(fromImage);
      expect(firstFromImage!.content).toBeGreaterThan(0);
      const startImage = await fromImage.result;
      const apart = meanAbsDiff(painting, target);
      expect(apart).toBeGreaterThan(20); // the two images really differ
      expect(meanAbsDiff(startImage, painting)).toBeLessThan(0.1 * apart);
      expect(meanAbsDiff(startImage, target)).toBeGreaterThan(0.8 * apart);

      const fromStyle = await stylize(options({ iterations: 1, init: "style" })).result;
      expect(Buffer.from(fromStyle.data).equals(Buffer.from((await resizeImage(starry, 64, 48)).data))).toBe(true);
    });

    it("resizes the style images by styleScale: other Gram targets, and too small a scale is refused", async () => {
      const firstEvent = async (styleScale: number) =>
        (await collect(stylize(options({ iterations: 1, init: "content", styleScale }))))[0]!;
      const full = await firstEvent(1);
      const again = await firstEvent(1);
      const half = await firstEvent(0.5);
      expect(again.style).toEqual(full.style); // same image, same targets: the same losses
      for (const layer of DEFAULT_STYLE_LAYERS) {
        // the same image scored against Grams of a half-size starry_night
        expect(Math.abs(half.style[layer]! - full.style[layer]!) / full.style[layer]!, layer).toBeGreaterThan(0.05);
      }
      const error = await rejection(stylize(options({ iterations: 1, styleScale: 0.1 })).result);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as Error).message).toMatch(/style image 1 at style scale 0.1 becomes/);
    });

    it("runs Adam, average pooling and custom layers", async () => {
      const handle = stylize(
        options({
          iterations: 8,
          optimizer: "adam",
          pooling: "avg",
          contentLayers: ["relu3_2"],
          styleLayers: ["relu1_1", "relu2_1", "relu3_1"],
          styleLayerWeights: [1, 2, 0.5],
        }),
      );
      const events = await collect(handle);
      expect(Object.keys(events[0]!.style)).toEqual(["relu1_1", "relu2_1", "relu3_1"]);
      expect(events.at(-1)!.total).toBeLessThan(0.7 * events[0]!.total);
      // Only conv1_1 … conv3_2 were needed: a different (shorter) hash than the full run's.
      expect(handle.info.modelHash).not.toBe(modelHash);
    });

    it("exposes the image while running", async () => {
      const handle = stylize(options({ iterations: 3 }));
      const sizes: number[][] = [];
      for await (const e of handle) {
        const img = await handle.currentImage();
        sizes.push([img.width, img.height, img.data.length, e.iteration]);
      }
      expect(sizes).toEqual([
        [64, 48, 9216, 1],
        [64, 48, 9216, 2],
        [64, 48, 9216, 3],
      ]);
      await handle.result;
    });
  });

  describe("bad input", () => {
    it("throws bad_options synchronously for invalid options", () => {
      const cases: [Partial<StylizeOptions>, RegExp][] = [
        [{ styles: [] }, /at least one style image/],
        [{ styles: [{ image: starry, weight: 0 }] }, /weight above 0/],
        [{ styleLayers: ["relu9_9"] }, /unknown VGG-19 layer "relu9_9"/],
        [{ contentLayers: ["pool4"] }, /unknown VGG-19 layer "pool4"/],
        [{ styleLayerWeights: [1, 2] }, /one weight per style layer/],
        [{ size: 8 }, /size must be an integer from 16/],
        [{ iterations: 0 }, /iterations must be an integer/],
        [{ styleWeight: Number.NaN }, /styleWeight must be a finite number/],
        [{ optimizer: "sgd" as "adam" }, /optimizer must be/],
        [{ init: "random" as "noise" }, /init must be/],
      ];
      for (const [over, message] of cases) {
        let error: unknown = null;
        try {
          stylize(options(over));
        } catch (e) {
          error = e;
        }
        expect(error, String(message)).toBeInstanceOf(EngineError);
        expect((error as EngineError).code).toBe("bad_options");
        expect((error as Error).message).toMatch(message);
      }
    });

    it("rejects result, ready and the iterator when the weights are missing", async () => {
      const saved = process.env.ATELIER_VGG19;
      process.env.ATELIER_VGG19 = "/nonexistent/vgg19";
      let handle: RunHandle;
      try {
        handle = stylize(options()); // the weights source is fixed when the run starts
      } finally {
        process.env.ATELIER_VGG19 = saved;
      }
      const error = await rejection(handle.result);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe("weights_not_found");
      expect((error as Error).message).toMatch(/VGG-19 weights not found at \/nonexistent\/vgg19.*npm run weights/);
      expect(await rejection(handle.ready)).toBe(error);
      expect(await rejection(collect(handle))).toBe(error);
      expect(tf.memory().numTensors).toBe(baseline);
    });

    it("rejects with an ImageError for an unreadable content image", async () => {
      const error = await rejection(stylize(options({ content: join(IMAGES, "no-such-image.jpg") })).result);
      expect(error).toBeInstanceOf(ImageError);
      expect((error as ImageError).code).toBe("not_found");
    });
  });
}
