import { z } from "zod";

/**
 * The image types Atelier accepts, recognised by their first bytes (never by name or declared
 * type). One place for the engine (decoding) and storage (uploads): both depend on this
 * package, and it holds no IO.
 */
export const IMAGE_TYPES = {
  jpeg: { mime: "image/jpeg", ext: "jpg" },
  png: { mime: "image/png", ext: "png" },
  webp: { mime: "image/webp", ext: "webp" },
} as const;
export type ImageFormat = keyof typeof IMAGE_TYPES;
export type ImageMime = (typeof IMAGE_TYPES)[ImageFormat]["mime"];

/** Each MIME type's format (sharp's and the encoders' name for it), derived from IMAGE_TYPES. */
export const FORMAT_OF_MIME = Object.fromEntries(
  Object.entries(IMAGE_TYPES).map(([format, t]) => [t.mime, format]),
) as Record<ImageMime, ImageFormat>;

/** A MIME type Atelier reads and writes: the schema of preview frames and kept images. */
export const imageMime = z.enum(Object.keys(FORMAT_OF_MIME) as [ImageMime, ...ImageMime[]]);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: number[], at = 0): boolean {
  return bytes.length >= at + prefix.length && prefix.every((b, i) => bytes[at + i] === b);
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "webp";
  return null;
}

export function formatOfMime(mime: string): ImageFormat | null {
  return isImageMime(mime) ? FORMAT_OF_MIME[mime] : null;
}

export function isImageMime(mime: string): mime is ImageMime {
  return Object.hasOwn(FORMAT_OF_MIME, mime);
}
