import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../src/files.ts";
import { sniffImageFormat } from "@atelier/protocol";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("writes, reuses an existing same-size file, replaces a damaged one, and sweeps stale temp files", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "atelier-files-test-"));
    dirs.push(dir);
    const folder = path.join(dir, "images");
    mkdirSync(folder);
    const stale = path.join(folder, ".tmp-1-dead");
    const fresh = path.join(folder, ".tmp-2-busy");
    writeFileSync(stale, "x");
    writeFileSync(fresh, "y");
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, old, old);

    const file = path.join(folder, "a.bin");
    await writeFileAtomic(file, Buffer.from("hello"), { reuseExisting: true });
    expect(readFileSync(file, "utf8")).toBe("hello");
    expect(readdirSync(folder).sort()).toEqual([".tmp-2-busy", "a.bin"]); // stale one gone, a live writer's kept

    await writeFileAtomic(file, Buffer.from("HELLO"), { reuseExisting: true }); // same size: content-addressed, kept
    expect(readFileSync(file, "utf8")).toBe("hello");
    await writeFileAtomic(file, Buffer.from("hello!"), { reuseExisting: true }); // size differs: damaged, replaced
    expect(readFileSync(file, "utf8")).toBe("hello!");
  });
});

describe("sniffImageFormat", () => {
  it("recognises JPEG, PNG and WebP by their first bytes only", () => {
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe("jpeg");
    expect(sniffImageFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe("png");
    expect(sniffImageFormat(Buffer.from("RIFF\0\0\0\0WEBPVP8 "))).toBe("webp");
    expect(sniffImageFormat(Buffer.from("RIFF\0\0\0\0WAVEfmt "))).toBeNull();
    expect(sniffImageFormat(Buffer.from("GIF89a"))).toBeNull();
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8]))).toBeNull();
    expect(sniffImageFormat(new Uint8Array(0))).toBeNull();
  });
});
