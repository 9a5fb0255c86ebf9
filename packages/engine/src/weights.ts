/**
 * Loads the VGG-19 convolution weights from a TensorFlow.js weights manifest.
 *
 * Source: ATELIER_VGG19 — a folder holding model.json + .bin files, or an http(s) URL of a
 * model.json — else <repo>/models/vgg19/ (filled by `npm run weights`). Weights are matched
 * by the suffix `blockN_convM/kernel|bias` so conversions that prefix names (or list fully
 * connected layers next to the convs) work; only the groups holding the layers we need are
 * read or fetched. Shapes and byte counts are checked against VGG-19's architecture.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { EngineError } from "./errors.ts";
import {
  ManifestError,
  VGG19_CONVS,
  decodeEntry,
  entryByteLength,
  parseWeightsManifest,
  type WeightEntry,
  type WeightsGroup,
} from "./weights-manifest.ts";
import { vgg19FromEnv } from "./env.ts";

export { VGG19_CONVS };

export interface ConvWeights {
  /** "conv1_1" … "conv5_4" */
  name: string;
  /** [3, 3, in, out] (HWIO) */
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D;
}

export interface VggWeights {
  /** conv1_1 … up to the deepest layer asked for, in network order */
  convs: ConvWeights[];
  /** sha256 over the per-layer sha256 of each loaded layer's bytes (kernel then bias), 16 hex chars */
  modelHash: string;
  /** where they came from (folder or URL) */
  source: string;
}

const LAYER_NAME = /(?:^|\/)block(\d)_conv(\d)\/(kernel|bias)(?::\d+)?$/;

