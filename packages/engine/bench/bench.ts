/**
 * `npm run bench`: speed and memory of the Gatys optimisation on the active backend.
 *
 * For each size (longest side 128/256/512 px, tubingen × starry_night, VGG-19 through conv5_1)
 * and each optimiser, a fresh child process runs a few iterations: the first `warmup` are
 * dropped (kernel compilation, allocation), the median of the rest is reported. FLOPs per
 * iteration are counted analytically (conv forward + conv input-gradient + Gram and its
 * gradient), so GFLOP/s says how well the backend uses the CPU. Peak RSS is the child's
 * high-water mark (process.resourceUsage().maxRSS); tf.memory() is sampled every iteration.
 *
 *   npm run bench [-- --sizes 128,256 --optimizers lbfgs --warmup 2 --measure 5]
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS } from "@atelier/protocol";
import { decodeImage } from "../src/image.ts";
import { VGG19_CONVS } from "../src/weights-manifest.ts";

const IMAGES = process.env.ATELIER_IMAGES ?? resolve(import.meta.dirname, "../../../../shared/images");
const CONTENT = resolve(IMAGES, "tubingen.jpg");
/** ATELIER_VGG19, else <repo>/models/vgg19 (npm run weights), else <repo>/../shared/models/vgg19. */
const WEIGHTS =
  process.env.ATELIER_VGG19 ??
  [
    resolve(import.meta.dirname, "../../../models/vgg19"),
    resolve(import.meta.dirname, "../../../../shared/models/vgg19"),
  ].find((dir) => existsSync(resolve(dir, "model.json")));
const STYLE = resolve(IMAGES, "starry_night.jpg");

/** Targets on the reference machine (2 cores, wasm). */
const SECONDS_PER_ITERATION_TARGET: Record<number, number> = { 128: 1.5, 256: 5 };
const PEAK_RSS_TARGET_BYTES: Record<number, number> = { 512: 2 * 1024 ** 3 };

/** VGG-19 convs up to conv5_1 (the deepest layer the default style/content losses read). */
const CONVS = VGG19_CONVS.slice(0, 13);

/**
 * FLOPs (multiply + add = 2) of one loss-and-gradient evaluation at width × height.
 * Each 3×3 'same' conv costs 2·H·W·9·Cin·Cout forward and the same again for its input
 * gradient (weights are frozen: no weight gradient). Each style layer's Gram G = FᵀF over
 * N = H·W positions costs 2·C²·N, and its gradient (G' + G'ᵀ)·F another 2·C²·N.
 * ReLU, pooling and the elementwise loss terms are O(H·W·C) and left out.
 */
export function flopsPerIteration(
  width: number,
  height: number,
  styleLayers: readonly string[] = DEFAULT_STYLE_LAYERS,
): number {
  let flops = 0;
  for (const conv of CONVS) {
    // 2×2 stride-2 pooling before blocks 2–5 (floor, as in VGG's 'valid' pooling)
    const h = Math.floor(height / 2 ** (conv.block - 1));
    const w = Math.floor(width / 2 ** (conv.block - 1));
    const convFlops = 2 * h * w * 9 * conv.inChannels * conv.outChannels;
    flops += 2 * convFlops;
    if (styleLayers.includes(conv.name.replace("conv", "relu"))) {
      flops += 2 * (2 * conv.outChannels * conv.outChannels * h * w);
    }
  }
  return flops;
}

interface ChildResult {
  size: number;
  optimizer: "lbfgs" | "adam";
  width: number;
  height: number;
  backend: string;
  iterationMs: number[];
  /** process CPU time (all threads) per iteration, ms: with a busy machine wall time overstates cost */
  iterationCpuMs: number[];
  maxRssBytes: number;
  tfPeakBytes: number;
  tfTensorsFirst: number;
  tfTensorsLast: number;
}

