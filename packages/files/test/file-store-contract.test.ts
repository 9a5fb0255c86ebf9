/*
 * The FileStore contract, run against both implementations: the shared directory and the S3
 * store (on s3rver, a local S3 emulator). "Another machine" is a second store on the same
 * backing: the same directory, or the same bucket and prefix with its own local cache.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buffer } from "node:stream/consumers";
import { S3FileStore, SharedDirectory, IMMUTABLE_PREFIXES, type FileStore } from "../src/index.ts";
import { S3_EMULATOR_CREDENTIALS, startS3Emulator, type S3Emulator } from "../src/testing.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "atelier-file-store-test-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let emulator: S3Emulator;
beforeAll(async () => {
  emulator = await startS3Emulator(["contract"]);
});
afterAll(() => emulator?.close());

let prefixes = 0;
function s3Store(prefix: string, overrides: Partial<ConstructorParameters<typeof S3FileStore>[0]> = {}): S3FileStore {
  return new S3FileStore({
    bucket: "contract",
    prefix,
    endpoint: emulator.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    cacheDir: tempDir(),
    immutablePrefixes: IMMUTABLE_PREFIXES,
    credentials: { ...S3_EMULATOR_CREDENTIALS },
    ...overrides,
  });
}

/** two stores on one backing: this machine's and another machine's */
type Pair = { here: FileStore; there: FileStore };
const implementations: [string, () => Pair][] = [
  [
    "SharedDirectory",
    () => {
      const root = tempDir();
      return { here: new SharedDirectory(root), there: new SharedDirectory(root) };
    },
  ],
  [
    "S3FileStore (s3rver emulator)",
    () => {
      const prefix = `t${++prefixes}/`;
      return { here: s3Store(prefix), there: s3Store(prefix) };
    },
  ],
];

describe.each(implementations)("FileStore contract: %s", (_name, open) => {
  it("writes whole files by key, reads them back (bytes and stream), says their size and time, removes them", async () => {
    const { here } = open();
    await here.check();
    const key = "runs/r1/checkpoint.png";
    expect(await here.read(key)).toBeNull();
    expect(await here.readStream(key)).toBeNull();
    expect(await here.stat(key)).toBeNull();
    const before = Date.now();
    await here.write(key, Buffer.from("pixels"));
    expect((await here.read(key))?.toString()).toBe("pixels");
    const streamed = await here.readStream(key);
    expect(streamed?.size).toBe(6);
    expect((await buffer(streamed!.stream)).toString()).toBe("pixels");
    const written = await here.stat(key);
    expect(written?.size).toBe(6);
    // S3 keeps whole seconds
    expect(written!.modifiedAt).toBeGreaterThanOrEqual(before - 2000);
    await here.write(key, "text too");
    expect((await here.read(key))?.toString()).toBe("text too");
    await here.remove(key);
    await here.remove(key); // nothing there: no error
    expect(await here.read(key)).toBeNull();
    expect(await here.stat(key)).toBeNull();
  });

  it("keeps an existing content-addressed file of the same size; replaces otherwise", async () => {
    const { here } = open();
    const key = "images/abc.png";
    await here.write(key, Buffer.from("pixels"), { reuseExisting: true });
    await here.write(key, Buffer.from("PIXELS"), { reuseExisting: true });
    expect((await here.read(key))?.toString()).toBe("pixels");
    await here.write(key, Buffer.from("PIXELS"));
    expect((await here.read(key))?.toString()).toBe("PIXELS");
  });

  it("maps keys to local paths and back, and refuses keys that leave the store", async () => {
    const { here } = open();
    const local = here.localPath("images/abc.png");
    expect(path.isAbsolute(local)).toBe(true);
    expect(here.keyOf(local)).toBe("images/abc.png");
    expect(here.keyOf(path.join(local, "..", "..", "..", "elsewhere.png"))).toBeNull();
    for (const bad of ["../x.png", "/etc/passwd", "a//b", "a/./b", "a\\b", ""]) {
      expect(() => here.localPath(bad)).toThrow(/not a file store key/);
      await expect(here.read(bad)).rejects.toThrow(/not a file store key/);
      await expect(here.write(bad, "x")).rejects.toThrow(/not a file store key/);
    }
  });

  it("hands the engine local files: what one machine writes at its local path and stores, another fetches", async () => {
    const { here, there } = open();
    const key = "runs/r2/checkpoint.png";
    expect(await there.fetchLocal(key)).toBeNull();
    await mkdir(path.dirname(here.localPath(key)), { recursive: true });
    writeFileSync(here.localPath(key), "first");
    await here.storeLocal(key);
    const fetched = await there.fetchLocal(key);
    expect(fetched).toBe(there.localPath(key));
    expect(readFileSync(fetched!, "utf8")).toBe("first");
    // a checkpoint changes: the other machine gets the new bytes, not its stale copy
    writeFileSync(here.localPath(key), "second!");
    await here.storeLocal(key);
    expect(readFileSync((await there.fetchLocal(key))!, "utf8")).toBe("second!");
    expect((await there.read(key))?.toString()).toBe("second!");
    // removed on one machine: gone for the other
    await here.remove(key);
    expect(await there.fetchLocal(key)).toBeNull();
    // and no stale local copy is left for a path-taking reader to pick up
    expect(existsSync(there.localPath(key))).toBe(false);
  });
});

describe("S3FileStore", () => {
  it("puts small files in one request and large ones as a multipart upload, intact either way", async () => {
    const store = s3Store("multipart/", { multipartThreshold: 5 * 1024 * 1024 });
    const commands: string[] = [];
    store.client.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: "initialize" },
    );
    await store.write("runs/small.bin", Buffer.alloc(1024, 1));
    expect(commands).toEqual(["PutObjectCommand"]);
    commands.length = 0;
    const big = Buffer.alloc(6 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    await store.write("runs/big.bin", big);
    expect(commands).toContain("CreateMultipartUploadCommand");
    expect(commands.filter((c) => c === "UploadPartCommand")).toHaveLength(2);
    expect(commands).toContain("CompleteMultipartUploadCommand");
    expect(commands).not.toContain("PutObjectCommand");
    expect((await store.read("runs/big.bin"))?.equals(big)).toBe(true);
  });

  it("keeps each prefix apart and caches content-addressed keys only", async () => {
    const a = s3Store("apart-a/");
    const b = s3Store("apart-b/");
    await a.write("images/same.png", "from a");
    expect(await b.read("images/same.png")).toBeNull();
    // fetched once, the immutable image is served from this machine's cache from then on
    const file = await a.fetchLocal("images/same.png");
    expect(readdirSync(path.dirname(file!))).toEqual(["same.png"]);
    writeFileSync(file!, "cached");
    expect(readFileSync((await a.fetchLocal("images/same.png"))!, "utf8")).toBe("cached");
  });

  it("says clearly at start-up when the bucket is missing, the credentials are refused or the server is down", async () => {
    await expect(s3Store("x/", { bucket: "no-such-bucket" }).check()).rejects.toThrow(
      /the bucket "no-such-bucket" does not exist/,
    );
    await expect(
      s3Store("x/", { credentials: { accessKeyId: "WRONG", secretAccessKey: "WRONG" } }).check(),
    ).rejects.toThrow(/the S3 credentials were refused/);
    await expect(
      s3Store("x/", { endpoint: "http://127.0.0.1:9", maxAttempts: 1, connectionTimeoutMs: 1000 }).check(),
    ).rejects.toThrow(/cannot be reached/);
  });
});
