import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import type { Db } from "@atelier/db";
import {
  THUMBNAIL_WIDTHS,
  UploadError,
  imageFilePath,
  readImageBytes,
  storeImage,
  storeRgbResult,
  fileStoreOf,
  thumbnail,
  thumbnailWidthFor,
} from "../src/index.ts";
import { imagesDir, solidBlackPng, tempStore } from "./support.ts";

let store: Awaited<ReturnType<typeof tempStore>>;
let db: Db;
let alice: string;
let bob: string;
const tubingen = readFileSync(path.join(imagesDir(), "tubingen.jpg"));

beforeAll(async () => {
  store = await tempStore();
  db = store.db;
  alice = (await db.user.create({ data: { email: "alice@example.com" } })).id;
  bob = (await db.user.create({ data: { email: "bob@example.com" } })).id;
});
afterAll(async () => store.cleanup());

async function rejection(p: Promise<unknown>): Promise<UploadError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UploadError);
    return e as UploadError;
  }
  throw new Error("expected an UploadError");
}

function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe("storeImage", () => {
  it("stores the shared test images content-addressed, with their dimensions", async () => {
    const names = readdirSync(imagesDir()).filter((n) => n.endsWith(".jpg"));
    expect(names.length).toBeGreaterThanOrEqual(7);
    for (const name of names) {
      const bytes = readFileSync(path.join(imagesDir(), name));
      const image = await storeImage(db, bytes, { ownerId: alice, dataDir: store.dataDir });
      const meta = await sharp(bytes).metadata();
      expect(image).toMatchObject({
        mime: "image/jpeg",
        width: meta.width,
        height: meta.height,
        bytes: bytes.length,
        ownerId: alice,
      });
      const file = imageFilePath(image, { dataDir: store.dataDir });
      expect(file).toBe(path.join(store.dataDir, "images", `${image.sha256}.jpg`));
      expect(readFileSync(file).equals(bytes)).toBe(true); // the original bytes, not a re-encode
      expect((await readImageBytes(image, { dataDir: store.dataDir })).equals(bytes)).toBe(true);
    }
    const tub = await db.image.findFirstOrThrow({ where: { ownerId: alice, width: 1024, height: 768 } });
    expect(tub.sha256).toMatch(/^[0-9a-f]{64}$/);
    // no temp files left behind
    expect(filesUnder(path.join(store.dataDir, "images")).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("reuses the file for identical bytes: same owner gets the same row, another owner a new row", async () => {
    const a1 = await storeImage(db, tubingen, { ownerId: alice, dataDir: store.dataDir });
    const a2 = await storeImage(db, tubingen, { ownerId: alice, dataDir: store.dataDir });
    const b1 = await storeImage(db, tubingen, { ownerId: bob, dataDir: store.dataDir });
    expect(a2.id).toBe(a1.id);
    expect(b1.id).not.toBe(a1.id);
    expect(b1.sha256).toBe(a1.sha256);
    expect(imageFilePath(b1, { dataDir: store.dataDir })).toBe(imageFilePath(a1, { dataDir: store.dataDir }));
    expect(filesUnder(path.join(store.dataDir, "images")).filter((f) => f.startsWith(a1.sha256))).toHaveLength(1);
  });

  it("accepts PNG and WebP by content, whatever they are called", async () => {
    const png = await sharp(tubingen).resize(200).png().toBuffer();
    const webp = await sharp(tubingen).resize(300).webp().toBuffer();
    const p = await storeImage(db, png, { ownerId: alice, dataDir: store.dataDir });
    const w = await storeImage(db, webp, { ownerId: alice, dataDir: store.dataDir });
    expect(p).toMatchObject({ mime: "image/png", width: 200, height: 150 });
    expect(w).toMatchObject({ mime: "image/webp", width: 300, height: 225 });
    expect(imageFilePath(p, { dataDir: store.dataDir }).endsWith(".png")).toBe(true);
    expect(imageFilePath(w, { dataDir: store.dataDir }).endsWith(".webp")).toBe(true);
  });

  it("refuses a text file renamed .jpg, a GIF and an empty file as unsupported/corrupt, storing nothing", async () => {
    const before = await db.image.count();
    const filesBefore = filesUnder(path.join(store.dataDir, "images")).length;
    const text = await rejection(
      storeImage(db, Buffer.from("hello, this is not an image\n"), { ownerId: alice, dataDir: store.dataDir }),
    );
    expect(text.code).toBe("unsupported_type");
    expect(text.message).toMatch(/JPEG, PNG and WebP/);
    const gif = await sharp(tubingen).resize(50).gif().toBuffer();
    expect((await rejection(storeImage(db, gif, { ownerId: alice, dataDir: store.dataDir }))).code).toBe(
      "unsupported_type",
    );
    expect((await rejection(storeImage(db, new Uint8Array(0), { ownerId: alice, dataDir: store.dataDir }))).code).toBe(
      "corrupt",
    );
    expect(await db.image.count()).toBe(before);
    expect(filesUnder(path.join(store.dataDir, "images"))).toHaveLength(filesBefore);
  });

  it("refuses truncated JPEG/PNG/WebP, a damaged PNG and garbage behind a JPEG signature as corrupt", async () => {
    const truncated = tubingen.subarray(0, Math.floor(tubingen.length / 2));
    const t = await rejection(storeImage(db, truncated, { ownerId: alice, dataDir: store.dataDir }));
    expect(t.code).toBe("corrupt");
    expect(t.message).toMatch(/damaged or incomplete/);
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7)]);
    expect((await rejection(storeImage(db, garbage, { ownerId: alice, dataDir: store.dataDir }))).code).toBe("corrupt");
    const png = await sharp(tubingen).resize(400).png().toBuffer();
    const webp = await sharp(tubingen).resize(400).webp().toBuffer();
    const flipped = Buffer.from(png);
    flipped[Math.floor(png.length / 2)]! ^= 0xff; // breaks the IDAT checksum
    for (const bad of [
      png.subarray(0, 60),
      png.subarray(0, Math.floor(png.length * 0.7)),
      webp.subarray(0, Math.floor(webp.length * 0.7)),
      flipped,
    ]) {
      expect((await rejection(storeImage(db, bad, { ownerId: alice, dataDir: store.dataDir }))).code).toBe("corrupt");
    }
  });

  it("refuses files over the byte cap before looking inside", async () => {
    const e = await rejection(storeImage(db, tubingen, { ownerId: alice, maxBytes: 100_000, dataDir: store.dataDir }));
    expect(e.code).toBe("too_many_bytes");
    expect(e.message).toMatch(/limit is 0\.1 MB/);
  });

  it("refuses decompression bombs from their header, without decoding them", async () => {
    // built with sharp: 7000×7000 = 49 MP of one colour, ~150 KB as PNG
    const bomb = await sharp({
      create: { width: 7000, height: 7000, channels: 3, background: { r: 200, g: 30, b: 30 } },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(400_000);
    const e = await rejection(storeImage(db, bomb, { ownerId: alice, dataDir: store.dataDir }));
    expect(e.code).toBe("too_many_pixels");
    expect(e.message).toMatch(/7000×7000/);
    // 20000×20000 = 400 MP in ~50 KB; decoding it would need 1.2 GB
    const huge = solidBlackPng(20_000, 20_000);
    expect(huge.length).toBeLessThan(100_000);
    expect((await rejection(storeImage(db, huge, { ownerId: alice, dataDir: store.dataDir }))).code).toBe(
      "too_many_pixels",
    );
    // the cap is configurable
    expect(
      (await rejection(storeImage(db, tubingen, { ownerId: alice, maxPixels: 500_000, dataDir: store.dataDir }))).code,
    ).toBe("too_many_pixels");
  });

  it("stores EXIF-rotated photos untouched but with their displayed dimensions", async () => {
    const rotated = await sharp(tubingen).resize(400, 300).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(rotated).metadata()).orientation).toBe(6);
    const image = await storeImage(db, rotated, { ownerId: alice, dataDir: store.dataDir });
    expect([image.width, image.height]).toEqual([300, 400]);
    expect((await readImageBytes(image, { dataDir: store.dataDir })).equals(rotated)).toBe(true);
    const thumb = await thumbnail(image, 160, { dataDir: store.dataDir });
    const meta = await sharp(fileStoreOf({ dataDir: store.dataDir }).localPath(thumb.key)).metadata();
    expect([meta.width, meta.height]).toEqual([160, 213]); // portrait, as displayed
  });
});

