/**
 * `npm run weights` end to end against a real HTTP server on 127.0.0.1 that serves the shared
 * VGG-19 weights the way a tfjs conversion lays them out (groupN-shardKofM files, extra fully
 * connected groups we must not fetch), plus the failure paths.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  VGG19_CONV_BYTES,
  VGG19_CONV_LAYERS,
  decodeEntry,
  layerFileBytes,
  parseWeightsManifest,
  type WeightsGroup,
} from "../src/weights-manifest.ts";

const ENGINE = resolve(import.meta.dirname, "..");
const SHARED_WEIGHTS = process.env.ATELIER_VGG19 ?? resolve(ENGINE, "../../../shared/models/vgg19");

/** The shared weights re-packed as a converter would: 1–2 shards per conv group, then fc groups. */
async function remoteLayout() {
  const files = new Map<string, Uint8Array>();
  const groups: WeightsGroup[] = [];
  for (const [i, layer] of VGG19_CONV_LAYERS.entries()) {
    const bytes = await readFile(join(SHARED_WEIGHTS, `${layer.name}.bin`));
    const g = i + 1;
    // Split the big layers in two shards to exercise concatenation.
    const cut = bytes.length > 4_000_000 ? 4_194_304 : bytes.length;
    const shards = cut < bytes.length ? [bytes.subarray(0, cut), bytes.subarray(cut)] : [bytes];
    const paths = shards.map((_, k) => `group${g}-shard${k + 1}of${shards.length}`);
    paths.forEach((p, k) => files.set(p, shards[k]!));
    groups.push({
      paths,
      weights: [
        { name: `${layer.name}/kernel`, shape: [3, 3, layer.inChannels, layer.outChannels], dtype: "float32" },
        { name: `${layer.name}/bias`, shape: [layer.outChannels], dtype: "float32" },
      ],
    });
  }
  groups.push({
    paths: ["group17-shard1of25", "group17-shard2of25"],
    weights: [
      { name: "fc1/kernel", shape: [25088, 4096], dtype: "float32" },
      { name: "fc1/bias", shape: [4096], dtype: "float32" },
    ],
  });
  return { files, modelJson: { format: "layers-model", modelTopology: {}, weightsManifest: groups } };
}

let server: Server;
let baseUrl: string;
const requested: string[] = [];
let layout: Awaited<ReturnType<typeof remoteLayout>>;
let dir: string;

beforeAll(async () => {
  layout = await remoteLayout();
  const badShape = structuredClone(layout.modelJson);
  badShape.weightsManifest[0]!.weights[0]!.shape = [3, 3, 3, 32];
  server = createServer((req, res) => {
    const url = req.url ?? "/";
    requested.push(url);
    const [, variant, file] = /^\/(good|short|bad-shape)\/model\/(.+)$/.exec(url) ?? [];
    if (!variant || !file) return void res.writeHead(404).end();
    if (file === "model.json") {
      return void res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(variant === "bad-shape" ? badShape : layout.modelJson));
    }
    const bytes = layout.files.get(file);
    if (!bytes) return void res.writeHead(404).end();
    // "short": a server that cuts one shard off early.
    const body = variant === "short" && file === "group5-shard1of1" ? bytes.subarray(0, bytes.length - 1000) : bytes;
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "atelier-weights-"));
});

afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  await rm(dir, { recursive: true, force: true });
});

function runScript(args: string[], sourceUrl: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((ok, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/download-weights.ts", ...args], {
      cwd: ENGINE,
      env: { ...process.env, ATELIER_VGG19_URL: sourceUrl },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => ok({ code, stdout, stderr }));
  });
}