const RESULT_MARKER = "BENCH_RESULT ";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs inside the child: one size, one optimiser. */
async function child(size: number, optimizer: "lbfgs" | "adam", iterations: number): Promise<void> {
  const tf = await import("@tensorflow/tfjs-core");
  const { stylize } = await import("../src/index.ts");
  const [content, style] = await Promise.all([decodeImage(CONTENT), decodeImage(STYLE)]);
  const handle = stylize({
    content,
    styles: [{ image: style, weight: 1 }],
    size,
    iterations,
    optimizer,
    init: "noise",
    seed: 0,
    contentLayers: DEFAULT_CONTENT_LAYERS,
    styleLayers: DEFAULT_STYLE_LAYERS,
  });
  const iterationMs: number[] = [];
  const iterationCpuMs: number[] = [];
  let cpuBefore = process.cpuUsage();
  let width = 0;
  let height = 0;
  let tfPeakBytes = 0;
  let tfTensorsFirst = -1;
  let tfTensorsLast = 0;
  for await (const event of handle) {
    iterationMs.push(event.ms);
    const cpu = process.cpuUsage(cpuBefore);
    iterationCpuMs.push((cpu.user + cpu.system) / 1000);
    cpuBefore = process.cpuUsage();
    width = event.width;
    height = event.height;
    const memory = tf.memory();
    tfPeakBytes = Math.max(tfPeakBytes, memory.numBytes);
    if (tfTensorsFirst < 0) tfTensorsFirst = memory.numTensors;
    tfTensorsLast = memory.numTensors;
  }
  await handle.result;
  const result: ChildResult = {
    size,
    optimizer,
    width,
    height,
    backend: handle.info.backend,
    iterationMs,
    iterationCpuMs,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    tfPeakBytes,
    tfTensorsFirst,
    tfTensorsLast,
  };
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

function runChild(size: number, optimizer: string, iterations: number): Promise<ChildResult> {
  return new Promise((ok, fail) => {
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", import.meta.filename, "--child", `${size}:${optimizer}:${iterations}`],
      {
        cwd: resolve(import.meta.dirname, ".."),
        stdio: ["ignore", "pipe", "inherit"],
        env: WEIGHTS ? { ...process.env, ATELIER_VGG19: WEIGHTS } : process.env,
      },
    );
    let stdout = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d));
    proc.on("error", fail);
    proc.on("close", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) return fail(new Error(`bench child ${size}px ${optimizer} exited with ${code}`));
      ok(JSON.parse(line.slice(RESULT_MARKER.length)) as ChildResult);
    });
  });
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: "string" },
      sizes: { type: "string", default: "128,256,512" },
      optimizers: { type: "string", default: "lbfgs,adam" },
      warmup: { type: "string", default: "2" },
      measure: { type: "string", default: "5" },
    },
    strict: true,
  });
  if (values.child) {
    const [size, optimizer, iterations] = values.child.split(":");
    try {
      await child(Number(size), optimizer as "lbfgs" | "adam", Number(iterations));
    } catch (error) {
      // one line: emscripten's rethrowing handlers would otherwise print the whole wasm glue
      process.stderr.write(`bench: ${size}px ${optimizer}: ${(error as Error).message}\n`);
      process.exit(1);
    }
    process.exit(0); // wasm worker threads would otherwise keep the child alive
  }

  const sizes = values.sizes.split(",").map(Number);
  const optimizers = values.optimizers.split(",");
  const warmup = Number(values.warmup);
  const measure = Number(values.measure);

  const loadStart = os.loadavg()[0]!.toFixed(1);
  const rows: string[][] = [];
  let backend = "?";
  for (const size of sizes) {
    for (const optimizer of optimizers) {
      if (!["lbfgs", "adam"].includes(optimizer) || !Number.isInteger(size) || size < 16) {
        throw new Error(`bad --sizes/--optimizers entry: ${size} ${optimizer}`);
      }
      process.stderr.write(`bench: ${size}px ${optimizer} (${warmup} warm-up + ${measure} measured iterations)…\n`);
      const r = await runChild(size, optimizer, warmup + measure);
      backend = r.backend;
      const measured = r.iterationMs.slice(warmup);
      const seconds = median(measured) / 1000;
      const cpuSeconds = median(r.iterationCpuMs.slice(warmup)) / 1000;
      const gflop = flopsPerIteration(r.width, r.height) / 1e9;
      const sTarget = SECONDS_PER_ITERATION_TARGET[size];
      const rssTarget = PEAK_RSS_TARGET_BYTES[size];
      rows.push([
        `${r.width}×${r.height}`,
        optimizer,
        seconds.toFixed(2),
        sTarget ? `≤ ${sTarget}` : "—",
        sTarget ? (seconds / sTarget).toFixed(2) : "—",
        gflop.toFixed(1),
        (gflop / seconds).toFixed(1),
        cpuSeconds.toFixed(2),
        (r.maxRssBytes / MB).toFixed(0),
        rssTarget ? `≤ ${rssTarget / MB}` : "—",
        rssTarget ? (r.maxRssBytes / rssTarget).toFixed(2) : "—",
        (r.tfPeakBytes / MB).toFixed(0),
        `${r.tfTensorsFirst}→${r.tfTensorsLast}`,
      ]);
    }
  }
  const header = [
    "size",
    "optimizer",
    "s/iter",
    "target",
    "ratio",
    "GFLOP/iter",
    "GFLOP/s",
    "CPU s/iter",
    "peak RSS MB",
    "target",
    "ratio",
    "tf MB",
    "tensors",
  ];
  process.stdout.write(
    `Backend ${backend}; VGG-19 to conv5_1; tubingen × starry_night; median of ${measure} iterations after ${warmup} warm-up; ` +
      `each row in a fresh process. CPU s/iter counts all threads (≈ 2 × s/iter when both cores are ours).\n` +
      `Load average at start/end: ${loadStart} / ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores.\n\n${table(header, rows)}\n`,
  );
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: error: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
