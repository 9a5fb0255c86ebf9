import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRepoRoot } from "@atelier/db";
import { SYSTEM_STYLES_USER, seedStyles } from "../src/seed-styles.ts";
import {
  ManifestError,
  parseCsvManifest,
  parseJsonManifest,
  styleName,
  titleFromFileName,
} from "../src/style-manifest.ts";
import { imagesDir, tempStore } from "./support.ts";

describe("style manifest", () => {
  it("reads JSON as a list or keyed by file", () => {
    const list = parseJsonManifest('[{"file":"a.jpg","title":"A","attribution":"Someone, 1900"}]');
    expect(list.get("a.jpg")).toEqual({ title: "A", attribution: "Someone, 1900" });
    const keyed = parseJsonManifest('{"b.png":{"title":" B "}}');
    expect(keyed.get("b.png")).toEqual({ title: "B", attribution: null });
  });
  it("reads CSV with quoted commas", () => {
    const m = parseCsvManifest('file,title,attribution\nstarry.jpg,"The Starry Night","Vincent van Gogh, 1889"\n');
    expect(m.get("starry.jpg")).toEqual({ title: "The Starry Night", attribution: "Vincent van Gogh, 1889" });
  });
  it("says what is wrong with a bad manifest", () => {
    expect(() => parseJsonManifest("{nope")).toThrow(ManifestError);
    expect(() => parseJsonManifest('[{"title":"x"}]')).toThrow(/needs a "file"/);
    expect(() => parseJsonManifest('{"a.jpg":{"title":""}}')).toThrow(/needs a title/);
    expect(() => parseCsvManifest("name,author\nx,y")).toThrow(/header/);
  });
  it("names styles from titles, attributions or file names", () => {
    expect(titleFromFileName("starry_night.jpg")).toBe("Starry night");
    expect(styleName({ title: "The Scream", attribution: "Edvard Munch, 1893" })).toBe(
      "The Scream — Edvard Munch, 1893",
    );
    expect(styleName({ title: "x".repeat(100), attribution: null })).toHaveLength(80);
  });
});

