/**
 * `npm run bench`: speed and memory of the Gatys optimisation, per backend.
 *
 * For each backend (ATELIER_BACKEND), size (longest side 128/256/512 px, tubingen ×
 * starry_night, VGG-19 through conv5_1) and optimiser, a fresh child process runs a few
 * iterations: the first `warmup` are dropped (kernel compilation, allocation), the median of
 * the rest is reported. FLOPs per iteration are counted analytically (conv forward + conv
 * input-gradient + Gram and its gradient), so GFLOP/s says how well the backend uses the CPU.
 *
 * The machines are shared and differ, so speed is a ratio measured in the same run: right
 * before each row another fresh child measures the machine's dense float32 matmul (ONNX
 * Runtime MatMul 2048², threads = cores, median of 5 after 2 warm-up), and the row reports
 * engine GFLOP/s ÷ matmul GFLOP/s. Peak RSS is the child's high-water mark
 * (process.resourceUsage().maxRSS); "+ full L-BFGS" adds the history pairs a 100-pair
 * history would hold beyond the ones the short run filled (2 × n float32 per pair, computed).
 * The optimiser's step alone is measured beside the objective, in a child of its own: one
 * L-BFGS step (the two-loop over a full 100-pair history) at the row's size, median of 5, on a
 * convex quadratic (every pair kept) — "step ms" and its share of the row's iteration.
 *
 *   npm run bench [-- --sizes 128,256 --backends onnx,wasm --optimizers lbfgs --warmup 2 --measure 5]
 *
 * `--convs` (issue 24) instead times every conv up to conv5_1 alone at its map size, forward
 * and input gradient, direct and by Winograd F(2×2,3×3) / F(4×4,3×3) (onnx-winograd.ts),
 * interleaved, with the effective ratio direct-conv FLOPs ÷ time ÷ matmul GFLOP/s, then the
 * whole objective all-direct vs the per-layer plan (WINOGRAD_PLAN), evaluations interleaved;
 * `--objective-only` runs just that comparison.
 *
 *   npm run bench -- --convs --sizes 512 [--rounds 5] [--objective-only]
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS } from "@atelier/protocol";
import { decodeImage } from "../src/image.ts";
import { BACKEND_NAMES, type BackendName } from "../src/backend.ts";
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

/** Targets on the reference machine (2 cores): engine ÷ matmul throughput, and peak RSS with a full L-BFGS history. */
const MATMUL_RATIO_TARGET: Record<string, Record<number, number>> = { onnx: { 256: 0.7 } };
const PEAK_RSS_TARGET_BYTES: Record<string, Record<number, number>> = {
  onnx: { 512: 1.5 * 1024 ** 3 },
  wasm: { 512: 2 * 1024 ** 3 },
};
/** L-BFGS history pairs (stylize.ts) */
const LBFGS_HISTORY = 100;
const MATMUL_N = 2048;

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
  backendRequested: string;
  size: number;
  optimizer: "lbfgs" | "adam";
  width: number;
  height: number;
  backend: string;
  iterationMs: number[];
  /** total loss per iteration: a run that diverged (NaN, or rising) does not measure real work */
  totals: number[];
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
  const totals: number[] = [];
  const iterationCpuMs: number[] = [];
  let cpuBefore = process.cpuUsage();
  let width = 0;
  let height = 0;
  let tfPeakBytes = 0;
  let tfTensorsFirst = -1;
  let tfTensorsLast = 0;
  for await (const event of handle) {
    iterationMs.push(event.ms);
    totals.push(event.total);
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
    backendRequested: process.env.ATELIER_BACKEND ?? "",
    size,
    optimizer,
    width,
    height,
    backend: handle.info.backend,
    iterationMs,
    totals,
    iterationCpuMs,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    tfPeakBytes,
    tfTensorsFirst,
    tfTensorsLast,
  };
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

