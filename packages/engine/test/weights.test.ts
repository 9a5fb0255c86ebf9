import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { EngineError } from "../src/errors.ts";
import { VGG_LAYER_NAMES, VggFeatures, convsNeeded, layerIndex } from "../src/vgg.ts";
import { defaultWeightsSource, findRepoRoot, loadVggWeights } from "../src/weights.ts";

const WEIGHTS = process.env.ATELIER_VGG19!;
const temps: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "atelier-weights-"));
  temps.push(dir);
  return dir;
}

beforeAll(async () => {
  await initTfjsBackend();
});

afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

async function expectEngineError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).code).toBe(code);
  expect((error as Error).message).toMatch(message);
}

describe("loadVggWeights from a folder", () => {
  it("loads the first N conv layers with VGG-19's shapes and a stable hash", async () => {
    const w = await loadVggWeights(5, WEIGHTS);
    expect(w.convs.map((c) => c.name)).toEqual(["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"]);
    expect(w.convs[0]!.kernel.shape).toEqual([3, 3, 3, 64]);
    expect(w.convs[4]!.kernel.shape).toEqual([3, 3, 128, 256]);
    expect(w.convs[4]!.bias.shape).toEqual([256]);
    expect(w.modelHash).toMatch(/^[0-9a-f]{16}$/);
    const again = await loadVggWeights(5, WEIGHTS);
    expect(again.modelHash).toBe(w.modelHash);
    expect(again.convs[0]!.kernel).toBe(w.convs[0]!.kernel); // cached per process
    const deeper = await loadVggWeights(6, WEIGHTS);
    expect(deeper.modelHash).not.toBe(w.modelHash);
  });

  it("holds the bytes of the .bin files (kernel then bias, little-endian float32)", async () => {
    const w = await loadVggWeights(1, WEIGHTS);
    const bytes = await readFile(join(WEIGHTS, "block1_conv1.bin"));
    const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(Array.from(w.convs[0]!.kernel.dataSync().slice(0, 20))).toEqual(Array.from(floats.slice(0, 20)));
    expect(Array.from(w.convs[0]!.bias.dataSync())).toEqual(Array.from(floats.slice(3 * 3 * 3 * 64)));
  });

  it("says where it looked and what to do when the folder is missing", async () => {
    await expectEngineError(
      loadVggWeights(2, "/nonexistent/vgg19"),
      "weights_not_found",
      /VGG-19 weights not found at \/nonexistent\/vgg19.*set ATELIER_VGG19 or run `npm run weights`/,
    );
    const empty = await tempDir();
    await expectEngineError(loadVggWeights(2, empty), "weights_not_found", /no model\.json/);
  });

  it("rejects a truncated .bin, a missing layer and a wrong shape", async () => {
    const manifest = JSON.parse(await readFile(join(WEIGHTS, "model.json"), "utf8")) as {
      weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[];
    };

    const truncated = await tempDir();
    await writeFile(join(truncated, "model.json"), JSON.stringify(manifest));
    const bin = await readFile(join(WEIGHTS, "block1_conv1.bin"));
    await writeFile(join(truncated, "block1_conv1.bin"), bin.subarray(0, bin.length - 4));
    await expectEngineError(
      loadVggWeights(1, truncated),
      "weights_invalid",
      /block1_conv1\.bin holds 7164 bytes, the manifest says 7168/,
    );

    const missing = await tempDir();
    await writeFile(
      join(missing, "model.json"),
      JSON.stringify({ weightsManifest: manifest.weightsManifest.slice(1) }),
    );
    await expectEngineError(loadVggWeights(1, missing), "weights_invalid", /no weight named block1_conv1\/kernel/);

    const wrongShape = await tempDir();
    const bad = structuredClone(manifest);
    bad.weightsManifest[0]!.weights[0]!.shape = [3, 3, 64, 3];
    await writeFile(join(wrongShape, "model.json"), JSON.stringify(bad));
    await copyFile(join(WEIGHTS, "block1_conv1.bin"), join(wrongShape, "block1_conv1.bin"));
    await expectEngineError(
      loadVggWeights(1, wrongShape),
      "weights_invalid",
      /has shape \[3, 3, 64, 3\], VGG-19 needs \[3, 3, 3, 64\]/,
    );

    const notJson = await tempDir();
    await writeFile(join(notJson, "model.json"), "{ nope");
    await expectEngineError(loadVggWeights(1, notJson), "weights_invalid", /not JSON/);
  });

  it("defaults to ATELIER_VGG19, else <repo>/models/vgg19", () => {
    const saved = process.env.ATELIER_VGG19;
    try {
      expect(defaultWeightsSource()).toBe(saved);
      delete process.env.ATELIER_VGG19;
      const root = findRepoRoot()!;
      expect(defaultWeightsSource()).toBe(join(root, "models", "vgg19"));
      expect(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).workspaces).toBeTruthy();
    } finally {
      process.env.ATELIER_VGG19 = saved;
    }
  });
});

