/**
 * `npm run bench:quality`: how good the engine's default runs are, in the score the
 * reference implementation optimises.
 *
 * For tubingen × starry_night, the_scream, shipwreck and seated-nude it runs the engine's
 * default settings (only --size and --iterations are set) coarse to fine — the schedule a
 * room runs by default, the same total iterations over levels up to --size — and scores the 8-bit result with
 * the Gatys loss exactly as jcjohnson/neural-style defines it: content relu4_2 × 5 (plain
 * MSE of the activations), style relu1_1 … relu5_1 × 100 (each the MSE between Gram matrices
 * normalised by C·H·W), no TV in the score — i.e. losses.ts's terms with tvWeight 0, the
 * style image at the output's size (style scale 1). It prints the score, the iterations, the
 * seconds and the ratio to the reference below.
 *
 * Time to quality: the run's image is taken at each level's last iteration and every
 * --score-every iterations at full size (a coarse level's image resized to full size, as the
 * next level starts from it) and all are scored after the run, so scoring costs the run no
 * time; taking the images is subtracted from the wall clock. Per pair: the wall seconds (from
 * stylize() to that iteration, setup included) and iterations at which the score first
 * reaches the reference, the final ratio, the backend and the machine's matmul GFLOP/s
 * (bench.ts's MatMul 2048² in a fresh child right before the pair). --budget <s> stops each
 * pair at that wall time (a live iteration change) and reports the ratio reached.
 *
 * REFERENCE: the score of jcjohnson/neural-style's published 512 px outputs for each pair,
 * scored this way — the figures given in issue 13 (Atelier's tracker). They are only
 * comparable at --size 512; at other sizes the ratio is printed but says little.
 *
 *   npm run bench:quality [-- --size 512 --iterations 200 --styles starry_night,the_scream]  (defaults: the Balanced preset)
 *   npm run bench:quality -- --single-scale --styles the_scream  # the CLI's single-scale default
 *   npm run bench:quality -- --budget 60 --score-every 10            # ratio reached in 60 s per pair
 *
 * Schedules (issue 24): each --schedule is one variant, run for every pair right after the
 * others (interleaved, so they meet the same load): "default" (the default split,
 * splitIterations in @atelier/protocol) or per-level
 * shares of --iterations coarse to fine, e.g. "8:4:2:1:1" (shareIterations), or per-level
 * counts, e.g. "60,40,25,15,40" (--iterations then unused), any of them with "@<stall>" for the
 * stall stop (multiscale.stall: a coarse level ends when its loss falls by less than that per
 * iteration, and its rest goes to the full-size level).
 *
 *   npm run bench:quality -- --styles starry_night --schedule default --schedule 1:1:1:1:1 --schedule 4:4:4:4:1@0.002
 */
import { spawn } from "node:child_process";
import os from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, RUN_PRESETS } from "@atelier/protocol";
import { initBackend } from "../src/backend.ts";
import { toFloatPixels } from "../src/color.ts";
import { decodeImage, fitWithin, resizeImage } from "../src/image.ts";
import { VggObjective } from "../src/objective.ts";
import { OnnxObjective } from "../src/onnx-objective.ts";
import { OnnxVgg } from "../src/onnx-vgg.ts";
import { loadOnnxRuntime } from "../src/onnx-runtime.ts";
import { shareIterations } from "../src/multiscale.ts";
import { DEFAULTS, stylize } from "../src/stylize.ts";
import { VggFeatures } from "../src/vgg.ts";
import { loadVggWeightArrays, loadVggWeights } from "../src/weights.ts";
import type { RgbImage } from "../src/api.ts";
import { checkpointIterations, firstReaching, parseSchedule } from "./time-to-quality.ts";

const IMAGES = process.env.ATELIER_IMAGES ?? resolve(import.meta.dirname, "../../../../shared/images");

/** jcjohnson/neural-style's published 512 px outputs, scored as above (source: issue 13). */
const REFERENCE_512: Record<string, number> = {
  starry_night: 1.6e7,
  the_scream: 1.72e6,
  shipwreck: 1.87e6,
  "seated-nude": 1.22e6,
};

/** A room's default run (the Balanced preset): 200 iterations at 512 px, coarse to fine. */
const BALANCED = RUN_PRESETS.find((p) => p.id === "balanced")!.settings;

