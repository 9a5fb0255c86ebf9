import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { createDb, findRepoRoot, type Db } from "@atelier/db";

/** The shared test images (never copied into the repo). */
export function imagesDir(): string {
  return process.env.ATELIER_IMAGES ?? path.join(findRepoRoot(), "..", "shared", "images");
}

export async function tempStore(): Promise<{ dataDir: string; db: Db; cleanup: () => Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "atelier-storage-test-"));
  const db = await createDb({ dataDir });
  return {
    dataDir,
    db,
    cleanup: async () => {
      await db.$disconnect();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A valid 1-bit greyscale PNG of width×height, all black. Its zero rows deflate ~1000:1, so a
 * 60000×60000 (3.6 gigapixel) image is a few hundred KB: the classic decompression bomb.
 */
export function solidBlackPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed pixels
  const raw = Buffer.alloc(rowBytes * height); // zeros: filter 0, black
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
