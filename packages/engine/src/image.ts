/**
 * Image IO for the engine: decode JPEG/PNG/WebP into interleaved 8-bit RGB, resize, encode.
 * Everything goes through sharp (libvips). Inputs are untrusted (uploads, CLI arguments), so
 * the format is decided by content, never by file name, only the three supported formats
 * ever reach a decoder, and byte and pixel caps stop oversized files and decompression bombs.
 */
import { readFile, stat } from "node:fs/promises";
import { FORMAT_OF_MIME, IMAGE_TYPES, sniffImageFormat, type ImageMime } from "@atelier/protocol";
import sharp, { type Metadata } from "sharp";
import type { ImageSource, RgbImage } from "./api.ts";

export type ImageErrorCode = "not_found" | "not_an_image" | "unsupported" | "too_large" | "unreadable";

export class ImageError extends Error {
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ImageError";
    this.code = code;
  }
}

/** 50 MB: far above any real photo, small enough that reading it can't hurt the process. */
export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;
/** 40 megapixels: a 7300 × 5500 photo; decoding it takes ~120 MB of RGB. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

export interface DecodeOptions {
  maxBytes?: number;
  maxPixels?: number;
  /** How error messages name the input when it is not a file path (default "image data"). */
  label?: string;
}

export type SupportedMime = ImageMime;

const WHITE = { r: 255, g: 255, b: 255 };

/** The supported type the magic bytes announce, or null. */
function magicMime(bytes: Uint8Array): SupportedMime | null {
  const format = sniffImageFormat(bytes);
  return format ? IMAGE_TYPES[format].mime : null;
}

/** Names well-known image formats we do not accept, so the error can say what the file is. */
function otherImageFormat(bytes: Uint8Array): string | null {
  const ascii = (start: number, end: number) => Buffer.from(bytes.subarray(start, end)).toString("latin1");
  const head = ascii(0, 12);
  if (head.startsWith("GIF87a") || head.startsWith("GIF89a")) return "GIF";
  if (head.startsWith("BM")) return "BMP";
  if (head.startsWith("II*\u0000") || head.startsWith("MM\u0000*")) return "TIFF";
  if (ascii(4, 8) === "ftyp") {
    const brand = ascii(8, 12);
    if (brand.startsWith("avi")) return "AVIF";
    if (brand.startsWith("hei") || brand.startsWith("mif") || brand.startsWith("hev")) return "HEIC";
  }
  if (head.startsWith("\u00ffO\u00ffQ") || ascii(4, 12) === "jP  \r\n\u0087\n") return "JPEG 2000";
  if (head.startsWith("\u00ff\u000a") || ascii(4, 12) === "JXL \r\n\u0087\n") return "JPEG XL";
  if (head.startsWith("8BPS")) return "PSD";
  if (head.startsWith("\u0000\u0000\u0001\u0000")) return "ICO";
  const text = ascii(0, 512).trimStart().toLowerCase();
  if (text.startsWith("<svg") || (text.startsWith("<?xml") && text.includes("<svg"))) return "SVG";
  return null;
}

function isRgbImage(src: ImageSource): src is RgbImage {
  return typeof src === "object" && !(src instanceof Uint8Array) && src !== null && "data" in src;
}

function megapixels(pixels: number): string {
  return `${(pixels / 1e6).toFixed(1)} megapixels`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${bytes} bytes`;
}

/** Reads a file with the byte cap applied before reading, mapping fs errors to ImageError. */
async function readImageFile(path: string, maxBytes: number): Promise<Buffer> {
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new ImageError("unreadable", `${path} is a directory, not an image file`);
    if (!info.isFile()) throw new ImageError("unreadable", `${path} is not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw fsError(path, error);
  }
  if (size > maxBytes) {
    throw new ImageError("too_large", `${path} is ${formatBytes(size)}, more than the ${formatBytes(maxBytes)} limit`);
  }
  try {
    return await readFile(path);
  } catch (error) {
    throw fsError(path, error);
  }
}

function fsError(path: string, error: unknown): ImageError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "ENOTDIR")
    return new ImageError("not_found", `${path} does not exist`, { cause: error });
  if (code === "EACCES" || code === "EPERM")
    return new ImageError("unreadable", `${path} cannot be read (permission denied)`, { cause: error });
  return new ImageError("unreadable", `${path} cannot be read: ${(error as Error).message}`, { cause: error });
}

/** Checks the type by content and returns the supported MIME type, or throws a precise ImageError. */
function requireSupportedType(bytes: Uint8Array, label: string): SupportedMime {
  const mime = magicMime(bytes);
  if (mime) return mime;
  const other = otherImageFormat(bytes);
  if (other) throw new ImageError("unsupported", `${label} is a ${other} image; only JPEG, PNG and WebP are supported`);
  if (bytes.length === 0) throw new ImageError("not_an_image", `${label} is empty`);
  throw new ImageError("not_an_image", `${label} is not an image (expected JPEG, PNG or WebP)`);
}