// Each case spawns node + tsx (1–2 s on a busy 2-core box) and moves up to 80 MB over loopback.
describe("npm run weights", { timeout: 60_000 }, () => {
  it("downloads only the 16 conv groups and writes our manifest layout, byte-identical", async () => {
    const dest = join(dir, "ok", "vgg19");
    requested.length = 0;
    const result = await runScript(["--dest", dest], `${baseUrl}/good/model/model.json`);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote 16 layers \(80\.1 MB\)/);
    expect(requested.some((u) => u.includes("group17"))).toBe(false);
    expect(requested.filter((u) => u.includes("shard"))).toHaveLength(layout.files.size);

    const ours = JSON.parse(await readFile(join(dest, "model.json"), "utf8"));
    const shared = JSON.parse(await readFile(join(SHARED_WEIGHTS, "model.json"), "utf8"));
    expect(ours.format).toBe("weights-manifest");
    expect(ours.weightsManifest).toEqual(shared.weightsManifest);
    let total = 0;
    for (const layer of VGG19_CONV_LAYERS) {
      const [mine, theirs] = await Promise.all([
        readFile(join(dest, `${layer.name}.bin`)),
        readFile(join(SHARED_WEIGHTS, `${layer.name}.bin`)),
      ]);
      expect(mine.equals(theirs), layer.name).toBe(true);
      total += mine.length;
    }
    expect(total).toBe(VGG19_CONV_BYTES);
    expect((await readdir(join(dir, "ok"))).sort()).toEqual(["vgg19"]); // no staging left behind

    requested.length = 0;
    const again = await runScript(["--dest", dest], `${baseUrl}/good/model/model.json`);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already holds/);
    expect(requested).toHaveLength(0);
  });

  it("refuses a shard with the wrong byte size and writes nothing", async () => {
    const parent = join(dir, "short");
    const result = await runScript(["--dest", join(parent, "vgg19")], `${baseUrl}/short/model/model.json`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/shards of group5-shard1of1 hold \d+ bytes, the manifest says \d+/);
    expect(result.stderr).toMatch(/Nothing was written/);
    expect(result.stderr).toMatch(/ATELIER_VGG19=/);
    expect(await readdir(parent)).toEqual([]);
  });

  it("refuses a manifest whose shapes are not VGG-19", async () => {
    const dest = join(dir, "shape", "vgg19");
    const result = await runScript(["--dest", dest], `${baseUrl}/bad-shape/model/model.json`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/block1_conv1\/kernel has shape \[3,3,3,32\], expected \[3,3,3,64\]/);
    expect(existsSync(dest)).toBe(false);
  });

  it("explains what to do when the source cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((ok) => closed.close(ok));
    const dest = join(dir, "offline", "vgg19");
    const result = await runScript(["--dest", dest], `http://127.0.0.1:${port}/model.json`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/model\.json: .*ECONNREFUSED/);
    expect(result.stderr).toMatch(/cp -r .* .*vgg19/);
    expect(result.stderr).toMatch(/export ATELIER_VGG19=/);
    expect(result.stderr).toMatch(/ATELIER_VGG19_URL=/);
    expect(existsSync(dest)).toBe(false);
  });
});

describe("weights-manifest", () => {
  it("undoes uint8 / float16 quantisation", () => {
    const q8 = decodeEntry(
      { name: "w", shape: [3], dtype: "float32", quantization: { dtype: "uint8", scale: 0.5, min: -1 } },
      new Uint8Array([0, 2, 255]),
    );
    expect(Array.from(q8)).toEqual([-1, 0, 126.5]);
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555]).buffer);
    const f16 = decodeEntry({ name: "h", shape: [3], dtype: "float32", quantization: { dtype: "float16" } }, half);
    expect(f16[0]).toBe(1);
    expect(f16[1]).toBe(-2);
    expect(f16[2]).toBeCloseTo(1 / 3, 3);
  });

  it("extracts a layer from a group that holds several layers", () => {
    const groups = parseWeightsManifest({
      weightsManifest: [
        {
          paths: ["a"],
          weights: [
            { name: "other/w", shape: [2], dtype: "float32" },
            { name: "x/kernel", shape: [1], dtype: "float32" },
            { name: "x/bias", shape: [1], dtype: "float32" },
          ],
        },
      ],
    });
    const bytes = new Uint8Array(new Float32Array([9, 9, 1.5, -2]).buffer);
    expect(Array.from(new Float32Array(layerFileBytes("x", groups[0]!, bytes).buffer))).toEqual([1.5, -2]);
    expect(() => layerFileBytes("x", groups[0]!, bytes.subarray(0, 12))).toThrow(/12 bytes, the manifest says 16/);
    expect(() => parseWeightsManifest({ nope: 1 })).toThrow(/no weightsManifest/);
  });
});
