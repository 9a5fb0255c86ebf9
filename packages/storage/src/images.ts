import { createHash } from "node:crypto";
import sharp, { type Metadata } from "sharp";
import type { Db, Image } from "@atelier/db";
import { UploadError } from "./errors.ts";
import { IMAGE_TYPES, sniffImageFormat, type ImageFormat, type ImageMime } from "@atelier/protocol";
import type { StoredStream } from "@atelier/files";
import { fileStoreOf, imageKey, type StorageOptions } from "./files.ts";

export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
export const DEFAULT_MAX_PIXELS = 40_000_000;

export type InspectedImage = {
  format: ImageFormat;
  mime: ImageMime;
  /** as displayed, i.e. after EXIF auto-orientation */
  width: number;
  height: number;
  bytes: number;
  sha256: string;
};

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Checks an upload by its content: size, type (magic bytes, confirmed by the decoder), pixel count
 * (from the header, before anything is decoded: a tiny PNG can declare a gigapixel), and that it
 * decodes completely (truncated or damaged files are refused).
 */
export async function inspectImage(
  input: Uint8Array,
  limits: { maxBytes?: number; maxPixels?: number } = {},
): Promise<InspectedImage> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.byteLength === 0) throw new UploadError("corrupt", "The file is empty.");
  if (bytes.byteLength > maxBytes) {
    throw new UploadError(
      "too_many_bytes",
      `The file is ${megabytes(bytes.byteLength)}; the limit is ${megabytes(maxBytes)}.`,
    );
  }
  const format = sniffImageFormat(bytes);
  if (!format) throw new UploadError("unsupported_type", "Only JPEG, PNG and WebP images can be used.");

  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new UploadError("corrupt", `The file looks like ${format.toUpperCase()} but its header cannot be read.`);
  }
  if (meta.format !== format) {
    throw new UploadError("corrupt", `The file starts like ${format.toUpperCase()} but does not decode as one.`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new UploadError("corrupt", "The image has no dimensions.");
  // Only the first frame of an animated image is ever decoded (sharp's default), and that is what `height` measures.
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new UploadError(
      "too_many_pixels",
      `The image is ${width}×${height} (${(pixels / 1e6).toFixed(1)} megapixels); the limit is ${(maxPixels / 1e6).toFixed(0)} megapixels.`,
    );
  }

  try {
    // Decode everything (libvips streams it; the tiny output keeps memory flat). failOn
    // "truncated" refuses files cut short, which would otherwise decode to grey.
    await sharp(bytes, { limitInputPixels: maxPixels, failOn: "truncated" })
      .resize(16, 16, { fit: "inside" })
      .raw()
      .toBuffer();
  } catch {
    throw new UploadError("corrupt", `The ${format.toUpperCase()} file is damaged or incomplete.`);
  }

  // EXIF orientations 5–8 turn the picture a quarter: the displayed size is transposed.
  const transposed = (meta.orientation ?? 1) >= 5;
  return {
    format,
    mime: IMAGE_TYPES[format].mime,
    width: transposed ? height : width,
    height: transposed ? width : height,
    bytes: bytes.byteLength,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

export type StoreImageOptions = StorageOptions & {
  ownerId: string | null;
  maxBytes?: number;
  maxPixels?: number;
  /** always a new Image row (see storeRgbResult) */
  ownRow?: boolean;
};

/**
 * Validates an upload and stores it: the original bytes at images/<sha256>.<ext> in the file store
 * (shared by identical uploads) and an Image row. The same owner storing the same bytes again
 * gets their existing row back. Throws UploadError (nothing stored) for a bad file.
 */
export async function storeImage(db: Db, bytes: Uint8Array, options: StoreImageOptions): Promise<Image> {
  const info = await inspectImage(bytes, options);
  return saveInspected(db, bytes, info, options);
}

async function saveInspected(
  db: Db,
  bytes: Uint8Array,
  info: InspectedImage,
  options: StoreImageOptions,
): Promise<Image> {
  await fileStoreOf(options).write(imageKey(info), bytes, { reuseExisting: true });
  if (options.ownerId && !options.ownRow) {
    const existing = await db.image.findFirst({
      where: { sha256: info.sha256, ownerId: options.ownerId, mime: info.mime },
      orderBy: { createdAt: "asc" },
    });
    if (existing) return existing;
  }
  return db.image.create({
    data: {
      sha256: info.sha256,
      mime: info.mime,
      width: info.width,
      height: info.height,
      bytes: info.bytes,
      ownerId: options.ownerId,
    },
  });
}

export type RawRgb = { data: Uint8Array; width: number; height: number; channels: 3 | 4 };

/**
 * Stores a generated image: raw RGB(A) pixels (encoded to PNG here) or an already encoded
 * PNG/JPEG/WebP. Same checks and layout as storeImage.
 */
export async function storeRgbResult(
  db: Db,
  image: RawRgb | Uint8Array,
  options: StorageOptions & {
    ownerId: string | null;
    /**
     * a new Image row even when the owner stored the same bytes before: each result gets its own
     * row, so a private result never shares its image (and thus its visibility) with a public one
     */
    ownRow?: boolean;
  },
): Promise<Image> {
  let encoded: Uint8Array;
  if (image instanceof Uint8Array) {
    encoded = image;
  } else {
    const { data, width, height, channels } = image;
    if (
      !Number.isInteger(width) ||
      !Number.isInteger(height) ||
      width < 1 ||
      height < 1 ||
      data.byteLength !== width * height * channels
    ) {
      throw new Error(`raw image: ${data.byteLength} bytes do not make ${width}×${height}×${channels}`);
    }
    encoded = await sharp(data, { raw: { width, height, channels } }).png({ compressionLevel: 6 }).toBuffer();
  }
  const info = await inspectImage(encoded, { maxBytes: Number.MAX_SAFE_INTEGER, maxPixels: DEFAULT_MAX_PIXELS });
  return saveInspected(db, encoded, info, options);
}

/** The stored bytes of an image as a stream and their size; throws ENOENT when the file is missing. */
export async function readImageStream(
  image: { sha256: string; mime: string },
  options: StorageOptions = {},
): Promise<StoredStream> {
  const stored = await fileStoreOf(options).readStream(imageKey(image));
  if (!stored) throw Object.assign(new Error("the image file is missing from storage"), { code: "ENOENT" });
  return stored;
}

export async function readImageBytes(
  image: { sha256: string; mime: string },
  options: StorageOptions = {},
): Promise<Buffer> {
  const bytes = await fileStoreOf(options).read(imageKey(image));
  if (!bytes) throw Object.assign(new Error("the image file is missing from storage"), { code: "ENOENT" });
  return bytes;
}

/** Thumbnail widths we make; other requests are served the next larger one (bounded cache). */
export const THUMBNAIL_WIDTHS = [160, 320, 640, 1280] as const;
export type ThumbnailWidth = (typeof THUMBNAIL_WIDTHS)[number];

export function thumbnailWidthFor(requested: number): ThumbnailWidth {
  if (!Number.isFinite(requested)) return THUMBNAIL_WIDTHS[THUMBNAIL_WIDTHS.length - 1]!;
  return THUMBNAIL_WIDTHS.find((w) => w >= requested) ?? THUMBNAIL_WIDTHS[THUMBNAIL_WIDTHS.length - 1]!;
}

const thumbnailsInFlight = new Map<string, Promise<void>>();

/**
 * A WebP thumbnail of the image at (at most) `width` pixels wide — snapped to THUMBNAIL_WIDTHS,
 * never enlarged, EXIF-oriented — made once and kept in the file store at
 * `thumbs/<sha256>-<width>.webp` (its key; read it with the store's read or readStream). Throws
 * ENOENT when the original is missing, EDAMAGED when it no longer hashes to its sha256.
 */
export async function thumbnail(
  image: { sha256: string; mime: string; width: number; height: number },
  width: number,
  options: StorageOptions = {},
): Promise<{ key: string; mime: "image/webp"; width: ThumbnailWidth }> {
  const snapped = thumbnailWidthFor(width);
  const store = fileStoreOf(options);
  const key = `thumbs/${image.sha256}-${snapped}.webp`;
  const flight = `${store.description}\n${key}`;
  let pending = thumbnailsInFlight.get(flight);
  if (!pending) {
    pending = (async () => {
      if (await store.stat(key)) return;
      const original = await readImageBytes(image, options);
      // never a thumbnail of bytes that are no longer the image's (served for a year)
      if (createHash("sha256").update(original).digest("hex") !== image.sha256)
        throw Object.assign(new Error("the stored image file is damaged"), { code: "EDAMAGED" });
      const webp = await sharp(original, {
        limitInputPixels: Math.max(DEFAULT_MAX_PIXELS, image.width * image.height),
      })
        .rotate() // EXIF auto-orient
        .resize({ width: snapped, withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer();
      await store.write(key, webp, { reuseExisting: false });
    })().finally(() => thumbnailsInFlight.delete(flight));
    thumbnailsInFlight.set(flight, pending);
  }
  await pending;
  return { key, mime: "image/webp", width: snapped };
}