describe("seedStyles", () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let folder: string;
  beforeAll(async () => {
    store = await tempStore();
    folder = mkdtempSync(path.join(os.tmpdir(), "atelier-seed-"));
    copyFileSync(path.join(imagesDir(), "starry_night.jpg"), path.join(folder, "starry_night.jpg"));
    copyFileSync(path.join(imagesDir(), "the_scream.jpg"), path.join(folder, "the_scream.jpg"));
    writeFileSync(path.join(folder, "broken.jpg"), "not a jpeg at all");
    writeFileSync(path.join(folder, "notes.txt"), "hello");
    writeFileSync(
      path.join(folder, "styles.json"),
      JSON.stringify({ "starry_night.jpg": { title: "The Starry Night", attribution: "Vincent van Gogh, 1889" } }),
    );
  });
  afterAll(async () => {
    rmSync(folder, { recursive: true, force: true });
    await store.cleanup();
  });

  it("imports the images as public styles of the system user and refuses the broken file", async () => {
    const report = await seedStyles(store.db, { folder, dataDir: store.dataDir });
    expect(report.owner.email).toBe(SYSTEM_STYLES_USER.email);
    expect(report.manifest).toBe(path.join(folder, "styles.json"));
    expect(report.added.map((a) => [a.file, a.name])).toEqual([
      ["starry_night.jpg", "The Starry Night — Vincent van Gogh, 1889"],
      ["the_scream.jpg", "The scream"],
    ]);
    expect(report.failed).toEqual([{ file: "broken.jpg", error: expect.stringMatching(/JPEG/) as unknown }]);
    expect(report.skipped).toEqual([{ file: "notes.txt", reason: "Not an image file (.txt)." }]);
    const styles = await store.db.style.findMany({ where: { ownerId: report.owner.id } });
    expect(styles).toHaveLength(2);
    expect(styles.every((s) => s.isPublic)).toBe(true);
  });

  it("is idempotent: a second import adds nothing", async () => {
    const report = await seedStyles(store.db, { folder, dataDir: store.dataDir });
    expect(report.added).toEqual([]);
    expect(report.skipped.filter((s) => s.reason.startsWith("Already a style"))).toHaveLength(2);
    expect(await store.db.style.count()).toBe(2);
  });

  it("a named owner must exist; a missing folder or manifest is a clear error", async () => {
    await expect(
      seedStyles(store.db, { folder, dataDir: store.dataDir, ownerEmail: "nobody@example.test" }),
    ).rejects.toThrow(/No user with the email nobody@example.test/);
    await expect(seedStyles(store.db, { folder: path.join(folder, "nope"), dataDir: store.dataDir })).rejects.toThrow(
      /is not a folder/,
    );
    await expect(
      seedStyles(store.db, { folder, dataDir: store.dataDir, manifest: path.join(folder, "missing.csv") }),
    ).rejects.toThrow(/does not exist/);
  });

  it("refuses to hand the collection to a system account someone can sign in to (exit 1 from the script)", async () => {
    const fresh = await tempStore();
    try {
      await fresh.db.user.create({
        data: { email: SYSTEM_STYLES_USER.email, name: "Squatter", passwordHash: "$2b$10$abcdefghijklmnopqrstuv" },
      });
      await expect(seedStyles(fresh.db, { folder, dataDir: fresh.dataDir })).rejects.toThrow(
        /styles@atelier\.invalid can be signed in to \(it has a password\).*refusing/,
      );
      // the command itself: the same message on stderr, exit status 1
      const script = spawnSync(
        process.execPath,
        ["--import", "tsx", path.join(findRepoRoot(), "packages/storage/scripts/seed-styles.ts"), folder],
        { env: { ...process.env, DATA_DIR: fresh.dataDir, DATABASE_URL: "" }, encoding: "utf8" },
      );
      expect([script.status, script.stderr]).toEqual([1, expect.stringMatching(/can be signed in to.*refusing/)]);
      expect(await fresh.db.style.count()).toBe(0);
      expect(await fresh.db.image.count()).toBe(0);
    } finally {
      await fresh.cleanup();
    }
  });

  it("--only-listed imports just the files the manifest names (the README's starter styles)", async () => {
    const fresh = await tempStore();
    try {
      const manifest = path.join(findRepoRoot(), "docs", "starter-styles.csv");
      const report = await seedStyles(fresh.db, {
        folder: imagesDir(),
        dataDir: fresh.dataDir,
        manifest,
        onlyListed: true,
      });
      expect(report.added.map((a) => a.file)).toEqual([
        "shipwreck.jpg",
        "starry_night.jpg",
        "the_scream.jpg",
        "woman-with-hat-matisse.jpg",
      ]);
      expect(report.failed).toEqual([]);
      expect(report.skipped).toEqual([]);
      // the test folder's own styles.json names only starry_night.jpg: the scream and the broken file stay out
      const own = await seedStyles(fresh.db, { folder, dataDir: fresh.dataDir, onlyListed: true });
      expect([own.added, own.failed, own.skipped]).toEqual([
        [],
        [],
        [expect.objectContaining({ file: "starry_night.jpg" })],
      ]);
      const bare = mkdtempSync(path.join(os.tmpdir(), "atelier-seed-bare-"));
      try {
        await expect(seedStyles(fresh.db, { folder: bare, dataDir: fresh.dataDir, onlyListed: true })).rejects.toThrow(
          /needs a manifest/,
        );
      } finally {
        rmSync(bare, { recursive: true, force: true });
      }
    } finally {
      await fresh.cleanup();
    }
  });

  it("a named owner gets their own copies", async () => {
    const user = await store.db.user.create({ data: { email: "ada@example.test", name: "Ada" } });
    const report = await seedStyles(store.db, { folder, dataDir: store.dataDir, ownerEmail: "ada@example.test" });
    expect(report.owner.id).toBe(user.id);
    expect(report.added).toHaveLength(2);
  });
});
