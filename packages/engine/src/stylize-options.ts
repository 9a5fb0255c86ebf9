/**
 * A run's options, checked and completed before anything starts: stylize() throws the
 * EngineError "bad_options" from here synchronously, with a message that names the option.
 */
import { COLOR_CONTROLS, effectiveColorControl } from "@atelier/protocol";
import type { ColorControl, ImageSource, LayerName, LiveWeights, StylizeOptions } from "./api.ts";
import { DEFAULTS, DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS } from "./defaults.ts";
import { EngineError } from "./errors.ts";
import { planScales, type ScalePlan } from "./multiscale.ts";
import type { ObjectiveWeights } from "./objective.ts";
import { layerIndex } from "./vgg.ts";
import { defaultWeightsSource } from "./weights.ts";

/** Limits the engine accepts (the web app's own limits are tighter). */
export const LIMITS = { minSize: 16, maxSize: 8192, maxIterations: 1_000_000, minTile: 64 } as const;

export interface ResolvedOptions {
  content: ImageSource;
  styles: { image: ImageSource; weight: number; mask?: ImageSource }[];
  size: number;
  iterations: number;
  optimizer: "lbfgs" | "adam";
  learningRate: number;
  weights: ObjectiveWeights;
  styleScale: number;
  colorControl: ColorControl;
  /** tile side (px) for levels larger than it, or null: no tiling */
  tile: number | null;
  init: "noise" | "content" | "style" | { image: ImageSource; continues?: boolean };
  seed: number;
  pooling: "max" | "avg";
  contentLayers: LayerName[];
  styleLayers: LayerName[];
  /** levels and iterations per level (validated up front) */
  plan: ScalePlan;
  /** multiscale.stall: a coarse level ends when its loss falls by less than this per iteration */
  stall: number | null;
  /** ATELIER_VGG19 (or the default folder) as it was when the run started */
  weightsSource: string;
  signal: AbortSignal | undefined;
}

export function bad(message: string): EngineError {
  return new EngineError("bad_options", message);
}

function finiteAtLeast(name: string, value: number, min: number, exclusive = false): number {
  if (typeof value !== "number" || !Number.isFinite(value) || (exclusive ? value <= min : value < min)) {
    throw bad(`${name} must be a finite number ${exclusive ? ">" : "≥"} ${min}, got ${String(value)}`);
  }
  return value;
}