/** Runs inside a child: ONNX Runtime MatMul n×n, GFLOP/s (median of 5 after 2 warm-up). */
async function matmulChild(): Promise<void> {
  const { loadOnnxRuntime, createSession } = await import("../src/onnx-runtime.ts");
  const { matmulGraph } = await import("../src/onnx-graph.ts");
  const ort = await loadOnnxRuntime();
  const session = await createSession(ort, matmulGraph(MATMUL_N), "matmul");
  const data = Float32Array.from({ length: MATMUL_N * MATMUL_N }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const a = new ort.Tensor("float32", data, [MATMUL_N, MATMUL_N]);
  const seconds: number[] = [];
  for (let i = 0; i < 7; i++) {
    const started = performance.now();
    const out = await session.run({ a, b: a });
    if (i >= 2) seconds.push((performance.now() - started) / 1000);
    for (const t of Object.values(out)) t.dispose();
  }
  await session.release();
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify({ gflops: (2 * MATMUL_N ** 3) / median(seconds) / 1e9 })}\n`);
}

const CONV_ALGORITHMS = ["direct", "winograd2", "winograd4"] as const;

interface ConvTiming {
  layer: number;
  direction: "forward" | "gradient";
  width: number;
  height: number;
  /** direct-conv FLOPs of this conv (2·H·W·9·Cin·Cout) */
  flops: number;
  /** median seconds per algorithm (CONV_ALGORITHMS order) */
  seconds: number[];
}

/**
 * Runs inside a child: every conv up to conv5_1 at its size in a `width` × `height` image,
 * forward and input gradient, each as a direct Conv and by Winograd F(2×2,3×3) and F(4×4,3×3):
 * one session per variant; the variants of a conv run interleaved, `rounds` times, medians.
 */
async function convsChild(width: number, height: number, rounds: number, objectiveOnly: boolean): Promise<void> {
  const { loadOnnxRuntime, createSession } = await import("../src/onnx-runtime.ts");
  const { layerShape } = await import("../src/onnx-graph.ts");
  const { convGraph } = await import("../src/onnx-conv-graph.ts");
  const { loadVggWeightArrays } = await import("../src/weights.ts");
  const ort = await loadOnnxRuntime();
  const { convs } = await loadVggWeightArrays(CONVS.length);
  const timings: ConvTiming[] = [];
  for (let i = 0; i < (objectiveOnly ? 0 : CONVS.length); i++) {
    const { inChannels, outChannels } = CONVS[i]!;
    const { h, w } = layerShape(i, width, height);
    for (const direction of ["forward", "gradient"] as const) {
      const cin = direction === "forward" ? inChannels : outChannels;
      const x = new ort.Tensor(
        "float32",
        Float32Array.from({ length: cin * h * w }, (_, k) => ((k * 7919) % 1000) / 10),
        [1, cin, h, w],
      );
      const sessions = await Promise.all(
        CONV_ALGORITHMS.map((a) => createSession(ort, convGraph(convs[i]!, i, w, h, direction, a), `conv ${i}`)),
      );
      const seconds: number[][] = CONV_ALGORITHMS.map(() => []);
      for (let r = 0; r < rounds + 1; r++) {
        for (let k = 0; k < sessions.length; k++) {
          const started = performance.now();
          const out = await sessions[k]!.run({ x });
          if (r > 0) seconds[k]!.push((performance.now() - started) / 1000);
          for (const t of Object.values(out)) t.dispose();
        }
      }
      for (const s of sessions) await s.release();
      timings.push({
        layer: i,
        direction,
        width: w,
        height: h,
        flops: 2 * h * w * 9 * inChannels * outChannels,
        seconds: seconds.map(median),
      });
    }
  }
  const objective = await objectiveComparison(width, height, rounds);
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify({ timings, objective })}\n`);
}

interface ObjectiveComparison {
  /** median seconds of one evaluation: every conv direct, then WINOGRAD_PLAN */
  direct: number;
  plan: number;
  /** setup seconds (graphs built, sessions created, targets computed) */
  directSetup: number;
  planSetup: number;
}

