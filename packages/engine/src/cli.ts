/**
 * `atelier stylize …`: runs one style transfer from the command line.
 * Contract with the user: every failure is ONE line `atelier: error: …` on stderr and a
 * non-zero exit (2 for usage mistakes, 1 for failures, 130 when interrupted), and the output
 * file is either complete or absent (written to a temp file beside it, then renamed).
 */
import { stat, access, constants } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { RgbImage, StylizeOptions } from "./api.ts";
import { USAGE, UsageError, parseCommand, type StylizePlan } from "./cli-args.ts";
import { RunClock } from "./cli-timing.ts";
import { barSink, jsonSink, lineSink, type ProgressSink } from "./cli-progress.ts";
import { DEFAULTS } from "./defaults.ts";
import { ImageError, decodeImage, encodeImage, fitWithin } from "./image.ts";
import { memoryBound } from "./tiles.ts";
import { debugFromEnv } from "./env.ts";
// the one module, not the package: its index loads the S3 client too (~0.14 s of CPU per CLI start)
import { writeFileAtomic } from "@atelier/files/atomic-write";

/** A failure while running (missing file, unreadable image, engine error): exit code 1. */
export class RunError extends Error {
  override name = "RunError";
}

export interface CliIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** aborted on Ctrl-C / SIGTERM */
  signal: AbortSignal;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error instanceof Error && error.name === "AbortError");
}

/** `out.png` → `out_120.png`. */
export function checkpointPath(outPath: string, iteration: number): string {
  const ext = extname(outPath);
  return join(dirname(outPath), `${basename(outPath, ext)}_${iteration}${ext}`);
}

/** Refuses an output we could not write before spending minutes on the run. */
async function checkOutput(outPath: string): Promise<void> {
  const folder = dirname(resolve(outPath));
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) throw new RunError(`--out ${outPath}: ${folder} is not a folder`);
    await access(folder, constants.W_OK);
  } catch (error) {
    if (error instanceof RunError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new RunError(
      code === "ENOENT"
        ? `--out ${outPath}: the folder ${folder} does not exist`
        : `--out ${outPath}: cannot write to ${folder}`,
    );
  }
  const existing = await stat(outPath).catch(() => null);
  if (existing?.isDirectory()) throw new RunError(`--out ${outPath} is a folder`);
}

async function load(role: string, path: string): Promise<RgbImage> {
  try {
    return await decodeImage(path);
  } catch (error) {
    if (error instanceof ImageError) throw new RunError(`${role}: ${error.message}`);
    throw error;
  }
}

function sinkFor(plan: StylizePlan, io: CliIO): ProgressSink {
  if (plan.json) return jsonSink((line) => io.stdout.write(line));
  return io.stderr.isTTY ? barSink(io.stderr) : lineSink(io.stderr);
}

async function runStylize(plan: StylizePlan, io: CliIO): Promise<void> {
  const started = performance.now();
  await checkOutput(plan.outPath);

  // Decode everything first so a bad image fails in a second, not after loading the model.
  const content = await load("content image", plan.contentPath);
  const styleImages: RgbImage[] = [];
  for (const path of plan.stylePaths) styleImages.push(await load("style image", path));
  const masks: (RgbImage | undefined)[] = [];
  for (const path of plan.styleMaskPaths) masks.push(path === null ? undefined : await load("--style-mask", path));
  const init: StylizeOptions["init"] =
    typeof plan.init === "string" ? plan.init : { image: await load("--init image", plan.init.path) };
  io.signal.throwIfAborted();

  // The engine (tfjs, weights) loads only now: usage errors above stay instant.
  const engine = await import("./index.ts");
  const handle = engine.stylize({
    ...plan.options,
    content,
    styles: styleImages.map((image, i) => ({
      image,
      weight: plan.styleBlendWeights[i]!,
      ...(masks[i] ? { mask: masks[i] } : {}),
    })),
    init,
    signal: io.signal,
  });

  const memory = plan.options.tile === undefined ? null : tiledMemory(plan, content);
  if (memory) io.stderr.write(`${memory.start}\n`);
  const sink = sinkFor(plan, io);
  const clock = new RunClock(started);
  const totalIterations = plan.options.iterations ?? 1000;
  try {
    for await (const event of handle) {
      // info is only meaningful once the backend and weights have loaded, i.e. by the first event.
      if (event.iteration === 1 && !plan.json) {
        sink.clear();
        const { backend, adapter, modelHash } = handle.info;
        const on = adapter ? ` on ${adapter.vendor} ${adapter.device}` : "";
        io.stderr.write(`atelier: backend ${backend}${on}, weights ${modelHash.slice(0, 12)}\n`);
      }
      clock.iteration(performance.now(), event.ms);
      sink.iteration(event, Math.max(totalIterations, event.iteration));
      if (plan.saveEvery && event.iteration % plan.saveEvery === 0 && event.iteration < totalIterations) {
        const snapshot = await handle.currentImage();
        await writeFileAtomic(checkpointPath(plan.outPath, event.iteration), await encodeImage(snapshot, plan.format));
      }
    }
    const result = await handle.result;
    await writeFileAtomic(plan.outPath, await encodeImage(result, plan.format));
    const finished = performance.now();
    if (memory) io.stderr.write(`${memory.end()}\n`);
    sink.done({
      out: plan.outPath,
      seconds: (finished - started) / 1000,
      timing: clock.timing(finished),
      width: result.width,
      height: result.height,
      engine: handle.info,
    });
  } catch (error) {
    sink.clear();
    // The iterator and `result` reject together; keep the second rejection from going unhandled.
    handle.result.catch(() => {});
    throw error;
  }
}

/** With --tile: the memory bound, said before the run, and the peak RSS against it after. */
function tiledMemory(plan: StylizePlan, content: RgbImage): { start: string; end: () => string } {
  const size = plan.options.size ?? DEFAULTS.size;
  const { width, height } = fitWithin(content.width, content.height, size);
  const styleSide = Math.round((plan.options.styleScale ?? DEFAULTS.styleScale) * size);
  const bound = memoryBound(width, height, plan.options.tile!, styleSide);
  const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
  return {
    start: `atelier: ${width}×${height} in ${plan.options.tile} px tiles; memory bound ${mb(bound)}`,
    end: () => {
      const peak = process.resourceUsage().maxRSS * 1024; // kB → bytes
      return `atelier: peak RSS ${mb(peak)} (bound ${mb(bound)}${peak > bound ? ", EXCEEDED" : ""})`;
    },
  };
}

/** Runs the CLI; resolves with the exit code. Never throws. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  try {
    const command = parseCommand(argv);
    if (command.kind === "help") {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    await runStylize(command.plan, io);
    return EXIT_OK;
  } catch (error) {
    if (isAbort(error, io.signal)) {
      io.stderr.write("atelier: error: interrupted (Ctrl-C); the output was not written\n");
      return EXIT_INTERRUPTED;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`atelier: error: ${oneLine(message)}\n`);
    if (debugFromEnv() && error instanceof Error && !(error instanceof UsageError)) {
      io.stderr.write(`${error.stack}\n`);
    }
    return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

/** Entry point used by bin/atelier.mjs: wires signals and exits with main's code. */
export async function run(argv: string[] = process.argv.slice(2)): Promise<never> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    // A second Ctrl-C means "now": the run may be inside a long synchronous kernel.
    if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const code = await main(argv, { stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
  // tfjs' wasm backend can keep worker handles alive; leave explicitly once output is flushed.
  process.exit(code);
}