/** The repository root: the nearest folder above this package whose package.json has workspaces. */
export function findRepoRoot(start = path.dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = start;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        const json = JSON.parse(readFileSync(manifest, "utf8")) as { workspaces?: unknown };
        if (json.workspaces) return dir;
      } catch {
        // not our root; keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** ATELIER_VGG19, else <repo>/models/vgg19. */
export function defaultWeightsSource(): string {
  const fromEnv = vgg19FromEnv();
  if (fromEnv) return fromEnv;
  const root = findRepoRoot();
  return root ? path.join(root, "models", "vgg19") : path.resolve("models", "vgg19");
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

function notFound(source: string, why: string, cause?: unknown): EngineError {
  return new EngineError(
    "weights_not_found",
    `VGG-19 weights not found at ${source} (${why}): set ATELIER_VGG19 or run \`npm run weights\``,
    { cause },
  );
}

function invalid(source: string, why: string, cause?: unknown): EngineError {
  return new EngineError("weights_invalid", `VGG-19 weights at ${source} are invalid: ${why}`, { cause });
}

/** Reads a file (folder source) or fetches a URL relative to the manifest. */
interface Reader {
  manifest(): Promise<unknown>;
  bytes(relPath: string): Promise<Uint8Array>;
}

function folderReader(folder: string): Reader {
  return {
    async manifest() {
      if (!existsSync(folder)) throw notFound(folder, "no such folder");
      if (!statSync(folder).isDirectory()) throw notFound(folder, "not a folder");
      const file = path.join(folder, "model.json");
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        throw notFound(folder, "no model.json in it", error);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw invalid(folder, `model.json is not JSON (${(error as Error).message})`, error);
      }
    },
    async bytes(relPath) {
      const file = path.resolve(folder, relPath);
      if (path.relative(folder, file).startsWith(".."))
        throw invalid(folder, `weight path ${relPath} leaves the folder`);
      try {
        const buffer = await readFile(file);
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (error) {
        throw invalid(
          folder,
          `cannot read ${relPath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
          error,
        );
      }
    },
  };
}

function urlReader(manifestUrl: string): Reader {
  const get = async (url: string): Promise<Response> => {
    let response: Response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw notFound(manifestUrl, `fetching ${url} failed: ${(error as Error).message}`, error);
    }
    if (!response.ok) throw notFound(manifestUrl, `${url} answered HTTP ${response.status}`);
    return response;
  };
  return {
    async manifest() {
      const response = await get(manifestUrl);
      try {
        return await response.json();
      } catch (error) {
        throw invalid(manifestUrl, "model.json is not JSON", error);
      }
    },
    async bytes(relPath) {
      const response = await get(new URL(relPath, manifestUrl).toString());
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

function parseGroups(manifest: unknown, source: string): WeightsGroup[] {
  try {
    return parseWeightsManifest(manifest);
  } catch (error) {
    if (error instanceof ManifestError) throw invalid(source, error.message, error);
    throw error;
  }
}

function specBytes(spec: WeightEntry, source: string): number {
  try {
    return entryByteLength(spec);
  } catch (error) {
    throw invalid(source, (error as Error).message, error);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** Float data of one conv layer as read and validated, before it becomes tensors. */
interface RawConv {
  name: string;
  kernel: Float32Array;
  bias: Float32Array;
  /** sha256 of the exact bytes the manifest held for kernel then bias */
  digest: Buffer;
}

interface CachedConv {
  weights: ConvWeights;
  digest: Buffer;
}

/**
 * Per backend and source: the layers loaded so far, as tensors (never disposed: they are the
 * model) and their digests. The float arrays are not kept: once on the backend they would
 * only double the weights' memory.
 */
const cache = new Map<string, Map<string, CachedConv>>();

/**
 * Loads conv1_1 … the `count`-th conv (1–16). Cached per process and source: a later call
 * for fewer layers costs nothing, for more layers reads only the missing ones.
 *
 * modelHash = sha256 over the per-layer sha256 digests of each used layer's bytes (kernel
 * then bias, as stored), in network order, as 16 hex chars: it identifies exactly the weights
 * a run used, whatever the source's layout.
 */
export async function loadVggWeights(count: number, source = defaultWeightsSource()): Promise<VggWeights> {
  if (!Number.isInteger(count) || count < 1 || count > VGG19_CONVS.length) {
    throw new EngineError("bad_options", `loadVggWeights: layer count must be 1–16, got ${count}`);
  }
  const key = `${tf.getBackend()}|${source}`;
  const wanted = VGG19_CONVS.slice(0, count);
  const layers = cache.get(key) ?? new Map<string, CachedConv>();
  cache.set(key, layers);
  const missing = wanted.filter((c) => {
    const entry = layers.get(c.name);
    return !entry || entry.weights.kernel.isDisposed || entry.weights.bias.isDisposed;
  });
  if (missing.length > 0) {
    for (const raw of await readLayers(
      source,
      missing.map((c) => c.name),
    )) {
      const arch = VGG19_CONVS.find((c) => c.name === raw.name)!;
      layers.set(raw.name, {
        digest: raw.digest,
        weights: {
          name: raw.name,
          kernel: tf.tensor4d(raw.kernel, [3, 3, arch.inChannels, arch.outChannels]),
          bias: tf.tensor1d(raw.bias),
        },
      });
    }
  }
  const hash = createHash("sha256");
  const convs = wanted.map((c) => {
    const entry = layers.get(c.name)!;
    hash.update(entry.digest);
    return entry.weights;
  });
  return { convs, modelHash: hash.digest("hex").slice(0, 16), source };
}

async function readLayers(source: string, names: string[]): Promise<RawConv[]> {
  const reader = isUrl(source)
    ? urlReader(source.endsWith(".json") ? source : source.replace(/\/?$/, "/model.json"))
    : folderReader(source);
  const groups = parseGroups(await reader.manifest(), source);

  // Where each wanted weight lives: group index and byte offset within that group.
  type Located = { group: number; offset: number; spec: WeightEntry };
  const located = new Map<string, Located>();
  groups.forEach((group, g) => {
    let offset = 0;
    for (const spec of group.weights) {
      const bytes = specBytes(spec, source);
      const m = LAYER_NAME.exec(spec.name);
      if (m) {
        const key = `conv${m[1]}_${m[2]}/${m[3]}`;
        if (located.has(key)) throw invalid(source, `${key} appears twice in the manifest`);
        located.set(key, { group: g, offset, spec });
      }
      offset += bytes;
    }
  });

  const neededGroups = new Set<number>();
  for (const name of names) {
    for (const part of ["kernel", "bias"]) {
      const where = located.get(`${name}/${part}`);
      if (!where)
        throw invalid(source, `no weight named block${name.slice(4, 5)}_conv${name.slice(6)}/${part} in the manifest`);
      neededGroups.add(where.group);
    }
  }

  const groupBytes = new Map<number, Uint8Array>();
  await Promise.all(
    [...neededGroups].map(async (g) => {
      const group = groups[g]!;
      const parts = await Promise.all(group.paths.map((p) => reader.bytes(p)));
      const bytes = concat(parts);
      const expected = group.weights.reduce((n, spec) => n + specBytes(spec, source), 0);
      if (bytes.byteLength !== expected) {
        throw invalid(
          source,
          `${group.paths.join(" + ")} holds ${bytes.byteLength} bytes, the manifest says ${expected}`,
        );
      }
      groupBytes.set(g, bytes);
    }),
  );

  return names.map((name): RawConv => {
    const arch = VGG19_CONVS.find((c) => c.name === name)!;
    const decode = (part: "kernel" | "bias", shape: number[]) => {
      const where = located.get(`${name}/${part}`)!;
      if (where.spec.shape.length !== shape.length || where.spec.shape.some((d, i) => d !== shape[i])) {
        throw invalid(
          source,
          `${where.spec.name} has shape [${where.spec.shape.join(", ")}], VGG-19 needs [${shape.join(", ")}]`,
        );
      }
      const group = groupBytes.get(where.group)!;
      const raw = group.subarray(where.offset, where.offset + specBytes(where.spec, source));
      if (where.spec.dtype !== "float32")
        throw invalid(source, `${where.spec.name} is ${where.spec.dtype}, expected float32`);
      return { values: decodeEntry(where.spec, raw), raw };
    };
    const kernel = decode("kernel", [3, 3, arch.inChannels, arch.outChannels]);
    const bias = decode("bias", [arch.outChannels]);
    for (const [part, values] of [
      ["kernel", kernel.values],
      ["bias", bias.values],
    ] as const) {
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i]!)) throw invalid(source, `${name}/${part} holds a non-finite value`);
      }
    }
    return {
      name,
      kernel: kernel.values,
      bias: bias.values,
      digest: createHash("sha256").update(kernel.raw).update(bias.raw).digest(),
    };
  });
}

/** One conv layer's weights as plain arrays (kernel HWIO), for backends outside tfjs. */
export interface RawConvWeights {
  name: string;
  kernel: Float32Array;
  bias: Float32Array;
}

/** Per source: the layers read so far as arrays (the ONNX Runtime backend builds its graphs from these). */
const rawCache = new Map<string, Map<string, RawConv>>();

/**
 * loadVggWeights without tfjs tensors: conv1_1 … the `count`-th conv as arrays, the same
 * modelHash. Cached per process and source like loadVggWeights.
 */
export async function loadVggWeightArrays(
  count: number,
  source = defaultWeightsSource(),
): Promise<{ convs: RawConvWeights[]; modelHash: string; source: string }> {
  if (!Number.isInteger(count) || count < 1 || count > VGG19_CONVS.length) {
    throw new EngineError("bad_options", `loadVggWeightArrays: layer count must be 1–16, got ${count}`);
  }
  const layers = rawCache.get(source) ?? new Map<string, RawConv>();
  rawCache.set(source, layers);
  const wanted = VGG19_CONVS.slice(0, count);
  const missing = wanted.filter((c) => !layers.has(c.name)).map((c) => c.name);
  if (missing.length > 0) for (const raw of await readLayers(source, missing)) layers.set(raw.name, raw);
  const hash = createHash("sha256");
  const convs = wanted.map((c) => {
    const raw = layers.get(c.name)!;
    hash.update(raw.digest);
    return { name: raw.name, kernel: raw.kernel, bias: raw.bias };
  });
  return { convs, modelHash: hash.digest("hex").slice(0, 16), source };
}

/** Frees the cached weights (tests; or to release memory in a long-lived process). */
export function clearWeightCache(): void {
  for (const layers of cache.values()) {
    for (const { weights } of layers.values()) {
      weights.kernel.dispose();
      weights.bias.dispose();
    }
  }
  cache.clear();
  rawCache.clear();
}