/** The whole objective (default layers, tubingen × starry_night) direct vs the Winograd plan, evaluations interleaved. */
async function objectiveComparison(width: number, height: number, rounds: number): Promise<ObjectiveComparison> {
  const { loadOnnxRuntime } = await import("../src/onnx-runtime.ts");
  const { OnnxObjective } = await import("../src/onnx-objective.ts");
  const { OnnxVgg } = await import("../src/onnx-vgg.ts");
  const { winogradPlan } = await import("../src/onnx-winograd.ts");
  const { loadVggWeightArrays } = await import("../src/weights.ts");
  const { toFloatPixels } = await import("../src/color.ts");
  const { resizeImage } = await import("../src/image.ts");
  const ort = await loadOnnxRuntime();
  const { convs } = await loadVggWeightArrays(CONVS.length);
  const at = async (path: string) => ({
    width,
    height,
    pixels: toFloatPixels(await resizeImage(await decodeImage(path), width, height)),
  });
  const content = await at(CONTENT);
  const style = await at(STYLE);
  const build = async (mode: "off" | "auto") => {
    const started = performance.now();
    const net = new OnnxVgg(ort, convs, "max", "flipped", "cpu", winogradPlan(mode));
    const objective = await OnnxObjective.create({
      net,
      content,
      styles: [style],
      contentLayers: DEFAULT_CONTENT_LAYERS,
      styleLayers: DEFAULT_STYLE_LAYERS,
      weights: {
        contentWeight: 5,
        styleWeight: 100,
        tvWeight: 1e-3,
        styleBlendWeights: [1],
        styleLayerWeights: DEFAULT_STYLE_LAYERS.map(() => 1),
      },
    });
    await objective.evaluate(content.pixels); // first run: allocations
    return { net, objective, setup: (performance.now() - started) / 1000 };
  };
  const variants = [await build("off"), await build("auto")];
  const seconds: number[][] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const started = performance.now();
      await variants[k]!.objective.evaluate(content.pixels);
      seconds[k]!.push((performance.now() - started) / 1000);
    }
  }
  for (const v of variants) {
    v.objective.dispose();
    v.net.dispose();
  }
  return {
    direct: median(seconds[0]!),
    plan: median(seconds[1]!),
    directSetup: variants[0]!.setup,
    planSetup: variants[1]!.setup,
  };
}

/**
 * `--convs`: the per-layer table of conv algorithms, then one row per layer group (VGG block) and
 * one for all; effective ratio = direct FLOPs ÷ time ÷ matmul GFLOP/s.
 */
