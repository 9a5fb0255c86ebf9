import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_PIXELS,
  ImageError,
  decodeImage,
  encodeImage,
  fitWithin,
  resizeImage,
  sniffImage,
} from "../src/image.ts";
import type { RgbImage } from "../src/api.ts";

const IMAGES = process.env.ATELIER_IMAGES ?? resolve(import.meta.dirname, "../../../../shared/images");

/** A 40×20 image: left half red, right half blue, so orientation and colour are checkable. */
async function twoTone(width = 40, height = 20): Promise<RgbImage> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (x < width / 2) data[i] = 255;
      else data[i + 2] = 255;
    }
  }
  return { width, height, data };
}

function pixel(img: RgbImage, x: number, y: number): number[] {
  const i = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(i, i + 3));
}

async function expectImageError(promise: Promise<unknown>, code: ImageError["code"], messagePart?: RegExp) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageError);
  expect((error as ImageError).code).toBe(code);
  if (messagePart) expect((error as ImageError).message).toMatch(messagePart);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "atelier-image-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("decodeImage", () => {
  it.each(["png", "jpeg", "webp"] as const)("decodes %s bytes to 8-bit RGB", async (format) => {
    const source = await twoTone();
    const encoded = await encodeImage(source, format, 95);
    const img = await decodeImage(encoded);
    expect(img.width).toBe(40);
    expect(img.height).toBe(20);
    expect(img.data.length).toBe(40 * 20 * 3);
    const [r, g, b] = pixel(img, 5, 10);
    expect(r).toBeGreaterThan(230);
    expect(g).toBeLessThan(25);
    expect(b).toBeLessThan(25);
    expect(pixel(img, 35, 10)[2]).toBeGreaterThan(230);
    if (format === "png") expect(img.data).toEqual(source.data);
  });

  it("decodes the shared JPEGs from a path", async () => {
    const content = await decodeImage(join(IMAGES, "tubingen.jpg"));
    expect(content.data.length).toBe(content.width * content.height * 3);
    expect(content.width).toBeGreaterThan(content.height);
    const style = await decodeImage(join(IMAGES, "starry_night.jpg"));
    expect(style.data.length).toBe(style.width * style.height * 3);
  });

  it("applies EXIF orientation (6 = rotate 90° clockwise)", async () => {
    const source = await twoTone(40, 20);
    const jpeg = await sharp(source.data, { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const img = await decodeImage(jpeg);
    expect([img.width, img.height]).toEqual([20, 40]);
    // Rotating clockwise puts the red (left) half on top.
    expect(pixel(img, 10, 5)[0]).toBeGreaterThan(230);
    expect(pixel(img, 10, 35)[2]).toBeGreaterThan(230);
    expect(await sniffImage(jpeg)).toEqual({ mime: "image/jpeg", width: 20, height: 40 });
  });

  it("flattens alpha onto white and expands grey to RGB", async () => {
    const transparent = await sharp({
      create: { width: 4, height: 3, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const flat = await decodeImage(transparent);
    expect(Array.from(flat.data)).toEqual(new Array(4 * 3 * 3).fill(255));

    const grey = await sharp(Buffer.alloc(6, 77), { raw: { width: 3, height: 2, channels: 1 } })
      .png()
      .toBuffer();
    const rgb = await decodeImage(grey);
    expect(Array.from(rgb.data)).toEqual(new Array(18).fill(77));
  });

  it("passes decoded RGB through after validating it", async () => {
    const source = await twoTone();
    expect(await decodeImage(source)).toBe(source);
    await expectImageError(
      decodeImage({ width: 4, height: 4, data: new Uint8Array(10) }),
      "unreadable",
      /expected 4×4×3/,
    );
  });

  it("reports a missing file as not_found, naming it", async () => {
    const missing = join(dir, "nope.jpg");
    await expectImageError(decodeImage(missing), "not_found", new RegExp(`${missing}.*does not exist`));
  });

  it("rejects non-image bytes and says which file", async () => {
    const path = join(dir, "notes.png");
    await writeFile(path, "this is plain text, whatever the name says");
    await expectImageError(decodeImage(path), "not_an_image", /notes\.png is not an image/);
    await expectImageError(decodeImage(new Uint8Array(0)), "not_an_image", /empty/);
    expect(await sniffImage(new TextEncoder().encode("hello"))).toBeNull();
  });

  it("rejects other image formats as unsupported", async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .gif()
      .toBuffer();
    await expectImageError(decodeImage(gif, { label: "upload.gif" }), "unsupported", /upload\.gif is a GIF image/);
    const tiff = await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .tiff()
      .toBuffer();
    await expectImageError(decodeImage(tiff), "unsupported", /TIFF/);
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    await expectImageError(decodeImage(svg), "unsupported", /SVG/);
    expect(await sniffImage(gif)).toBeNull();
  });

  it.each(["png", "jpeg", "webp"] as const)("rejects a truncated %s file", async (format) => {
    const noisy = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7919) % 251);
    const encoded = await encodeImage({ width: 64, height: 64, data: noisy }, format, 90);
    const truncated = encoded.subarray(0, Math.floor(encoded.length * 0.6));
    await expectImageError(decodeImage(truncated), "unreadable", /damaged or truncated|header/);
  });

  it("rejects files over the byte cap before decoding", async () => {
    const encoded = await encodeImage(await twoTone(), "png");
    const path = join(dir, "big.png");
    await writeFile(path, encoded);
    await expectImageError(
      decodeImage(path, { maxBytes: 100 }),
      "too_large",
      /big\.png is \d+ bytes, more than the 100 bytes limit/,
    );
    await expectImageError(decodeImage(encoded, { maxBytes: 100 }), "too_large");
  });

  it("rejects images over the pixel cap from the header, before allocating them", async () => {
    const small = await encodeImage(await twoTone(), "png");
    await expectImageError(decodeImage(small, { maxPixels: 500 }), "too_large", /40×20.*limit/);
    // A decompression bomb: 10000×10000 single-colour PNG is tiny on disk, 300 MB decoded.
    const bomb = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: "white" } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(1_000_000);
    await expectImageError(decodeImage(bomb), "too_large", /10000×10000 \(100\.0 megapixels\).*40\.0 megapixels/);
    expect(DEFAULT_MAX_PIXELS).toBe(40_000_000);
  });
});

