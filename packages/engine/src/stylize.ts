/**
 * The Run API: stylize(options) → RunHandle (see api.ts).
 *
 * stylize() validates the options synchronously (an EngineError "bad_options" is thrown
 * right away) and starts the run in the background: backend, images, weights, then per
 * scale level the objective (targets computed once) and the optimiser loop. Everything that
 * can only fail later (missing weights, unreadable images) rejects `ready`, `result` and the
 * event iterator together.
 */
import * as tf from "@tensorflow/tfjs-core";
import { COLOR_CONTROLS } from "@atelier/protocol";
import type {
  ColorControl,
  ImageSource,
  IterationEvent,
  LayerName,
  LiveWeights,
  RgbImage,
  RunHandle,
  EngineInfo,
  StylizeOptions,
} from "./api.ts";
import { fallBackFromOnnx, initBackend, type BackendInfo } from "./backend.ts";
import { toFloatPixels, toRgbImage, transferLuminance } from "./color.ts";
import { matchColors, matchImageColors } from "./color-match.ts";
import { EngineError, abortError } from "./errors.ts";
import { decodeImage, fitWithin, resizeImage } from "./image.ts";
import { decodeStyleMasks, masksAtSize } from "./mask-images.ts";
import { TILED_LBFGS_HISTORY, isTiled } from "./tiles.ts";
import { TILE_STEPS, TiledLevel } from "./tiled-level.ts";
import { planScales, replanIterations, type ScalePlan } from "./multiscale.ts";
import {
  VggObjective,
  type FloatImage,
  type Objective,
  type ObjectiveWeights,
  type VggObjectiveSetup,
} from "./objective.ts";
import { OnnxObjective, OnnxVgg } from "./onnx-objective.ts";
import { loadOnnxRuntime } from "./onnx-runtime.ts";
import { Adam } from "./optimizers/adam.ts";
import { Lbfgs } from "./optimizers/lbfgs.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";
import { Rng } from "./rng.ts";
import { VGG_LAYER_NAMES, VGG_MEAN_BGR, VggFeatures, convsNeeded, layerIndex } from "./vgg.ts";
import { VGG19_CONVS, defaultWeightsSource, loadVggWeightArrays, loadVggWeights } from "./weights.ts";
import { DEFAULTS, DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS } from "./defaults.ts";

export { DEFAULTS, DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS };

/** Limits the engine accepts (the web app's own limits are tighter). */
export const LIMITS = { minSize: 16, maxSize: 8192, maxIterations: 1_000_000, minTile: 64 } as const;

/**
 * Standard deviation of the "noise" init (Gaussian white noise around the ImageNet mean
 * colour, 0–255 units, unclipped). A compromise: strong noise lowers the loss fastest (64 px,
 * 20 L-BFGS iterations: total 2.7e7 with σ 64, 5.2e7 with σ 8, and σ 1 falls by only 78 %), but
 * σ 64 leaves per-pixel colour noise that hides the content for hundreds of iterations (128 px,
 * 60 iterations: no trace of Tübingen), while σ 16 both falls by > 90 % and shows the houses.
 */
export const NOISE_STD = 16;

interface ResolvedOptions {
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
  init: "noise" | "content" | "style" | { image: ImageSource };
  seed: number;
  pooling: "max" | "avg";
  contentLayers: LayerName[];
  styleLayers: LayerName[];
  /** levels and iterations per level (validated up front) */
  plan: ScalePlan;
  /** ATELIER_VGG19 (or the default folder) as it was when the run started */
  weightsSource: string;
  signal: AbortSignal | undefined;
}

function bad(message: string): EngineError {
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
  }

  const multiscale = options.multiscale;
  if (multiscale !== undefined && typeof multiscale !== "boolean") {
    if (typeof multiscale !== "object" || multiscale === null)
      throw bad("multiscale must be a boolean or { iterationsPerScale?, minSize? }");
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
    weightsSource: defaultWeightsSource(),
    signal: options.signal,
  };
}

/** colorControl when given; otherwise originalColors → "luminance" (the older option keeps working). */
function resolveColorControl(colorControl: ColorControl | undefined, originalColors: boolean): ColorControl {
  if (colorControl === undefined) return originalColors ? "luminance" : "none";
  if (!(COLOR_CONTROLS as readonly string[]).includes(colorControl)) {
    throw bad(`colorControl must be ${COLOR_CONTROLS.map((c) => `"${c}"`).join(", ")}, got ${String(colorControl)}`);
  }
  return colorControl;
}