async function convsTable(sizes: number[], rounds: number, objectiveOnly: boolean): Promise<void> {
  const content = await decodeImage(CONTENT);
  const loadStart = os.loadavg()[0]!.toFixed(1);
  const rows: string[][] = [];
  const objectives: string[] = [];
  for (const size of sizes) {
    const scale = size / Math.max(content.width, content.height);
    const width = Math.round(content.width * scale);
    const height = Math.round(content.height * scale);
    process.stderr.write(`bench: convs at ${width}×${height} (matmul, then ${rounds} rounds per conv)…\n`);
    const { gflops: matmul } = await runChild<{ gflops: number }>(["--matmul"], {}, "matmul");
    const { timings, objective } = await runChild<{ timings: ConvTiming[]; objective: ObjectiveComparison }>(
      ["--convs-child", `${width}x${height}:${rounds}:${objectiveOnly ? "objective" : "all"}`],
      {},
      "convs",
    );
    const { gflops: matmulAfter } = await runChild<{ gflops: number }>(["--matmul"], {}, "matmul");
    const yardstick = (matmul + matmulAfter) / 2;
    for (const t of timings) {
      const ratios = t.seconds.map((s) => t.flops / s / 1e9 / yardstick);
      const best = t.seconds.indexOf(Math.min(...t.seconds));
      rows.push([
        `${width}×${height}`,
        CONVS[t.layer]!.name,
        t.direction,
        `${t.width}×${t.height}`,
        (t.flops / 1e9).toFixed(2),
        ...t.seconds.map((s) => (s * 1000).toFixed(1)),
        ...ratios.map((r) => r.toFixed(2)),
        CONV_ALGORITHMS[best]!,
      ]);
    }
    // per layer group (VGG's blocks), forward and gradient together, then all
    const groups = new Map<string, ConvTiming[]>();
    for (const t of timings) {
      const block = `block ${CONVS[t.layer]!.block}`;
      groups.set(block, [...(groups.get(block) ?? []), t]);
    }
    const sumRow = (name: string, members: ConvTiming[], last: string) => {
      const flops = members.reduce((a, t) => a + t.flops, 0);
      const seconds = CONV_ALGORITHMS.map((_, k) => members.reduce((a, t) => a + t.seconds[k]!, 0));
      const fastest = seconds.indexOf(Math.min(...seconds));
      rows.push([
        `${width}×${height}`,
        name,
        "both",
        "",
        (flops / 1e9).toFixed(2),
        ...seconds.map((s) => (s * 1000).toFixed(1)),
        ...seconds.map((s) => (flops / s / 1e9 / yardstick).toFixed(2)),
        last || CONV_ALGORITHMS[fastest]!,
      ]);
    };
    for (const [block, members] of groups) sumRow(block, members, "");
    if (timings.length > 0) sumRow("all", timings, `matmul ${matmul.toFixed(0)} / ${matmulAfter.toFixed(0)}`);
    const gflop = flopsPerIteration(width, height) / 1e9;
    objectives.push(
      `${width}×${height} whole objective (one evaluation, median of ${rounds}, interleaved): all direct ` +
        `${(objective.direct * 1000).toFixed(0)} ms (eff. ratio ${(gflop / objective.direct / yardstick).toFixed(2)}), ` +
        `Winograd plan (WINOGRAD_PLAN) ${(objective.plan * 1000).toFixed(0)} ms (eff. ratio ${(gflop / objective.plan / yardstick).toFixed(2)}): ` +
        `plan ÷ direct ${(objective.plan / objective.direct).toFixed(2)}; setup ${objective.directSetup.toFixed(1)} s vs ${objective.planSetup.toFixed(1)} s`,
    );
  }
  const header = [
    "image",
    "conv",
    "pass",
    "map",
    "direct GFLOP",
    ...CONV_ALGORITHMS.map((a) => `${a} ms`),
    ...CONV_ALGORITHMS.map((a) => `${a} eff. ratio`),
    "fastest",
  ];
  process.stdout.write(
    `Each VGG-19 conv alone (ONNX Runtime, ${os.availableParallelism()} threads), median of ${rounds} interleaved rounds; ` +
      `eff. ratio = direct-conv FLOPs ÷ time ÷ matmul GFLOP/s (the mean of the MatMul ${MATMUL_N}² before and after).\n` +
      `Load average at start/end: ${loadStart} / ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores.\n\n` +
      (rows.length ? `${table(header, rows)}\n\n` : "") +
      `${objectives.join("\n")}\n`,
  );
}