const { values } = parseArgs({
  options: {
    size: { type: "string", default: String(BALANCED.size) },
    iterations: { type: "string", default: String(BALANCED.iterations) },
    styles: { type: "string", default: Object.keys(REFERENCE_512).join(",") },
    // coarse-to-fine is what a room runs by default (the Balanced preset); --single-scale gives
    // the CLI's jcjohnson-style single-scale default (seated-nude 1.13 there vs 0.81 coarse-to-fine,
    // 2026-12-02, packages/engine/README.md)
    "single-scale": { type: "boolean", default: false },
    // time-to-quality: the result is scored at each level's end and every n iterations at full size
    "score-every": { type: "string", default: "25" },
    // stop each pair at this many wall seconds (its ratio then is what that budget reaches)
    budget: { type: "string" },
    // one variant per flag, coarse-to-fine only: "default" or shares "a:b:…", optionally "@stall"
    schedule: { type: "string", multiple: true, default: ["default"] },
  },
});
const size = Number(values.size);
const multiscale = !values["single-scale"];
const iterations = Number(values.iterations);
const styles = values.styles.split(",").map((s) => s.trim());
for (const s of styles) if (!(s in REFERENCE_512)) throw new Error(`unknown style '${s}'`);
const scoreEvery = Number(values["score-every"]);
const budget = values.budget === undefined ? null : Number(values.budget);
if (!Number.isInteger(scoreEvery) || scoreEvery < 1) throw new Error(`bad --score-every: ${values["score-every"]}`);
if (budget !== null && !(budget > 0)) throw new Error(`bad --budget: ${values.budget}`);
const schedules = values.schedule.map((spec) => ({ spec, ...parseSchedule(spec) }));
if (!multiscale && values.schedule.some((s) => s !== "default")) throw new Error("--schedule needs coarse to fine");

/**
 * jcjohnson's score, 5 · content(relu4_2) + 100 · Σ style(relu1_1…relu5_1), no TV, of images
 * at `width` × `height` (one objective per pair, reused for every checkpoint).
 */
async function gatysScorer(
  content: RgbImage,
  style: RgbImage,
  width: number,
  height: number,
  backend: string,
): Promise<{ score(result: RgbImage): Promise<number>; dispose(): void }> {
  const at = async (img: RgbImage, w: number, h: number) => ({
    width: w,
    height: h,
    pixels: toFloatPixels(await resizeImage(img, w, h)),
  });
  const dims = fitWithin(style.width, style.height, Math.max(width, height));
  const setup = {
    content: await at(content, width, height),
    styles: [await at(style, dims.width, dims.height)],
    contentLayers: [...DEFAULT_CONTENT_LAYERS],
    styleLayers: [...DEFAULT_STYLE_LAYERS],
    weights: {
      contentWeight: 5,
      styleWeight: 100,
      tvWeight: 0,
      styleBlendWeights: [1],
      styleLayerWeights: DEFAULT_STYLE_LAYERS.map(() => 1),
    },
  };
  const objective =
    backend === "onnx"
      ? await OnnxObjective.create({
          net: new OnnxVgg(await loadOnnxRuntime(), (await loadVggWeightArrays(13)).convs, "max"),
          ...setup,
        })
      : new VggObjective({
          net: new VggFeatures(await loadVggWeights(13), { pooling: "max", gradient: "flipped" }),
          ...setup,
        });
  return {
    // a coarse level's image is scored as the next level starts from it: resized to full size
    score: async (result) =>
      (
        await objective.evaluate(
          toFloatPixels(result.width === width ? result : await resizeImage(result, width, height)),
        )
      ).total,
    dispose: () => objective.dispose(),
  };
}

const RESULT_MARKER = "BENCH_RESULT ";

/** The machine's matmul GFLOP/s now: bench.ts's own measurement (ONNX Runtime MatMul 2048²) in a fresh child. */
function matmulGflops(): Promise<number> {
  return new Promise((ok, fail) => {
    const proc = spawn(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, "bench.ts"), "--matmul"], {
      cwd: resolve(import.meta.dirname, ".."),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.on("error", fail);
    proc.on("close", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) return fail(new Error(`matmul child exited with ${code}`));
      ok((JSON.parse(line.slice(RESULT_MARKER.length)) as { gflops: number }).gflops);
    });
  });
}

/** A scored point of a run: its image, taken after `iteration`, and the run's own wall seconds to it. */
interface Checkpoint {
  iteration: number;
  seconds: number;
  image: RgbImage;
}