/** Validates a live update against the run; throws EngineError("bad_options"). */
function checkLiveWeights(update: LiveWeights, styles: number): void {
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

// ---------------------------------------------------------------------------------------
// Events: an append-only log; every iterator walks it from the start.

class EventLog {
  private readonly events: IterationEvent[] = [];
  private finished = false;
  private failure: unknown = null;
  private wake: (() => void)[] = [];

  push(event: IterationEvent): void {
    this.events.push(event);
    this.notify();
  }

  end(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error ?? null;
    this.notify();
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const w of waiting) w();
  }

  iterator(): AsyncIterator<IterationEvent> {
    let index = 0;
    return {
      next: async (): Promise<IteratorResult<IterationEvent>> => {
        for (;;) {
          const event = this.events[index];
          if (event) {
            index++;
            return { value: event, done: false };
          }
          if (this.finished) {
            if (this.failure !== null)
              throw this.failure instanceof Error ? this.failure : new Error("the run failed", { cause: this.failure });
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => this.wake.push(resolve));
        }
      },
      return: async (): Promise<IteratorResult<IterationEvent>> => {
        index = Number.POSITIVE_INFINITY; // a consumer that breaks out does not stop the run
        return { value: undefined, done: true };
      },
    };
  }
}

// ---------------------------------------------------------------------------------------

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejections are for whoever awaits; never an unhandled rejection
  return { promise, resolve, reject };
}

/** The float image being optimised at one level, and how to turn it into RGB bytes. */
interface Snapshot {
  pixels: Float32Array;
  width: number;
  height: number;
  /** the content at this level, for original colours */
  content: Float32Array;
}

/**
 * Initialises the backend and loads VGG-19's first `count` convs (default all 16) in the form
 * that backend's runs use — arrays for onnx, tensors for tfjs — so a long-lived worker's first
 * run reads nothing from disk. Returns the backend.
 */
export async function preloadWeights(count = 16, source = defaultWeightsSource()): Promise<BackendInfo> {
  const info = await initBackend();
  if (info.backend === "onnx") await loadVggWeightArrays(count, source);
  else await loadVggWeights(count, source);
  return info;
}

/** Starts a style-transfer run. Throws EngineError("bad_options") for invalid options. */
export function stylize(options: StylizeOptions): RunHandle {
  const opts = resolveOptions(options);
  return new StyleRun(opts).handle();
}

class StyleRun {
  private readonly log = new EventLog();
  private readonly readyDeferred = deferred<EngineInfo>();
  private readonly resultDeferred = deferred<RgbImage>();
  private runInfo: EngineInfo = { backend: "", modelHash: "" };
  private snapshot: Snapshot | null = null;
  private finalImage: RgbImage | null = null;
  private pending: LiveWeights = {};
  private hasPending = false;
  private finished = false;

  constructor(private readonly opts: ResolvedOptions) {
    void this.run();
  }

  handle(): RunHandle {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const run = this;
    return {
      [Symbol.asyncIterator]: () => run.log.iterator(),
      update: (weights: LiveWeights) => run.update(weights),
      currentImage: () => run.currentImage(),
      result: run.resultDeferred.promise,
      ready: run.readyDeferred.promise,
      get info() {
        return { ...run.runInfo };
      },
    };
  }

  private update(weights: LiveWeights): void {
    checkLiveWeights(weights, this.opts.styles.length);
    if (this.finished) return;
    this.pending = {
      ...this.pending,
      ...weights,
      ...(weights.styleBlendWeights ? { styleBlendWeights: [...weights.styleBlendWeights] } : {}),
    };
    this.hasPending = true;
  }

  private async currentImage(): Promise<RgbImage> {
    if (this.finalImage) return cloneImage(this.finalImage);
    if (!this.snapshot) {
      await this.readyDeferred.promise; // rejects if the run failed before starting
      if (!this.snapshot) {
        if (this.finalImage) return cloneImage(this.finalImage);
        throw new Error("the run has no image yet");
      }
    }
    return this.render(this.snapshot);
  }

  private render(s: Snapshot): RgbImage {
    if (this.opts.colorControl === "luminance") {
      return { width: s.width, height: s.height, data: transferLuminance(s.pixels, s.content, s.width, s.height) };
    }
    if (this.opts.colorControl === "match-result")
      return toRgbImage(matchColors(s.pixels, s.content), s.width, s.height);
    return toRgbImage(s.pixels, s.width, s.height);
  }