describe("fitWithin", () => {
  it("scales the longer side to maxSide and keeps the aspect ratio", () => {
    expect(fitWithin(1024, 768, 512)).toEqual({ width: 512, height: 384 });
    expect(fitWithin(768, 1024, 512)).toEqual({ width: 384, height: 512 });
    expect(fitWithin(100, 50, 400)).toEqual({ width: 400, height: 200 });
    expect(fitWithin(300, 300, 128)).toEqual({ width: 128, height: 128 });
  });
  it("never returns a side below 1", () => {
    expect(fitWithin(10_000, 1, 64)).toEqual({ width: 64, height: 1 });
  });
  it("rejects non-positive input", () => {
    expect(() => fitWithin(0, 10, 10)).toThrow(RangeError);
    expect(() => fitWithin(10, 10, Number.NaN)).toThrow(RangeError);
  });
});

describe("resizeImage / encodeImage / sniffImage", () => {
  it("resizes with the requested size and keeps colours", async () => {
    const small = await resizeImage(await twoTone(40, 20), 20, 10);
    expect([small.width, small.height, small.data.length]).toEqual([20, 10, 600]);
    expect(pixel(small, 2, 5)[0]).toBeGreaterThan(230);
    expect(pixel(small, 18, 5)[2]).toBeGreaterThan(230);
    await expect(resizeImage(small, 0, 10)).rejects.toThrow(RangeError);
  });

  it.each([
    ["png", "image/png"],
    ["jpeg", "image/jpeg"],
    ["webp", "image/webp"],
  ] as const)("round-trips %s and sniffs it by content", async (format, mime) => {
    const source = await twoTone(32, 16);
    const encoded = await encodeImage(source, format, 90);
    expect(await sniffImage(encoded)).toEqual({ mime, width: 32, height: 16 });
    const back = await decodeImage(encoded);
    // Lossy codecs blur the red/blue edge (chroma subsampling); the mean error stays small.
    const meanDiff = back.data.reduce((sum, v, i) => sum + Math.abs(v - source.data[i]!), 0) / back.data.length;
    expect(meanDiff).toBeLessThanOrEqual(format === "png" ? 0 : 8);
  });

  it("rejects a bad quality", async () => {
    await expect(encodeImage(await twoTone(), "jpeg", 0)).rejects.toThrow(RangeError);
  });

  it("sniffs nothing from damaged headers", async () => {
    const png = await encodeImage(await twoTone(), "png");
    expect(await sniffImage(png.subarray(0, 12))).toBeNull();
  });
});
