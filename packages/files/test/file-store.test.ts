import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { SharedDirectory } from "../src/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(): SharedDirectory {
  const dir = mkdtempSync(path.join(os.tmpdir(), "atelier-file-store-test-"));
  dirs.push(dir);
  return new SharedDirectory(dir);
}

describe("SharedDirectory", () => {
  it("writes whole files by key, reads them back, says when they were written, removes them", async () => {
    const files = store();
    expect(await files.read("runs/r1/checkpoint.png")).toBeNull();
    expect(await files.stat("runs/r1/checkpoint.png")).toBeNull();
    const before = Date.now();
    await files.write("runs/r1/checkpoint.png", Buffer.from("pixels"));
    expect((await files.read("runs/r1/checkpoint.png"))?.toString()).toBe("pixels");
    const written = await files.stat("runs/r1/checkpoint.png");
    expect(written?.size).toBe(6);
    expect(written!.modifiedAt).toBeGreaterThanOrEqual(before - 1000);
    // no temp file left beside it
    expect(readdirSync(path.join(files.root, "runs", "r1"))).toEqual(["checkpoint.png"]);
    // content-addressed: an existing file of the same size is kept
    await files.write("runs/r1/checkpoint.png", Buffer.from("PIXELS"), { reuseExisting: true });
    expect((await files.read("runs/r1/checkpoint.png"))?.toString()).toBe("pixels");
    await files.remove("runs/r1/checkpoint.png");
    await files.remove("runs/r1/checkpoint.png");
    expect(await files.read("runs/r1/checkpoint.png")).toBeNull();
  });

  it("maps keys to paths under its root and back, and refuses keys that leave it", () => {
    const files = store();
    const local = files.localPath("images/abc.png");
    expect(local).toBe(path.join(files.root, "images", "abc.png"));
    expect(files.keyOf(local)).toBe("images/abc.png");
    expect(files.keyOf(path.join(files.root, "..", "elsewhere.png"))).toBeNull();
    expect(files.keyOf(files.root)).toBeNull();
    for (const bad of ["../x.png", "/etc/passwd", "a//b", "a/./b", "a\\b", ""]) {
      expect(() => files.localPath(bad)).toThrow(/not a file store key/);
    }
  });
});