  /**
   * Takes the pending live update: weights go into `weights` (in place), a new iteration
   * total re-plans `counts` (in place). `stop`: the new total is already reached;
   * `levelEnds`: this level has no iterations left.
   */
  private applyPending(
    weights: ObjectiveWeights,
    counts: number[],
    level: number,
    doneInLevel: number,
    iteration: number,
  ): { weightsChanged: boolean; stop: boolean; levelEnds: boolean } {
    const none = { weightsChanged: false, stop: false, levelEnds: false };
    if (!this.hasPending) return none;
    const update = this.pending;
    this.pending = {};
    this.hasPending = false;
    const weightsChanged =
      update.contentWeight !== undefined ||
      update.styleWeight !== undefined ||
      update.tvWeight !== undefined ||
      update.styleBlendWeights !== undefined;
    if (update.contentWeight !== undefined) weights.contentWeight = update.contentWeight;
    if (update.styleWeight !== undefined) weights.styleWeight = update.styleWeight;
    if (update.tvWeight !== undefined) weights.tvWeight = update.tvWeight;
    if (update.styleBlendWeights) weights.styleBlendWeights = [...update.styleBlendWeights];
    if (update.iterations !== undefined) {
      const next = replanIterations(counts, level, doneInLevel, iteration, update.iterations);
      if (!next) return { ...none, weightsChanged, stop: true };
      counts.splice(0, counts.length, ...next);
      return { ...none, weightsChanged, levelEnds: doneInLevel >= counts[level]! };
    }
    return { ...none, weightsChanged };
  }

  private checkAbort(): void {
    if (this.opts.signal?.aborted) throw abortError(this.opts.signal);
  }

