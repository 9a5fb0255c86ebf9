/**
 * Command-line parsing for `atelier stylize`: turns argv into a validated plan (image paths,
 * output, engine options). Pure: touches no files, so every bad option is reported before
 * anything is read, loaded or written. Ranges come from @atelier/protocol's run settings so
 * the CLI accepts exactly what a room accepts.
 */
import { extname } from "node:path";
import { parseArgs } from "node:util";
import { MAX_STYLES, MIN_SIZE, VGG_LAYERS, runSettings, styleRef } from "@atelier/protocol";
import type { LayerName, StylizeOptions } from "./api.ts";
import { DEFAULTS, DEFAULT_STYLE_LAYERS } from "./defaults.ts";
import { MAX_TILED_SIZE, MIN_TILE, OPTIONS } from "./cli-usage.ts";

export { USAGE } from "./cli-usage.ts";

/** A mistake in how the CLI was called (exit code 2), as opposed to a failure while running. */
export class UsageError extends Error {
  override name = "UsageError";
}

export type OutputFormat = "png" | "jpeg" | "webp";

/** Everything `stylize` needs except the decoded images, which the caller loads from the paths. */
export interface StylizePlan {
  contentPath: string;
  stylePaths: string[];
  /** raw blend weights, one per style (the engine normalises them) */
  styleBlendWeights: number[];
  /** one per style: the path of its mask, or null (that style covers the whole image); empty when no masks */
  styleMaskPaths: (string | null)[];
  /** "noise" | "content" | "style", or the path of an image to start from */
  init: "noise" | "content" | "style" | { path: string };
  outPath: string;
  format: OutputFormat;
  saveEvery: number | null;
  json: boolean;
  /** engine options without images (content, styles, init are filled in by the caller) */
  options: Omit<StylizeOptions, "content" | "styles" | "init" | "signal">;
}

export type Command = { kind: "help" } | { kind: "stylize"; plan: StylizePlan };

const FORMAT_BY_EXTENSION: Record<string, OutputFormat> = {
  ".png": "png",
  ".jpg": "jpeg",
  ".jpeg": "jpeg",
  ".webp": "webp",
};

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Parses a number strictly: the whole string must be a finite number ("12abc" is refused). */
function parseNumber(flag: string, raw: string): number {
  const trimmed = raw.trim();
  const value = trimmed === "" ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(value)) throw new UsageError(`--${flag} must be a number, got '${raw}'`);
  return value;
}

/** The part of a zod schema used here (the protocol's schemas are zod). */
interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
}

/** Parses and checks a value with the protocol's schema for that setting. */
function checked<T>(flag: string, raw: string, value: unknown, schema: Schema<T>): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const message = result.error.issues[0]?.message ?? "invalid value";
    throw new UsageError(`--${flag} ${raw}: ${lowerFirst(message)}`);
  }
  return result.data;
}

function numberOption<T>(flag: string, raw: string | undefined, schema: Schema<T>): T | undefined {
  if (raw === undefined) return undefined;
  return checked(flag, raw, parseNumber(flag, raw), schema);
}

function choiceOption<C extends string>(flag: string, raw: string | undefined, choices: readonly C[]): C | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${flag} must be ${choices.join(" or ")}, got '${raw}'`);
  }
  return raw as C;
}

function listOf(raw: string): string[] {
  return raw.split(",").map((item) => item.trim());
}

function layersOption(flag: string, raw: string | undefined): LayerName[] | undefined {
  if (raw === undefined) return undefined;
  const layers = listOf(raw);
  for (const layer of layers) {
    if (!(VGG_LAYERS as readonly string[]).includes(layer)) {
      throw new UsageError(
        `--${flag}: unknown layer '${layer}' (layers are relu1_1 … relu5_4: ${VGG_LAYERS.join(", ")})`,
      );
    }
  }
  if (new Set(layers).size !== layers.length) throw new UsageError(`--${flag}: a layer is listed twice in '${raw}'`);
  return layers;
}

/** --style-mask: one entry per style ("" = none), comma-separated or repeated; [] when not given. */
function styleMasksOption(raw: string[] | undefined, styles: number): (string | null)[] {
  if (raw === undefined) return [];
  const paths = raw.flatMap(listOf).map((p) => (p === "" ? null : p));
  if (paths.length !== styles) {
    throw new UsageError(
      `--style-mask has ${paths.length} entr${paths.length === 1 ? "y" : "ies"} but there are ${styles} style image(s) (leave an entry empty for an unmasked style)`,
    );
  }
  if (paths.every((p) => p === null)) throw new UsageError("--style-mask names no mask file");
  return paths;
}

/** --color-match style|result → the engine's colorControl; --original-colors is the third choice, not a companion. */
function colorMatchOption(
  raw: string | undefined,
  originalColors: boolean | undefined,
): StylizeOptions["colorControl"] {
  const choice = choiceOption("color-match", raw, ["style", "result"] as const);
  if (choice === undefined) return undefined;
  if (originalColors) throw new UsageError("--color-match and --original-colors are two colour controls; choose one");
  return choice === "style" ? "match-style" : "match-result";
}

function integerOption(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = parseNumber(flag, raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} ${raw}: must be an integer from ${min} to ${max}`);
  }
  return value;
}

function numberList(flag: string, raw: string): number[] {
  return listOf(raw).map((item) => parseNumber(flag, item));
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value.trim() === "")
    throw new UsageError(`--${flag} is required (see atelier stylize --help)`);
  return value;
}