const { backend } = await initBackend();
const content = await decodeImage(resolve(IMAGES, "tubingen.jpg"));
console.log(
  `quality: tubingen × ${styles.length} styles, ${size} px, ${iterations} iterations, engine defaults ` +
    `(${DEFAULTS.optimizer}, init ${DEFAULTS.init}, ${multiscale ? "coarse-to-fine" : "single scale"}), backend ${backend}` +
    (budget !== null ? `, budget ${budget} s per pair` : "") +
    `; schedules ${values.schedule.join(" | ")} (counts "a,b,…" replace --iterations)` +
    `; scored at each level's end and every ${scoreEvery} iterations at full size (scoring after the run, not timed)`,
);
if (size !== 512) console.log(`note: the references are 512 px scores; at ${size} px the ratio is not comparable`);
const rows: string[][] = [
  [
    "pair",
    "schedule",
    "backend",
    "matmul GFLOP/s",
    "Gatys loss",
    "reference (512 px)",
    "ratio",
    "iterations",
    "seconds",
    "s coarse",
    "s to reference",
    "iterations to reference",
  ],
];
for (const name of styles) {
  const style = await decodeImage(resolve(IMAGES, `${name}.jpg`));
  for (const schedule of schedules) {
    const matmul = await matmulGflops();
    const started = performance.now();
    let excluded = 0; // ms the bench spent taking checkpoints, on the run's own thread
    const perScale = schedule.counts ?? (schedule.shares ? shareIterations(iterations, schedule.shares) : null);
    const total = perScale ? perScale.reduce((a, b) => a + b, 0) : iterations;
    const levelCount = perScale?.length ?? 0;
    const run = stylize({
      content,
      styles: [{ image: style, weight: 1 }],
      size,
      iterations: total,
      multiscale: !multiscale
        ? false
        : {
            ...(perScale ? { iterationsPerScale: perScale } : {}),
            ...(schedule.stall !== null ? { stall: schedule.stall } : {}),
          },
    });
    const info = await run.ready;
    const finalLevel = (info.levels?.length ?? 1) - 1;
    if (levelCount > 0 && levelCount !== finalLevel + 1)
      throw new Error(`--schedule ${schedule.spec}: ${finalLevel + 1} levels`);
    const checkpoints: Checkpoint[] = [];
    let done = 0;
    let stopping = false;
    // A coarse level's end is only known when the next level's first event comes (the stall stop
    // moves it), so each coarse event's image is held until then; at full size, every --score-every.
    let held: (Checkpoint & { scale: number }) | null = null;
    let finalStart: number | null = null;
    let at = new Set<number>();
    const perLevel: number[] = [];
    let coarseSeconds = 0; // wall seconds when the full-size level starts
    for await (const event of run) {
      done = event.iteration;
      perLevel[event.scale] = (perLevel[event.scale] ?? 0) + 1;
      const seconds = (performance.now() - started - excluded) / 1000;
      const overBudget = budget !== null && seconds >= budget;
      if (held && event.scale !== held.scale) {
        checkpoints.push(held); // the level before this event's ended there
        if (event.scale === finalLevel) coarseSeconds = held.seconds;
        held = null;
      }
      const coarse = event.scale !== finalLevel;
      if (!coarse && finalStart === null) {
        finalStart = event.iteration - 1;
        at = checkpointIterations([total - finalStart], scoreEvery);
      }
      if (coarse || at.has(event.iteration - (finalStart ?? 0)) || (overBudget && !stopping)) {
        // the event arrives before the run's next step starts, so this is that iteration's image
        const taking = performance.now();
        const point = { iteration: event.iteration, seconds, image: await run.currentImage() };
        if (coarse) held = { ...point, scale: event.scale };
        else checkpoints.push(point);
        excluded += performance.now() - taking;
      }
      if (overBudget && !stopping) {
        stopping = true;
        run.update({ iterations: event.iteration });
      }
    }
    if (held) checkpoints.push(held); // stopped in a coarse level
    const result = await run.result;
    const seconds = (performance.now() - started - excluded) / 1000;
    const width = result.width;
    const height = result.height;
    if (checkpoints.at(-1)?.iteration !== done) checkpoints.push({ iteration: done, seconds, image: result });
    const scorer = await gatysScorer(content, style, width, height, run.info.backend);
    const reference = REFERENCE_512[name]!;
    const scored: (Checkpoint & { score: number })[] = [];
    let score = Number.NaN;
    try {
      for (const c of checkpoints) {
        const s = await scorer.score(c.iteration === done ? result : c.image);
        if (c.iteration === done) score = s;
        scored.push({ ...c, score: s });
        console.log(
          `    ${name} @${c.iteration} (${c.seconds.toFixed(1)} s): ${s.toExponential(3)} (${(s / reference).toFixed(3)})`,
        );
      }
    } finally {
      scorer.dispose();
    }
    const reached = firstReaching(scored, reference);
    rows.push([
      `tubingen × ${name}`,
      `${schedule.spec} (${Array.from(perLevel, (n) => n ?? 0).join("/")})`,
      run.info.backend,
      matmul.toFixed(0),
      score.toExponential(3),
      reference.toExponential(2),
      (score / reference).toFixed(3),
      String(done),
      seconds.toFixed(1),
      coarseSeconds.toFixed(1),
      reached ? reached.seconds.toFixed(1) : "—",
      reached ? String(reached.iteration) : "—",
    ]);
    console.log(`  ${rows.at(-1)!.join("  ")}`);
  }
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log(
  ["", ...rows.map((r) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`)]
    .toSpliced(2, 0, `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
    .join("\n"),
);
console.log(`load average at the end: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
process.exit(0);
