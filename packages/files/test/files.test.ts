import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../src/index.ts";

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

describe("writeFileAtomic without reuse", () => {
  it("creates missing folders, overwrites, and leaves no temp file behind", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "atelier-files-test-"));
    dirs.push(dir);
    const file = path.join(dir, "runs", "r1", "lease.json");
    await writeFileAtomic(file, '{"a":1}');
    await writeFileAtomic(file, '{"a":2}');
    expect(readFileSync(file, "utf8")).toBe('{"a":2}');
    expect(readdirSync(path.dirname(file))).toEqual(["lease.json"]);
  });
});
