/**
 * `npm run weights`: fetches the 16 VGG-19 conv layers (~80 MB, not the ~470 MB of fully
 * connected layers) from a public TensorFlow.js conversion of the Keras model and writes them
 * to <repo>/models/vgg19/ in the layout the engine reads (see src/weights-manifest.ts).
 *
 * Everything is staged in a temporary folder beside the destination and moved into place only
 * when every layer has been downloaded and checked, so an interrupted or failed download never
 * leaves a half-filled weights folder.
 *
 *   npm run weights [-- --dest <folder>] [-- --force]
 *   ATELIER_VGG19_URL=<model.json URL> overrides the source.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  ManifestError,
  VGG19_CONV_BYTES,
  VGG19_CONV_LAYERS,
  groupByteLength,
  layerByteLength,
  layerFileBytes,
  localManifest,
  locateConvLayers,
  parseWeightsManifest,
  type WeightsGroup,
} from "../src/weights-manifest.ts";

export const DEFAULT_SOURCE_URL =
  "https://raw.githubusercontent.com/DavidCai1993/vgg19-tensorflowjs-model/master/model/model.json";

const REPO_ROOT = resolve(import.meta.dirname, "../../..");
const DEFAULT_DEST = join(REPO_ROOT, "models", "vgg19");
/** Nobody's model.json is this big; refuse rather than buffer an endless response. */
const MAX_MANIFEST_BYTES = 10 * 1024 * 1024;
/** Give up on a connection that stays silent this long. */
const IDLE_TIMEOUT_MS = 30_000;
const SHARD_ATTEMPTS = 3;

/** A failure with a message meant for the person running the script. */
class DownloadError extends Error {
  override name = "DownloadError";
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const name = (error as Error).name;
  if (name === "TimeoutError" || name === "AbortError") return `no answer for ${IDLE_TIMEOUT_MS / 1000} s`;
  const detail = cause?.message ?? cause?.code ?? (error as Error).message;
  const offline = cause?.code === "ENOTFOUND" || cause?.code === "EAI_AGAIN" || cause?.code === "ENETUNREACH";
  return offline ? `${detail} (no internet connection?)` : detail;
}

/**
 * GETs a URL into memory, at most `expectedBytes` (or maxBytes) bytes; aborts when the stream
 * stalls. `onBytes` reports progress.
 */
async function fetchBytes(
  url: string,
  limits: { expectedBytes?: number; maxBytes: number },
  onBytes: (n: number) => void = () => {},
): Promise<Uint8Array> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), IDLE_TIMEOUT_MS);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), IDLE_TIMEOUT_MS);
  };
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: "follow" });
    } catch (error) {
      throw new DownloadError(`cannot reach ${url}: ${describeFetchError(error)}`);
    }
    if (!response.ok || !response.body)
      throw new DownloadError(`${url} answered HTTP ${response.status} ${response.statusText}`.trim());
    const limit = limits.expectedBytes ?? limits.maxBytes;
    const chunks: Uint8Array[] = [];
    let received = 0;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        touch();
        received += value.byteLength;
        if (received > limit) {
          throw new DownloadError(`${url} sent more than the expected ${limit} bytes`);
        }
        chunks.push(value);
        onBytes(value.byteLength);
      }
    } catch (error) {
      if (error instanceof DownloadError) throw error;
      throw new DownloadError(`download of ${url} broke off: ${describeFetchError(error)}`);
    } finally {
      reader.releaseLock();
    }
    if (limits.expectedBytes !== undefined && received !== limits.expectedBytes) {
      throw new DownloadError(`${url} sent ${received} bytes, the manifest says ${limits.expectedBytes}`);
    }
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
  }
}