describe("loadVggWeights from a URL", () => {
  let server: Server;
  let base = "";
  const requested: string[] = [];

  beforeAll(async () => {
    // A conversion like DavidCai1993/vgg19-tensorflowjs-model: prefixed names, conv groups next
    // to fully connected ones (whose shards do not exist here: fetching one would 404).
    const local = JSON.parse(await readFile(join(WEIGHTS, "model.json"), "utf8")) as {
      weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
    };
    const remote = {
      format: "layers-model",
      weightsManifest: [
        ...local.weightsManifest.map((g, i) => ({
          paths: [`group${i + 1}-shard1of1.bin`],
          weights: g.weights.map((w) => ({ ...w, name: `vgg19/${w.name}` })),
        })),
        { paths: ["group17-shard1of1.bin"], weights: [{ name: "fc1/kernel", shape: [25088, 4096], dtype: "float32" }] },
      ],
    };
    server = createServer((req, res) => {
      const url = req.url ?? "";
      requested.push(url);
      const shard = /^\/model\/group(\d+)-shard1of1\.bin$/.exec(url);
      if (url === "/model/model.json") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(remote));
      } else if (shard && Number(shard[1]) <= 16) {
        const file = local.weightsManifest[Number(shard[1]) - 1]!.paths[0]!;
        void readFile(join(WEIGHTS, file)).then((bytes) => res.end(bytes));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("fetches only the conv groups it needs, matching names by suffix", async () => {
    const fromUrl = await loadVggWeights(3, `${base}/model/model.json`);
    const fromFolder = await loadVggWeights(3, WEIGHTS);
    expect(fromUrl.modelHash).toBe(fromFolder.modelHash);
    expect(Array.from(fromUrl.convs[2]!.kernel.dataSync().slice(0, 8))).toEqual(
      Array.from(fromFolder.convs[2]!.kernel.dataSync().slice(0, 8)),
    );
    expect(requested.sort()).toEqual([
      "/model/group1-shard1of1.bin",
      "/model/group2-shard1of1.bin",
      "/model/group3-shard1of1.bin",
      "/model/model.json",
    ]);
  });

  it("reports an unreachable URL as weights_not_found", async () => {
    await expectEngineError(loadVggWeights(1, `${base}/missing/model.json`), "weights_not_found", /HTTP 404/);
  });
});

describe("VGG-19 features", () => {
  it("maps layer names and rejects unknown ones", () => {
    expect(VGG_LAYER_NAMES).toHaveLength(16);
    expect(layerIndex("relu4_2")).toBe(9);
    expect(convsNeeded(["relu1_1", "relu5_1", "relu4_2"])).toBe(13);
    expect(() => layerIndex("relu6_1")).toThrow(EngineError);
    expect(() => layerIndex("conv4_2")).toThrow(/unknown VGG-19 layer "conv4_2"/);
  });

  it("returns the requested activations with the right shapes, pooling between blocks", async () => {
    const net = new VggFeatures(await loadVggWeights(13, WEIGHTS), { pooling: "max", gradient: "flipped" });
    tf.tidy(() => {
      const img = tf.randomUniform<tf.Rank.R4>([1, 48, 64, 3], 0, 255, "float32", 7);
      const f = net.extract(img, ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]);
      expect(f.relu1_1!.shape).toEqual([1, 48, 64, 64]);
      expect(f.relu2_1!.shape).toEqual([1, 24, 32, 128]);
      expect(f.relu3_1!.shape).toEqual([1, 12, 16, 256]);
      expect(f.relu4_2!.shape).toEqual([1, 6, 8, 512]);
      expect(f.relu5_1!.shape).toEqual([1, 3, 4, 512]);
      expect(tf.min(f.relu3_1!).dataSync()[0]).toBe(0);
      expect(tf.max(f.relu4_2!).dataSync()[0]).toBeGreaterThan(0);
    });
    net.dispose();
  });

  it("features() gives extract()'s values and keeps nothing else alive", async () => {
    const net = new VggFeatures(await loadVggWeights(13, WEIGHTS), { pooling: "max", gradient: "flipped" });
    const img = tf.randomUniform<tf.Rank.R4>([1, 40, 48, 3], 0, 255, "float32", 10);
    const layers = ["relu1_1", "relu3_1", "relu4_2", "relu5_1"];
    const before = tf.memory().numTensors;
    const lean = net.features(img, layers);
    expect(tf.memory().numTensors).toBe(before + layers.length);
    tf.tidy(() => {
      const full = net.extract(img, layers);
      for (const l of layers) expect(tf.max(tf.abs(tf.sub(lean[l]!, full[l]!))).dataSync()[0]).toBe(0);
    });
    tf.dispose(Object.values(lean));
    expect(tf.memory().numTensors).toBe(before);
    img.dispose();
    net.dispose();
  });

  it("average pooling gives different deep features than max pooling", async () => {
    const weights = await loadVggWeights(5, WEIGHTS);
    const maxNet = new VggFeatures(weights, { pooling: "max", gradient: "flipped" });
    const avgNet = new VggFeatures(weights, { pooling: "avg", gradient: "flipped" });
    tf.tidy(() => {
      const img = tf.randomUniform<tf.Rank.R4>([1, 32, 32, 3], 0, 255, "float32", 8);
      const a = maxNet.extract(img, ["relu1_1", "relu3_1"]);
      const b = avgNet.extract(img, ["relu1_1", "relu3_1"]);
      expect(tf.max(tf.abs(tf.sub(a.relu1_1!, b.relu1_1!))).dataSync()[0]).toBe(0);
      expect(tf.max(tf.abs(tf.sub(a.relu3_1!, b.relu3_1!))).dataSync()[0]).toBeGreaterThan(1);
    });
    maxNet.dispose();
    avgNet.dispose();
  });

  it("refuses a layer deeper than the weights loaded", async () => {
    const net = new VggFeatures(await loadVggWeights(2, WEIGHTS), { pooling: "max", gradient: "flipped" });
    tf.tidy(() => {
      const img = tf.zeros<tf.Rank.R4>([1, 16, 16, 3]);
      expect(Object.keys(net.extract(img, ["relu1_2"]))).toEqual(["relu1_2"]);
      expect(() => net.extract(img, ["relu2_1"])).toThrow(/relu2_1 needs weights that were not loaded/);
    });
    net.dispose();
  });

  it("the flipped-kernel gradient through the real network equals tfjs autodiff", async () => {
    const weights = await loadVggWeights(5, WEIGHTS);
    const fast = new VggFeatures(weights, { pooling: "max", gradient: "flipped" });
    const reference = new VggFeatures(weights, { pooling: "max", gradient: "autodiff" });
    tf.tidy(() => {
      const img = tf.randomUniform<tf.Rank.R4>([1, 24, 20, 3], 0, 255, "float32", 9);
      const loss = (net: VggFeatures) => (x: tf.Tensor) => {
        const f = net.extract(x as tf.Tensor4D, ["relu2_1", "relu3_1"]);
        return tf.add<tf.Scalar>(tf.mean(tf.square(f.relu2_1!)), tf.mean(tf.square(f.relu3_1!)));
      };
      const a = tf.grad(loss(fast))(img);
      const b = tf.grad(loss(reference))(img);
      const scale = tf.max(tf.abs(b)).dataSync()[0]!;
      expect(scale).toBeGreaterThan(0);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / scale).toBeLessThan(1e-3);
    });
    fast.dispose();
    reference.dispose();
  });
});