/** Runs inside a child: one L-BFGS step with a full history at width × height, ms (median of 5). */
async function stepChild(width: number, height: number): Promise<void> {
  const { Lbfgs } = await import("../src/optimizers/lbfgs.ts");
  const n = width * height * 3;
  const optimizer = new Lbfgs(n, { history: LBFGS_HISTORY });
  const x = Float32Array.from({ length: n }, (_, i) => ((i * 104729) % 255) - 127);
  const g = new Float32Array(n);
  const curvature = Float32Array.from({ length: n }, (_, i) => 0.5 + ((i * 7919) % 1000) / 1000);
  const evaluate = () => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      g[i] = curvature[i]! * x[i]!;
      loss += 0.5 * g[i]! * x[i]!;
    }
    return loss;
  };
  for (let i = 0; i <= LBFGS_HISTORY; i++) optimizer.step(x, evaluate(), g);
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const loss = evaluate();
    const started = performance.now();
    optimizer.step(x, loss, g);
    ms.push(performance.now() - started);
  }
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify({ ms: median(ms) })}\n`);
}

function runChild<T>(args: string[], env: Record<string, string>, label: string): Promise<T> {
  return new Promise((ok, fail) => {
    const proc = spawn(process.execPath, ["--import", "tsx", import.meta.filename, ...args], {
      cwd: resolve(import.meta.dirname, ".."),
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...(WEIGHTS ? { ATELIER_VGG19: WEIGHTS } : {}), ...env },
    });
    let stdout = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.on("error", fail);
    proc.on("close", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) return fail(new Error(`bench child ${label} exited with ${code}`));
      ok(JSON.parse(line.slice(RESULT_MARKER.length)) as T);
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
      matmul: { type: "boolean", default: false },
      step: { type: "string" },
      convs: { type: "boolean", default: false },
      "convs-child": { type: "string" },
      rounds: { type: "string", default: "5" },
      // with --convs: only the whole objective, direct vs the plan (no per-conv table)
      "objective-only": { type: "boolean", default: false },
      sizes: { type: "string", default: "128,256,512" },
      backends: { type: "string", default: "onnx,wasm" },
      optimizers: { type: "string", default: "lbfgs,adam" },
      warmup: { type: "string", default: "2" },
      measure: { type: "string", default: "5" },
    },
    strict: true,
  });
  if (values["convs-child"]) {
    const [dims, rounds, what] = values["convs-child"].split(":");
    const [width, height] = dims!.split("x").map(Number);
    await convsChild(width!, height!, Number(rounds), what === "objective");
    process.exit(0);
  }
  if (values.convs) {
    await convsTable(values.sizes.split(",").map(Number), Number(values.rounds), values["objective-only"]);
    return;
  }
  if (values.matmul || values.child || values.step) {
    const what = values.child ?? (values.step ? `step ${values.step}` : "matmul");
    try {
      if (values.step) {
        const [width, height] = values.step.split("x").map(Number);
        await stepChild(width!, height!);
      } else if (values.child) {
        const [size, optimizer, iterations] = values.child.split(":");
        await child(Number(size), optimizer as "lbfgs" | "adam", Number(iterations));
      } else {
        await matmulChild();
      }
    } catch (error) {
      // one line: emscripten's rethrowing handlers would otherwise print the whole wasm glue
      process.stderr.write(`bench: ${what}: ${(error as Error).message}\n`);
      process.exit(1);
    }
    process.exit(0); // wasm worker threads would otherwise keep the child alive
  }

  const sizes = values.sizes.split(",").map(Number);
  const backends = values.backends.split(",").map((b) => b.trim());
  const optimizers = values.optimizers.split(",");
  const warmup = Number(values.warmup);
  const measure = Number(values.measure);
  for (const size of sizes) if (!Number.isInteger(size) || size < 16) throw new Error(`bad --sizes entry: ${size}`);
  for (const o of optimizers) if (!["lbfgs", "adam"].includes(o)) throw new Error(`bad --optimizers entry: ${o}`);
  for (const b of backends)
    if (!BACKEND_NAMES.includes(b as BackendName)) throw new Error(`bad --backends entry: ${b}`);

  const loadStart = os.loadavg()[0]!.toFixed(1);
  const rows: string[][] = [];
  const estimates: string[] = [];
  for (const backend of backends) {
    for (const size of sizes) {
      for (const optimizer of optimizers) {
        process.stderr.write(
          `bench: ${backend} ${size}px ${optimizer} (matmul, then ${warmup} warm-up + ${measure} measured iterations)…\n`,
        );
        const { gflops: matmul } = await runChild<{ gflops: number }>(["--matmul"], {}, "matmul");
        const r = await runChild<ChildResult>(
          ["--child", `${size}:${optimizer}:${warmup + measure}`],
          { ATELIER_BACKEND: backend },
          `${backend} ${size}px ${optimizer}`,
        );
        const seconds = median(r.iterationMs.slice(warmup)) / 1000;
        const step =
          optimizer === "lbfgs"
            ? await runChild<{ ms: number }>(["--step", `${r.width}x${r.height}`], {}, `step ${r.width}×${r.height}`)
            : null;
        const cpuSeconds = median(r.iterationCpuMs.slice(warmup)) / 1000;
        const gflop = flopsPerIteration(r.width, r.height) / 1e9;
        const ratio = gflop / seconds / matmul;
        const ratioTarget = MATMUL_RATIO_TARGET[backend]?.[size];
        const n = r.width * r.height * 3;
        const pairsHeld = optimizer === "lbfgs" ? Math.min(LBFGS_HISTORY, r.iterationMs.length - 1) : 0;
        const missingHistory = optimizer === "lbfgs" ? (LBFGS_HISTORY - pairsHeld) * 2 * n * 4 : 0;
        const rssFull = r.maxRssBytes + missingHistory;
        const rssTarget = PEAK_RSS_TARGET_BYTES[backend]?.[size];
        rows.push([
          r.backend,
          `${r.width}×${r.height}`,
          optimizer,
          seconds.toFixed(2),
          cpuSeconds.toFixed(2),
          gflop.toFixed(1),
          (gflop / seconds).toFixed(1),
          matmul.toFixed(1),
          ratio.toFixed(2),
          ratioTarget ? `≥ ${ratioTarget}` : "—",
          (r.maxRssBytes / MB).toFixed(0),
          optimizer === "lbfgs" ? (rssFull / MB).toFixed(0) : "—",
          rssTarget ? `≤ ${(rssTarget / MB).toFixed(0)}` : "—",
          step ? step.ms.toFixed(0) : "—",
          step ? `${((step.ms / 1000 / seconds) * 100).toFixed(1)} %` : "—",
          `${r.tfTensorsFirst}→${r.tfTensorsLast}`,
          `${r.totals[0]!.toExponential(2)}→${r.totals.at(-1)!.toExponential(2)}`,
        ]);
        process.stderr.write(`bench:   ms per iteration ${r.iterationMs.map((ms) => ms.toFixed(0)).join(", ")}\n`);
        if (optimizer === "lbfgs" && size === 512) {
          // jcjohnson's default run: 512 px, 1000 L-BFGS iterations, one evaluation each
          const hours = (seconds * 1000) / 3600;
          estimates.push(
            `${r.backend}: default run (512 px, 1000 L-BFGS iterations) ≈ ${((seconds * 1000) / 60).toFixed(0)} min (${hours.toFixed(2)} h) at ${seconds.toFixed(2)} s/iteration`,
          );
        }
      }
    }
  }
  const header = [
    "backend",
    "size",
    "optimizer",
    "s/iter",
    "CPU s/iter",
    "GFLOP/iter",
    "GFLOP/s",
    "matmul GFLOP/s",
    "ratio",
    "target",
    "peak RSS MB",
    "+ full L-BFGS MB",
    "target",
    "L-BFGS step ms (100 pairs)",
    "step ÷ iteration",
    "tf tensors",
    "total first→last",
  ];
  process.stdout.write(
    `VGG-19 to conv5_1; tubingen × starry_night; median of ${measure} iterations after ${warmup} warm-up; each row in a fresh process, ` +
      `its matmul (ONNX Runtime MatMul ${MATMUL_N}², ${os.availableParallelism()} threads) in another right before it. ` +
      `ratio = engine GFLOP/s ÷ matmul GFLOP/s. CPU s/iter counts all threads.\n` +
      `Load average at start/end: ${loadStart} / ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores.\n\n${table(header, rows)}\n` +
      (estimates.length ? `\n${estimates.join("\n")}\n` : ""),
  );
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: error: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