describe("storeRgbResult", () => {
  it("encodes raw RGB pixels as PNG, losslessly", async () => {
    const width = 64;
    const height = 48;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
    const image = await storeRgbResult(
      db,
      { data, width, height, channels: 3 },
      { ownerId: bob, dataDir: store.dataDir },
    );
    expect(image).toMatchObject({ mime: "image/png", width, height, ownerId: bob });
    const decoded = await sharp(imageFilePath(image, { dataDir: store.dataDir }))
      .raw()
      .toBuffer();
    expect(Buffer.from(decoded).equals(Buffer.from(data))).toBe(true);
  });

  it("stores an already encoded PNG as is and rejects inconsistent raw buffers", async () => {
    const png = await sharp(tubingen).resize(128).png().toBuffer();
    const image = await storeRgbResult(db, png, { ownerId: null, dataDir: store.dataDir });
    expect(image).toMatchObject({ mime: "image/png", width: 128, height: 96, ownerId: null });
    await expect(
      storeRgbResult(
        db,
        { data: new Uint8Array(10), width: 4, height: 4, channels: 3 },
        { ownerId: bob, dataDir: store.dataDir },
      ),
    ).rejects.toThrow(/do not make 4×4×3/);
  });
});

describe("thumbnail", () => {
  it("snaps widths to a small set, never enlarges, and caches the WebP", async () => {
    expect(thumbnailWidthFor(1)).toBe(160);
    expect(thumbnailWidthFor(300)).toBe(320);
    expect(thumbnailWidthFor(640)).toBe(640);
    expect(thumbnailWidthFor(99999)).toBe(1280);
    expect(thumbnailWidthFor(Number.NaN)).toBe(1280);

    const image = await storeImage(db, tubingen, { ownerId: alice, dataDir: store.dataDir });
    const t = await thumbnail(image, 300, { dataDir: store.dataDir });
    expect(t).toEqual({ key: `thumbs/${image.sha256}-320.webp`, mime: "image/webp", width: 320 });
    const localOf = (key: string) => fileStoreOf({ dataDir: store.dataDir }).localPath(key);
    const meta = await sharp(localOf(t.key)).metadata();
    expect(meta).toMatchObject({ format: "webp", width: 320, height: 240 });
    const mtime = statSync(localOf(t.key)).mtimeMs;
    const again = await Promise.all([
      thumbnail(image, 250, { dataDir: store.dataDir }),
      thumbnail(image, 320, { dataDir: store.dataDir }),
    ]);
    expect(again.map((x) => x.key)).toEqual([t.key, t.key]);
    expect(statSync(localOf(t.key)).mtimeMs).toBe(mtime);

    const big = await thumbnail(image, 5000, { dataDir: store.dataDir });
    expect(big.width).toBe(1280);
    expect((await sharp(localOf(big.key)).metadata()).width).toBe(1024); // the original is only 1024 wide
    const thumbs = filesUnder(path.join(store.dataDir, "thumbs"));
    expect(thumbs.every((f) => THUMBNAIL_WIDTHS.some((w) => f.endsWith(`-${w}.webp`)))).toBe(true);
  });

  it("refuses rows that do not name a stored file", async () => {
    expect(() => imageFilePath({ sha256: "../../etc/passwd", mime: "image/png" })).toThrow(/invalid sha256/);
    expect(() => imageFilePath({ sha256: "a".repeat(64), mime: "image/gif" })).toThrow(/unsupported mime/);
  });
});