function checkPixelCap(width: number, height: number, maxPixels: number, label: string): void {
  if (width * height > maxPixels) {
    throw new ImageError(
      "too_large",
      `${label} is ${width}×${height} (${megapixels(width * height)}), more than the ${megapixels(maxPixels)} limit`,
    );
  }
}

function validateRgb(img: RgbImage, label: string): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageError("unreadable", `${label} has invalid dimensions ${width}×${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new ImageError(
      "unreadable",
      `${label} has ${data?.length ?? 0} bytes of RGB data, expected ${width}×${height}×3 = ${width * height * 3}`,
    );
  }
}

/** sharp on encoded bytes with our safety settings: pixel cap, and abort on corrupt or truncated data. */
function sharpFor(bytes: Uint8Array, maxPixels: number) {
  return sharp(bytes, { limitInputPixels: maxPixels, failOn: "error", autoOrient: true });
}

function toUint8(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Decodes an image (file path, encoded JPEG/PNG/WebP bytes, or already-decoded RGB) to
 * interleaved 8-bit sRGB: EXIF orientation applied, alpha flattened onto white, greyscale
 * expanded to three channels.
 */
export async function decodeImage(src: ImageSource, opts: DecodeOptions = {}): Promise<RgbImage> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const label = typeof src === "string" ? src : (opts.label ?? "image data");

  if (isRgbImage(src)) {
    validateRgb(src, label);
    checkPixelCap(src.width, src.height, maxPixels, label);
    return src;
  }

  let bytes: Uint8Array;
  if (typeof src === "string") {
    bytes = await readImageFile(src, maxBytes);
  } else {
    if (src.byteLength > maxBytes) {
      throw new ImageError(
        "too_large",
        `${label} is ${formatBytes(src.byteLength)}, more than the ${formatBytes(maxBytes)} limit`,
      );
    }
    bytes = src;
  }

  const mime = requireSupportedType(bytes, label);

  // Read the header first: its dimensions let us refuse an oversized image with a precise
  // message before libvips allocates anything.
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageError(
      "unreadable",
      `${label} looks like ${mime} but its header cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (meta.format !== FORMAT_OF_MIME[mime]) {
    throw new ImageError("unreadable", `${label} starts like ${mime} but decodes as ${meta.format}`);
  }
  checkPixelCap(meta.width, meta.height, maxPixels, label);

  try {
    const { data, info } = await sharpFor(bytes, maxPixels)
      .flatten({ background: WHITE })
      .toColourspace("srgb")
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`unexpected decoder output: ${info.channels} channels, ${data.length} bytes`);
    }
    return { width: info.width, height: info.height, data: toUint8(data) };
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError(
      "unreadable",
      `${label} is a damaged or truncated ${mime} image: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Resizes to exactly width × height with a Lanczos-3 filter (aspect ratio is the caller's business). */
export async function resizeImage(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  validateRgb(img, "image");
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resizeImage: target size must be positive integers, got ${width}×${height}`);
  }
  if (width === img.width && height === img.height) {
    return { width, height, data: img.data.slice() };
  }
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel: "lanczos3" })
    .raw()
    .toBuffer();
  return { width, height, data: toUint8(data) };
}

/** The size with the same aspect ratio whose longer side is maxSide (up or down), each side ≥ 1. */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  for (const [name, value] of [
    ["width", width],
    ["height", height],
    ["maxSide", maxSide],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`fitWithin: ${name} must be a positive number, got ${value}`);
  }
  const side = Math.max(1, Math.round(maxSide));
  const scale = side / Math.max(width, height);
  return {
    width: width >= height ? side : Math.max(1, Math.round(width * scale)),
    height: height >= width ? side : Math.max(1, Math.round(height * scale)),
  };
}

/** Encodes RGB to PNG (lossless), JPEG or WebP (quality 1–100, default 92). */
export async function encodeImage(img: RgbImage, format: "png" | "jpeg" | "webp", quality = 92): Promise<Buffer> {
  validateRgb(img, "image");
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`encodeImage: quality must be an integer from 1 to 100, got ${quality}`);
  }
  const pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  switch (format) {
    case "png":
      return pipeline.png({ compressionLevel: 6 }).toBuffer();
    case "jpeg":
      return pipeline.jpeg({ quality, mozjpeg: true }).toBuffer();
    case "webp":
      return pipeline.webp({ quality }).toBuffer();
    default:
      throw new RangeError(`encodeImage: unknown format ${String(format)}`);
  }
}

/**
 * Identifies a supported image by its content (magic bytes, confirmed by sharp's header
 * parser). Width and height are as displayed, i.e. after EXIF orientation, which is what
 * decodeImage returns. Null for anything else, including damaged headers.
 */
export async function sniffImage(
  bytes: Uint8Array,
): Promise<{ mime: SupportedMime; width: number; height: number } | null> {
  const mime = magicMime(bytes);
  if (!mime) return null;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    if (meta.format !== FORMAT_OF_MIME[mime] || !meta.width || !meta.height) return null;
    const oriented = meta.autoOrient ?? { width: meta.width, height: meta.height };
    return { mime, width: oriented.width, height: oriented.height };
  } catch {
    return null;
  }
}