function intInRange(name: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw bad(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function isImageSource(value: unknown): value is ImageSource {
  if (typeof value === "string") return value.length > 0;
  if (value instanceof Uint8Array) return true;
  return typeof value === "object" && value !== null && "data" in value && "width" in value && "height" in value;
}

function layers(name: string, value: readonly string[] | undefined, fallback: readonly string[]): LayerName[] {
  // checked as unknown: JavaScript callers may pass anything
  const list: unknown = value ?? fallback;
  if (!Array.isArray(list) || list.length === 0) throw bad(`${name} must list at least one VGG-19 layer`);
  const names: unknown[] = list;
  for (const layer of names) {
    if (typeof layer !== "string") throw bad(`${name} must list VGG-19 layer names`);
    try {
      layerIndex(layer);
    } catch (error) {
      throw bad(`${name}: ${(error as Error).message}`);
    }
  }
  if (new Set(names).size !== names.length) throw bad(`${name} lists a layer twice`);
  return [...(names as LayerName[])];
}

/** Validates and fills in defaults; throws EngineError("bad_options") with a precise message. */
export function resolveOptions(options: StylizeOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw bad("stylize needs an options object");
  if (!isImageSource(options.content)) throw bad("content must be an image path, encoded image bytes or an RGB image");
  if (!Array.isArray(options.styles) || options.styles.length === 0)
    throw bad("styles must hold at least one style image");
  const styles = options.styles.map((s, i) => {
    if (typeof s !== "object" || s === null || !isImageSource(s.image))
      throw bad(`styles[${i}].image must be an image`);
    if (s.mask !== undefined && !isImageSource(s.mask)) throw bad(`styles[${i}].mask must be an image`);
    return {
      image: s.image,
      weight: finiteAtLeast(`styles[${i}].weight`, s.weight, 0),
      ...(s.mask !== undefined ? { mask: s.mask } : {}),
    };
  });
  if (!(styles.reduce((a, s) => a + s.weight, 0) > 0)) throw bad("at least one style needs a weight above 0");

  const styleLayers = layers("styleLayers", options.styleLayers, DEFAULT_STYLE_LAYERS);
  const contentLayers = layers("contentLayers", options.contentLayers, DEFAULT_CONTENT_LAYERS);
  const styleLayerWeights = options.styleLayerWeights ?? styleLayers.map(() => 1);
  if (!Array.isArray(styleLayerWeights) || styleLayerWeights.length !== styleLayers.length) {
    throw bad(`styleLayerWeights must have one weight per style layer (${styleLayers.length})`);
  }
  styleLayerWeights.forEach((w, i) => finiteAtLeast(`styleLayerWeights[${i}]`, w, 0));

  const optimizer = options.optimizer ?? DEFAULTS.optimizer;
  if (optimizer !== "lbfgs" && optimizer !== "adam")
    throw bad(`optimizer must be "lbfgs" or "adam", got ${String(optimizer)}`);
  const pooling = options.pooling ?? DEFAULTS.pooling;
  if (pooling !== "max" && pooling !== "avg") throw bad(`pooling must be "max" or "avg", got ${String(pooling)}`);

  const init = options.init ?? DEFAULTS.init;
  if (typeof init === "string") {
    if (init !== "noise" && init !== "content" && init !== "style")
      throw bad(`init must be "noise", "content", "style" or { image }, got ${String(init)}`);
  } else if (typeof init !== "object" || init === null || !isImageSource(init.image)) {
    throw bad("init.image must be an image");
  } else if (init.continues !== undefined && typeof init.continues !== "boolean") {
    throw bad("init.continues must be a boolean");
  }

  const multiscale = options.multiscale;
  if (multiscale !== undefined && typeof multiscale !== "boolean") {
    if (typeof multiscale !== "object" || multiscale === null)
      throw bad("multiscale must be a boolean or { iterationsPerScale?, minSize?, stall? }");
    if (multiscale.stall !== undefined) finiteAtLeast("multiscale.stall", multiscale.stall, 0, true);
    if (multiscale.minSize !== undefined)
      intInRange("multiscale.minSize", multiscale.minSize, LIMITS.minSize, LIMITS.maxSize);
    if (multiscale.iterationsPerScale !== undefined) {
      if (!Array.isArray(multiscale.iterationsPerScale) || multiscale.iterationsPerScale.length === 0) {
        throw bad("multiscale.iterationsPerScale must be a non-empty array");
      }
      multiscale.iterationsPerScale.forEach((n, i) =>
        intInRange(`multiscale.iterationsPerScale[${i}]`, n, 1, LIMITS.maxIterations),
      );
    }
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw bad("signal must be an AbortSignal");

  const size = intInRange("size", options.size ?? DEFAULTS.size, LIMITS.minSize, LIMITS.maxSize);
  const iterations = intInRange("iterations", options.iterations ?? DEFAULTS.iterations, 1, LIMITS.maxIterations);
  return {
    content: options.content,
    styles,
    size,
    iterations,
    optimizer,
    learningRate: finiteAtLeast("learningRate", options.learningRate ?? DEFAULTS.learningRate, 0, true),
    weights: {
      contentWeight: finiteAtLeast("contentWeight", options.contentWeight ?? DEFAULTS.contentWeight, 0),
      styleWeight: finiteAtLeast("styleWeight", options.styleWeight ?? DEFAULTS.styleWeight, 0),
      tvWeight: finiteAtLeast("tvWeight", options.tvWeight ?? DEFAULTS.tvWeight, 0),
      styleBlendWeights: styles.map((s) => s.weight),
      styleLayerWeights: [...styleLayerWeights],
    },
    styleScale: finiteAtLeast("styleScale", options.styleScale ?? DEFAULTS.styleScale, 0, true),
    tile: options.tile === undefined ? null : intInRange("tile", options.tile, LIMITS.minTile, LIMITS.maxSize),
    colorControl: resolveColorControl(options.colorControl, Boolean(options.originalColors ?? DEFAULTS.originalColors)),
    init,
    seed: intInRange("seed", options.seed ?? DEFAULTS.seed, -(2 ** 53) + 1, 2 ** 53 - 1),
    pooling,
    contentLayers,
    styleLayers,
    plan: planScales(size, iterations, multiscale),
    stall: typeof multiscale === "object" ? (multiscale.stall ?? null) : null,
    weightsSource: defaultWeightsSource(),
    signal: options.signal,
  };
}

/** colorControl when given; otherwise originalColors → "luminance" (the older option keeps working). */
function resolveColorControl(colorControl: ColorControl | undefined, originalColors: boolean): ColorControl {
  if (colorControl === undefined) return effectiveColorControl({ originalColors });
  if (!(COLOR_CONTROLS as readonly string[]).includes(colorControl)) {
    throw bad(`colorControl must be ${COLOR_CONTROLS.map((c) => `"${c}"`).join(", ")}, got ${String(colorControl)}`);
  }
  return colorControl;
}

/** Validates a live update against the run; throws EngineError("bad_options"). */
export function checkLiveWeights(update: LiveWeights, styles: number): void {
  if (typeof update !== "object" || update === null) throw bad("update needs an object");
  for (const key of ["contentWeight", "styleWeight", "tvWeight"] as const) {
    if (update[key] !== undefined) finiteAtLeast(key, update[key], 0);
  }
  if (update.styleBlendWeights !== undefined) {
    const w = update.styleBlendWeights;
    if (!Array.isArray(w) || w.length !== styles) throw bad(`styleBlendWeights needs ${styles} weights, one per style`);
    w.forEach((x, i) => finiteAtLeast(`styleBlendWeights[${i}]`, x, 0));
    if (!(w.reduce((a, b) => a + b, 0) > 0)) throw bad("at least one style blend weight must be above 0");
  }
  if (update.iterations !== undefined) intInRange("iterations", update.iterations, 1, LIMITS.maxIterations);
}