  private async run(): Promise<void> {
    const disposables: { dispose(): void }[] = [];
    try {
      this.checkAbort();
      const { backend } = await initBackend();
      this.checkAbort();
      const opts = this.opts;
      const [content, ...decodedStyles] = await Promise.all([
        decodeImage(opts.content, { label: "content image" }),
        ...opts.styles.map((s, i) => decodeImage(s.image, { label: `style image ${i + 1}` })),
      ]);
      const styles =
        opts.colorControl === "match-style" ? decodedStyles.map((s) => matchImageColors(s, content)) : decodedStyles;
      const masks = await decodeStyleMasks(opts.styles.map((s) => s.mask));
      this.checkAbort();

      const convCount = convsNeeded([...opts.contentLayers, ...opts.styleLayers]);
      // Input gradients through the network are forward convs with flipped kernels on every
      // tfjs backend: one code path, ~10× faster than Conv2DBackpropInput on wasm, and on
      // libtensorflow a forward conv costs what its native input gradient does.
      const tfjsNet = async (): Promise<{ tfjs: VggFeatures; modelHash: string }> => {
        const weights = await loadVggWeights(convCount, opts.weightsSource);
        return {
          tfjs: new VggFeatures(weights, { pooling: opts.pooling, gradient: "flipped" }),
          modelHash: weights.modelHash,
        };
      };
      let net: { onnx: OnnxVgg } | { tfjs: VggFeatures };
      let modelHash: string;
      if (backend === "onnx") {
        const raw = await loadVggWeightArrays(convCount, opts.weightsSource);
        net = { onnx: new OnnxVgg(await loadOnnxRuntime(), raw.convs, opts.pooling) };
        modelHash = raw.modelHash;
      } else {
        ({ modelHash, ...net } = await tfjsNet());
      }
      disposables.push({ dispose: () => ("onnx" in net ? net.onnx : net.tfjs).dispose() });
      this.checkAbort();
      this.runInfo = { backend, modelHash };
      // What the onnx backend cannot do yet runs on tfjs: wasm takes over unless onnx was forced.
      const toTfjs = async (error: EngineError): Promise<VggFeatures> => {
        const info = await fallBackFromOnnx(error);
        if ("onnx" in net) {
          net.onnx.dispose();
          net = { tfjs: (await tfjsNet()).tfjs };
        }
        this.runInfo = { ...this.runInfo, backend: info.backend };
        return net.tfjs;
      };
      const tfjsFor = (what: string): Promise<VggFeatures> =>
        "onnx" in net
          ? toTfjs(new EngineError("bad_backend", `the onnx backend cannot ${what} yet`))
          : Promise.resolve(net.tfjs);
      const makeObjective = async (setup: Omit<VggObjectiveSetup, "net">): Promise<Objective> => {
        if ("onnx" in net && !setup.styleMasks) {
          try {
            return await OnnxObjective.create({ net: net.onnx, ...setup });
          } catch (error) {
            // A graph ONNX Runtime rejects
            if (!(error instanceof EngineError && error.code === "bad_backend")) throw error;
            await toTfjs(error);
          }
        }
        return new VggObjective({ net: await tfjsFor("take style masks"), ...setup });
      };

      // Deepest block used → the short side needed for its pooled map to be ≥ 1 px.
      const deepestBlock = VGG19_CONVS[convCount - 1]!.block;
      const minSide = 2 ** (deepestBlock - 1);

      const plan = opts.plan;
      // Drop coarse levels too small for the network; the final level must fit.
      const levels = plan.sizes.map((side, i) => ({
        side,
        iterations: plan.iterations[i]!,
        dims: fitWithin(content.width, content.height, side),
      }));
      while (levels.length > 1 && Math.min(levels[0]!.dims.width, levels[0]!.dims.height) < minSide) {
        const dropped = levels.shift()!;
        levels[0]!.iterations += dropped.iterations;
      }
      const final = levels[levels.length - 1]!.dims;
      if (Math.min(final.width, final.height) < minSide) {
        throw bad(
          `at size ${opts.size} the content becomes ${final.width}×${final.height}; layer ${VGG_LAYER_NAMES[convCount - 1]} needs ≥ ${minSide} px on the short side`,
        );
      }
      const counts = levels.map((l) => l.iterations);

      let pixels: Float32Array | null = null;
      let iteration = 0;
      let stopped = false;
      let lastLevel = 0;
      const objectiveWeights: ObjectiveWeights = {
        ...opts.weights,
        styleBlendWeights: [...opts.weights.styleBlendWeights],
        styleLayerWeights: [...opts.weights.styleLayerWeights],
      };

      for (let level = 0; level < levels.length && !stopped; level++) {
        if (counts[level] === 0) continue; // cut by a live iteration change; the next level takes over
        lastLevel = level;
        const { width, height } = levels[level]!.dims;
        const side = Math.max(width, height);
        const contentLevel = toFloatPixels(await resizeImage(content, width, height));
        const styleSide = Math.max(1, Math.round(opts.styleScale * side));
        const styleLevels: FloatImage[] = [];
        for (const [i, style] of styles.entries()) {
          const dims = fitWithin(style.width, style.height, styleSide);
          if (Math.min(dims.width, dims.height) < minSide) {
            throw bad(
              `style image ${i + 1} at style scale ${opts.styleScale} becomes ${dims.width}×${dims.height}; it needs ≥ ${minSide} px on the short side`,
            );
          }
          styleLevels.push({ ...dims, pixels: toFloatPixels(await resizeImage(style, dims.width, dims.height)) });
        }
        this.checkAbort();

        pixels = pixels
          ? upsample(pixels, this.snapshot!.width, this.snapshot!.height, width, height)
          : await this.initialPixels(width, height, contentLevel, styles);
        this.snapshot = { pixels: pixels.slice(), width, height, content: contentLevel };
        const levelMasks = await masksAtSize(masks, width, height);

        if (isTiled(width, height, opts.tile)) {
          const tiled = new TiledLevel({
            net: await tfjsFor("run tiled levels"),
            width,
            height,
            content: contentLevel,
            styles: styleLevels,
            masks: levelMasks,
            contentLayers: opts.contentLayers,
            styleLayers: opts.styleLayers,
            tile: opts.tile,
            optimizer: opts.optimizer,
            learningRate: opts.learningRate,
            ...(opts.signal ? { signal: opts.signal } : {}),
          });
          disposables.push(tiled);
          if (level === 0) this.readyDeferred.resolve({ ...this.runInfo });
          for (let pass = 0, doneInLevel = 0; doneInLevel < counts[level]!; pass++) {
            this.checkAbort();
            const applied = this.applyPending(objectiveWeights, counts, level, doneInLevel, iteration);
            if (applied.stop) stopped = true;
            if (applied.stop || applied.levelEnds) break;
            const started = performance.now();
            const steps = Math.min(TILE_STEPS, counts[level]! - doneInLevel);
            const terms = await tiled.pass(pixels, pass, steps, objectiveWeights);
            this.checkAbort();
            this.snapshot = { pixels: pixels.slice(), width, height, content: contentLevel };
            const ms = (performance.now() - started) / steps;
            for (const t of terms) this.log.push({ iteration: ++iteration, scale: level, width, height, ...t, ms });
            doneInLevel += steps;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          pixels = this.snapshot.pixels.slice();
          tiled.dispose();
          continue;
        }

        const objective = await makeObjective({
          content: { width, height, pixels: contentLevel },
          styles: styleLevels,
          contentLayers: opts.contentLayers,
          styleLayers: opts.styleLayers,
          weights: objectiveWeights,
          ...(levelMasks ? { styleMasks: levelMasks } : {}),
        });
        disposables.push(objective);
        if (level === 0) this.readyDeferred.resolve({ ...this.runInfo });

        const n = width * height * 3;
        const optimizer: Optimizer =
          opts.optimizer === "adam"
            ? new Adam(n, { learningRate: opts.learningRate })
            : new Lbfgs(n, { history: opts.tile === null ? 100 : TILED_LBFGS_HISTORY, learningRate: 1 });

        let doneInLevel = 0;
        while (doneInLevel < counts[level]!) {
          this.checkAbort();
          const applied = this.applyPending(objectiveWeights, counts, level, doneInLevel, iteration);
          if (applied.weightsChanged) {
            objective.setWeights(objectiveWeights);
            optimizer.reset(); // curvature pairs from the old objective would mislead L-BFGS
          }
          if (applied.stop) stopped = true;
          if (applied.stop || applied.levelEnds) break;

          const started = performance.now();
          const evaluation = await objective.evaluate(pixels, { signal: opts.signal });
          this.checkAbort();
          iteration++;
          doneInLevel++;
          this.snapshot = { pixels: pixels.slice(), width, height, content: contentLevel };
          const more = doneInLevel < counts[level]!;
          if (more) optimizer.step(pixels, evaluation.total, evaluation.grad);
          this.log.push({
            iteration,
            scale: level,
            width,
            height,
            total: evaluation.total,
            content: evaluation.content,
            style: evaluation.style,
            tv: evaluation.tv,
            ms: performance.now() - started,
          });
          // Let consumers run (and call update/abort) before the next iteration starts.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        // The last evaluated point is the level's result; carry it to the next level.
        pixels = this.snapshot.pixels.slice();
        objective.dispose();
      }

      let image = this.render(this.snapshot!);
      const target = levels[levels.length - 1]!.dims;
      if (lastLevel !== levels.length - 1 || image.width !== target.width) {
        image = await resizeImage(image, target.width, target.height); // stopped early at a coarse level
      }
      this.checkAbort();
      this.finalImage = image;
      this.finished = true;
      this.cleanup(disposables);
      this.readyDeferred.resolve({ ...this.runInfo }); // no-op unless no level ran
      this.log.end();
      this.resultDeferred.resolve(cloneImage(image));
    } catch (error) {
      this.finished = true;
      this.cleanup(disposables);
      this.readyDeferred.reject(error);
      this.log.end(error);
      this.resultDeferred.reject(error);
    }
  }

  private cleanup(disposables: { dispose(): void }[]): void {
    for (const d of disposables.reverse()) {
      try {
        d.dispose();
      } catch {
        // already disposed
      }
    }
    disposables.length = 0;
  }

  private async initialPixels(
    width: number,
    height: number,
    content: Float32Array,
    styles: RgbImage[],
  ): Promise<Float32Array> {
    const init = this.opts.init;
    if (init === "content") return content.slice();
    if (init === "style") {
      // The style with the largest blend weight, stretched to the output size.
      let best = 0;
      this.opts.styles.forEach((s, i) => {
        if (s.weight > this.opts.styles[best]!.weight) best = i;
      });
      return toFloatPixels(await resizeImage(styles[best]!, width, height));
    }
    if (init === "noise") {
      const rng = new Rng(this.opts.seed);
      const out = new Float32Array(width * height * 3);
      const meanRgb = [VGG_MEAN_BGR[2], VGG_MEAN_BGR[1], VGG_MEAN_BGR[0]];
      for (let i = 0; i < out.length; i++) out[i] = meanRgb[i % 3]! + NOISE_STD * rng.normal();
      return out;
    }
    const decoded = await decodeImage(init.image, { label: "init image" });
    return toFloatPixels(await resizeImage(decoded, width, height));
  }
}

/** Bilinear resize of a float RGB image (keeps values unclipped between levels). */
function upsample(
  pixels: Float32Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number,
): Float32Array {
  if (width === toWidth && height === toHeight) return pixels.slice();
  const resized = tf.tidy(() =>
    tf.image.resizeBilinear(tf.tensor4d(pixels, [1, height, width, 3]), [toHeight, toWidth], false, true),
  );
  try {
    return Float32Array.from(resized.dataSync()); // (returning a typed array from tidy walks every element)
  } finally {
    resized.dispose();
  }
}

function cloneImage(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, data: image.data.slice() };
}