/** Output format by extension; anything else is refused up front rather than guessed. */
export function outputFormat(path: string): OutputFormat {
  const format = FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
  if (!format) {
    throw new UsageError(`--out ${path}: the extension must be .png, .jpg, .jpeg or .webp (it decides the format)`);
  }
  return format;
}

function parseOptions(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    // node's messages can span lines and suggest `--` syntax; keep the first sentence.
    const message = (error as Error).message.split("\n")[0]!.replace(/\. To specify a positional argument.*$/, "");
    throw new UsageError(lowerFirst(message));
  }
}

/** Parses `atelier <command> …` (argv without node and the script). */
export function parseCommand(argv: string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") return { kind: "help" };
  if (command !== "stylize")
    throw new UsageError(`unknown command '${command}' (the only command is 'stylize'; see atelier --help)`);

  const { values, positionals } = parseOptions(rest);
  if (values.help) return { kind: "help" };
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (options start with --)`);

  const contentPath = required("content", values.content);
  const stylePaths = (values.style ?? []).flatMap(listOf).filter((p) => p !== "");
  if (stylePaths.length === 0) throw new UsageError("--style is required (see atelier stylize --help)");
  if (stylePaths.length > MAX_STYLES)
    throw new UsageError(`--style: at most ${MAX_STYLES} style images, got ${stylePaths.length}`);
  const outPath = required("out", values.out);
  const format = outputFormat(outPath);

  const shape = runSettings.shape;
  let styleBlendWeights = stylePaths.map(() => 1);
  if (values["style-weights"] !== undefined) {
    const raw = values["style-weights"];
    styleBlendWeights = numberList("style-weights", raw).map((w) =>
      checked("style-weights", raw, w, styleRef.shape.weight),
    );
    if (styleBlendWeights.length !== stylePaths.length) {
      throw new UsageError(
        `--style-weights has ${styleBlendWeights.length} value(s) but there are ${stylePaths.length} style image(s)`,
      );
    }
    if (!styleBlendWeights.some((w) => w > 0))
      throw new UsageError("--style-weights: at least one style needs a weight above 0");
  }

  const styleMaskPaths = styleMasksOption(values["style-mask"], stylePaths.length);

  const styleLayers = layersOption("style-layers", values["style-layers"]);
  let styleLayerWeights: number[] | undefined;
  if (values["style-layer-weights"] !== undefined) {
    const raw = values["style-layer-weights"];
    styleLayerWeights = numberList("style-layer-weights", raw);
    if (styleLayerWeights.some((w) => w < 0)) throw new UsageError(`--style-layer-weights ${raw}: weights must be ≥ 0`);
    const layerCount = (styleLayers ?? DEFAULT_STYLE_LAYERS).length;
    if (styleLayerWeights.length !== layerCount) {
      throw new UsageError(
        `--style-layer-weights has ${styleLayerWeights.length} value(s) but there are ${layerCount} style layer(s)`,
      );
    }
  }

  const initRaw = values.init;
  const init: StylizePlan["init"] =
    initRaw === undefined || initRaw === "noise" || initRaw === "content" || initRaw === "style"
      ? (initRaw ?? DEFAULTS.init)
      : { path: initRaw };

  let saveEvery: number | null = null;
  if (values["save-every"] !== undefined) {
    const raw = values["save-every"];
    saveEvery = checked("save-every", raw, parseNumber("save-every", raw), shape.iterations.unwrap());
  }

  const tile = integerOption("tile", values.tile, MIN_TILE, MAX_TILED_SIZE);
  const options: StylizePlan["options"] = {
    // tiled runs may go past the room's size limit: memory follows the tile
    size:
      tile === undefined
        ? numberOption("size", values.size, shape.size.unwrap())
        : integerOption("size", values.size, MIN_SIZE, MAX_TILED_SIZE),
    tile,
    iterations: numberOption("iterations", values.iterations, shape.iterations.unwrap()),
    optimizer: choiceOption("optimizer", values.optimizer, ["lbfgs", "adam"] as const),
    learningRate: numberOption("learning-rate", values["learning-rate"], shape.learningRate.unwrap()),
    contentWeight: numberOption("content-weight", values["content-weight"], shape.contentWeight.unwrap()),
    styleWeight: numberOption("style-weight", values["style-weight"], shape.styleWeight.unwrap()),
    tvWeight: numberOption("tv-weight", values["tv-weight"], shape.tvWeight.unwrap()),
    styleScale: numberOption("style-scale", values["style-scale"], shape.styleScale.unwrap()),
    seed: numberOption("seed", values.seed, shape.seed.unwrap()),
    pooling: choiceOption("pooling", values.pooling, ["max", "avg"] as const),
    contentLayers: layersOption("content-layers", values["content-layers"]),
    styleLayers,
    styleLayerWeights,
    originalColors: values["original-colors"],
    colorControl: colorMatchOption(values["color-match"], values["original-colors"]),
    multiscale: values.multiscale,
  };
  // Leave unset options out so the engine's own defaults apply.
  for (const key of Object.keys(options) as (keyof typeof options)[]) {
    if (options[key] === undefined) delete options[key];
  }

  return {
    kind: "stylize",
    plan: {
      contentPath,
      stylePaths,
      styleBlendWeights,
      styleMaskPaths,
      init,
      outPath,
      format,
      saveEvery,
      json: values.json ?? false,
      options,
    },
  };
}