/** How big each shard of a group is: tfjs shards are 4 MB except the last, but we only trust the total. */
async function fetchGroup(baseUrl: string, group: WeightsGroup, onBytes: (n: number) => void): Promise<Uint8Array> {
  const total = groupByteLength(group);
  const parts: Uint8Array[] = [];
  let fetched = 0;
  for (const path of group.paths) {
    const url = new URL(path, baseUrl).href;
    let attempt = 0;
    for (;;) {
      attempt += 1;
      let counted = 0;
      try {
        const bytes = await fetchBytes(url, { maxBytes: total - fetched }, (n) => {
          counted += n;
          onBytes(n);
        });
        parts.push(bytes);
        fetched += bytes.byteLength;
        break;
      } catch (error) {
        onBytes(-counted); // the progress bar goes back for a retry
        if (
          attempt >= SHARD_ATTEMPTS ||
          !(error instanceof DownloadError) ||
          /HTTP 4\d\d|more than/.test(error.message)
        )
          throw error;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }
  if (fetched !== total)
    throw new DownloadError(`the shards of ${group.paths[0]} hold ${fetched} bytes, the manifest says ${total}`);
  return Buffer.concat(parts);
}

function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** `[#####-----] 12.3/80.1 MB  block3_conv2` redrawn on a terminal, a line per layer otherwise. */
function progressReporter(total: number) {
  const tty = process.stderr.isTTY;
  let done = 0;
  let label = "";
  const draw = () => {
    if (!tty) return;
    const width = 30;
    const filled = Math.round((Math.max(0, done) / total) * width);
    process.stderr.write(
      `\r\x1b[2K[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${formatMB(done)}/${formatMB(total)}  ${label}`,
    );
  };
  return {
    layer(name: string) {
      label = name;
      if (!tty) process.stderr.write(`weights: ${name} (${formatMB(done)}/${formatMB(total)})\n`);
      draw();
    },
    bytes(n: number) {
      done += n;
      draw();
    },
    end() {
      if (tty) process.stderr.write("\r\x1b[2K");
    },
  };
}

/** True when `dir` already holds a complete set: our model.json and 16 files of the right size. */
async function isComplete(dir: string): Promise<boolean> {
  try {
    const groups = parseWeightsManifest(JSON.parse(await readFile(join(dir, "model.json"), "utf8")));
    locateConvLayers(groups);
    for (const layer of VGG19_CONV_LAYERS) {
      const info = await stat(join(dir, `${layer.name}.bin`));
      if (info.size !== layerByteLength(layer)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

export async function downloadWeights(options: {
  sourceUrl: string;
  dest: string;
  force?: boolean;
}): Promise<"downloaded" | "present"> {
  const dest = resolve(options.dest);
  if (!options.force && (await isComplete(dest))) return "present";

  const manifestBytes = await fetchBytes(options.sourceUrl, { maxBytes: MAX_MANIFEST_BYTES });
  let groups: WeightsGroup[];
  try {
    groups = parseWeightsManifest(JSON.parse(Buffer.from(manifestBytes).toString("utf8")));
  } catch (error) {
    if (error instanceof SyntaxError) throw new ManifestError(`${options.sourceUrl} is not JSON`);
    throw error;
  }
  const { sources, groupIndices } = locateConvLayers(groups);
  const total = groupIndices.reduce((sum, g) => sum + groupByteLength(groups[g]!), 0);

  await mkdir(dirname(dest), { recursive: true });
  const staging = join(dirname(dest), `.${basename(dest)}.download-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  const progress = progressReporter(total);
  try {
    const groupBytes = new Map<number, Uint8Array>();
    for (const { layer, groupIndex } of sources) {
      progress.layer(layer.name);
      let bytes = groupBytes.get(groupIndex);
      if (!bytes) {
        bytes = await fetchGroup(options.sourceUrl, groups[groupIndex]!, (n) => progress.bytes(n));
        groupBytes.clear(); // groups come in layer order; keep only the current one in memory
        groupBytes.set(groupIndex, bytes);
      }
      const file = layerFileBytes(layer.name, groups[groupIndex]!, bytes);
      if (file.byteLength !== layerByteLength(layer))
        throw new ManifestError(`${layer.name}: wrong size after conversion`);
      await writeFile(join(staging, `${layer.name}.bin`), file);
    }
    const manifest = localManifest(`npm run weights from ${options.sourceUrl} (conv groups only)`);
    await writeFile(join(staging, "model.json"), JSON.stringify(manifest, null, 1) + "\n");
    progress.end();

    // Swap the finished folder in: rename is atomic, the old copy goes only after.
    const old = join(dirname(dest), `.${basename(dest)}.old-${process.pid}`);
    const hadOld = await stat(dest).then(
      () => true,
      () => false,
    );
    if (hadOld) await rename(dest, old);
    await rename(staging, dest);
    if (hadOld) await rm(old, { recursive: true, force: true });
    return "downloaded";
  } catch (error) {
    progress.end();
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

function advice(dest: string): string {
  const shared = resolve(REPO_ROOT, "../shared/models/vgg19");
  return [
    "Without a download, use weights you already have (a folder with model.json and the 16 blockN_convM.bin files):",
    `  - copy it into place:  mkdir -p ${dirname(dest)} && cp -r ${existsSync(shared) ? shared : "/path/to/vgg19"} ${dest}`,
    "  - or point the engine at it:  export ATELIER_VGG19=/path/to/vgg19",
    "Or download from a mirror of the conversion:  ATELIER_VGG19_URL=<url of its model.json> npm run weights",
  ].join("\n");
}

function parseCli(): { dest?: string; force?: boolean; help?: boolean } {
  return parseArgs({
    options: { dest: { type: "string" }, force: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    strict: true,
  }).values;
}

async function main(): Promise<number> {
  let values: ReturnType<typeof parseCli>;
  try {
    values = parseCli();
  } catch (error) {
    process.stderr.write(`weights: error: ${(error as Error).message.split("\n")[0]}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(
      "Usage: npm run weights [-- --dest <folder>] [-- --force]\nEnv: ATELIER_VGG19_URL=<model.json URL>\n",
    );
    return 0;
  }
  const sourceUrl = process.env.ATELIER_VGG19_URL?.trim() || DEFAULT_SOURCE_URL;
  const dest = resolve(values.dest ?? DEFAULT_DEST);
  try {
    new URL(sourceUrl);
  } catch {
    process.stderr.write(`weights: error: ATELIER_VGG19_URL is not a URL: ${sourceUrl}\n`);
    return 2;
  }
  const started = performance.now();
  try {
    const outcome = await downloadWeights({ sourceUrl, dest, force: values.force });
    if (outcome === "present") {
      process.stdout.write(`weights: ${dest} already holds the VGG-19 conv weights (use --force to download again)\n`);
    } else {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(`weights: wrote 16 layers (${formatMB(VGG19_CONV_BYTES)}) to ${dest} in ${seconds} s\n`);
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`weights: error: ${message}\nNothing was written to ${dest}.\n${advice(dest)}\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = await main();
}
