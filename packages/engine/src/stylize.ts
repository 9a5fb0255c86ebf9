/**
 * The Run API: stylize(options) → RunHandle (see api.ts).
 *
 * stylize() validates the options synchronously (an EngineError "bad_options" is thrown
 * right away) and starts the run in the background: backend, images, weights, then per
 * scale level the objective (targets computed once) and the optimiser loop. Everything that
 * can only fail later (missing weights, unreadable images) rejects `ready`, `result` and the
 * event iterator together.
 */
import type { LiveWeights, RgbImage, RunHandle, EngineInfo, StylizeOptions } from "./api.ts";
import { initBackend, type BackendInfo } from "./backend.ts";
import { toFloatPixels, toRgbImage, transferLuminance } from "./color.ts";
import { matchColors, matchImageColors } from "./color-match.ts";
import { abortError } from "./errors.ts";
import { decodeImage, resizeImage } from "./image.ts";
import { decodeStyleMasks, masksAtSize } from "./mask-images.ts";
import { TILED_LBFGS_HISTORY, isTiled } from "./tiles.ts";
import { TiledLevel } from "./tiled-level.ts";
import { replanIterations, stalled } from "./multiscale.ts";
import { continueLevels, planLevels, styleDimsAt, type Level } from "./level-plan.ts";
import { WholeLevel, type LevelSteps } from "./level-steps.ts";
import { RunNetwork } from "./network.ts";
import type { FloatImage, ObjectiveWeights } from "./objective.ts";
import { Adam } from "./optimizers/adam.ts";
import { Lbfgs } from "./optimizers/lbfgs.ts";
import type { Optimizer } from "./optimizers/optimizer.ts";
import { convsNeeded } from "./vgg.ts";
import { defaultWeightsSource, loadVggWeightArrays, loadVggWeights } from "./weights.ts";
import { DEFAULTS, DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS } from "./defaults.ts";
import { deferred, EventLog } from "./run-events.ts";
import { initialPixels, NOISE_STD, upsample } from "./init-image.ts";
import { LIMITS, checkLiveWeights, resolveOptions, type ResolvedOptions } from "./stylize-options.ts";

export { DEFAULTS, DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, LIMITS, NOISE_STD, resolveOptions };

/** What prepare() gathers once per run. */
interface RunInputs {
  network: RunNetwork;
  content: RgbImage;
  /** after match-style colour control, when asked */
  styles: RgbImage[];
  masks: (RgbImage | null)[];
  convCount: number;
  levels: Level[];
}

/** Where the run is: shared by the levels. */
interface Progress {
  /** iterations per level (re-planned by a live iteration change) */
  counts: number[];
  /** iterations done, all levels */
  iteration: number;
  stopped: boolean;
  /** the image being optimised at the current level */
  pixels: Float32Array | null;
  /** the live weights */
  weights: ObjectiveWeights;
}

type LevelMasks = Awaited<ReturnType<typeof masksAtSize>>;

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
  if (info.backend === "onnx" || info.backend === "webgpu") await loadVggWeightArrays(count, source);
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
      const inputs = await this.prepare(disposables);
      const { levels } = inputs;
      const progress: Progress = {
        counts: levels.map((l) => l.iterations),
        iteration: 0,
        stopped: false,
        pixels: null,
        weights: {
          ...this.opts.weights,
          styleBlendWeights: [...this.opts.weights.styleBlendWeights],
          styleLayerWeights: [...this.opts.weights.styleLayerWeights],
        },
      };
      let lastLevel = 0;
      for (let level = 0; level < levels.length && !progress.stopped; level++) {
        if (progress.counts[level] === 0) continue; // cut by a live iteration change; the next level takes over
        lastLevel = level;
        await this.runLevel(inputs, progress, level, disposables);
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

  /** Backend, images, masks, network and the levels the run will run. */
  private async prepare(disposables: { dispose(): void }[]): Promise<RunInputs> {
    this.checkAbort();
    const { backend, adapter } = await initBackend();
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
    const network = await RunNetwork.load(backend, {
      convCount,
      pooling: opts.pooling,
      weightsSource: opts.weightsSource,
    });
    disposables.push(network);
    this.checkAbort();
    this.runInfo = {
      backend,
      modelHash: network.modelHash,
      ...(adapter ? { adapter: { vendor: adapter.vendor, device: adapter.device, software: adapter.software } } : {}),
    };
    const planned = planLevels(opts.plan, content, convCount, opts.size);
    const init = opts.init;
    const levels =
      typeof init === "object" && init.continues
        ? continueLevels(planned, await decodeImage(init.image, { label: "init image" }))
        : planned;
    this.runInfo.levels = levels.map((l) => ({ ...l.dims, iterations: l.iterations }));
    return { network, content, styles, masks, convCount, levels };
  }

  /** One level, whole or tiled: its images, its starting point, its steps. */
  private async runLevel(
    inputs: RunInputs,
    progress: Progress,
    level: number,
    disposables: { dispose(): void }[],
  ): Promise<void> {
    const opts = this.opts;
    const { width, height } = inputs.levels[level]!.dims;
    const side = Math.max(width, height);
    const content = toFloatPixels(await resizeImage(inputs.content, width, height));
    const styles: FloatImage[] = [];
    for (const [i, style] of inputs.styles.entries()) {
      const dims = styleDimsAt(style, i, side, opts.styleScale, inputs.convCount);
      styles.push({ ...dims, pixels: toFloatPixels(await resizeImage(style, dims.width, dims.height)) });
    }
    this.checkAbort();

    progress.pixels = progress.pixels
      ? upsample(progress.pixels, this.snapshot!.width, this.snapshot!.height, width, height)
      : await initialPixels(this.opts, width, height, content, inputs.styles);
    this.snapshot = { pixels: progress.pixels.slice(), width, height, content };
    const masks = await masksAtSize(inputs.masks, width, height);

    const steps = await this.levelSteps(inputs.network, { width, height, content, styles, masks }, progress.weights);
    disposables.push(steps);
    if (level === 0) this.readyDeferred.resolve({ ...this.runInfo });
    await this.iterate(steps, progress, level, content);
    // The last evaluated point is the level's result; carry it to the next level.
    progress.pixels = this.snapshot.pixels.slice();
    steps.dispose();
  }

  /** A tiled level when the level is larger than the tile, else one objective over the whole image. */
  private async levelSteps(
    network: RunNetwork,
    level: { width: number; height: number; content: Float32Array; styles: FloatImage[]; masks: LevelMasks },
    weights: ObjectiveWeights,
  ): Promise<LevelSteps> {
    const opts = this.opts;
    const { width, height, content, styles, masks } = level;
    if (isTiled(width, height, opts.tile)) {
      const objectives = await network.tileObjectives({
        width,
        height,
        tile: opts.tile,
        styles,
        masked: masks !== undefined,
        contentLayers: opts.contentLayers,
        styleLayers: opts.styleLayers,
      });
      return new TiledLevel({
        objectives,
        width,
        height,
        content,
        masks,
        tile: opts.tile,
        optimizer: opts.optimizer,
        learningRate: opts.learningRate,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
    const objective = await network.objective({
      content: { width, height, pixels: content },
      styles,
      contentLayers: opts.contentLayers,
      styleLayers: opts.styleLayers,
      weights,
      ...(masks ? { styleMasks: masks } : {}),
    });
    if (network.backend !== this.runInfo.backend)
      // fell back: no adapter any more, the same levels
      this.runInfo = {
        backend: network.backend,
        modelHash: this.runInfo.modelHash,
        ...(this.runInfo.levels ? { levels: this.runInfo.levels } : {}),
      };
    const n = width * height * 3;
    const optimizer: Optimizer =
      opts.optimizer === "adam"
        ? new Adam(n, { learningRate: opts.learningRate })
        : new Lbfgs(n, { history: opts.tile === null ? 100 : TILED_LBFGS_HISTORY, learningRate: 1 });
    return new WholeLevel(objective, optimizer, opts.signal);
  }

  /**
   * The shared step of every level: take live edits, advance, keep the snapshot, emit one
   * event per iteration, and let consumers run (and call update/abort) before the next.
   */
  private async iterate(steps: LevelSteps, progress: Progress, level: number, content: Float32Array): Promise<void> {
    const { width, height } = this.snapshot!;
    const counts = progress.counts;
    let doneInLevel = 0;
    const losses: number[] = []; // this level's totals, for the stall stop
    const final = counts.length - 1;
    while (doneInLevel < counts[level]!) {
      this.checkAbort();
      const applied = this.applyPending(progress.weights, counts, level, doneInLevel, progress.iteration);
      if (applied.weightsChanged) steps.weightsChanged(progress.weights);
      if (applied.stop) progress.stopped = true;
      if (applied.stop || applied.levelEnds) break;

      const started = performance.now();
      const n = Math.min(steps.stride, counts[level]! - doneInLevel);
      const last = doneInLevel + n >= counts[level]!;
      const { terms, at } = await steps.advance(progress.pixels!, n, last, progress.weights);
      this.checkAbort();
      this.snapshot = { pixels: at, width, height, content };
      const ms = (performance.now() - started) / terms.length;
      for (const t of terms) {
        this.log.push({
          iteration: ++progress.iteration,
          scale: level,
          width,
          height,
          total: t.total,
          content: t.content,
          style: t.style,
          tv: t.tv,
          ms,
        });
      }
      doneInLevel += n;
      for (const t of terms) losses.push(t.total);
      if (
        this.opts.stall !== null &&
        level < final &&
        doneInLevel < counts[level]! &&
        stalled(losses, this.opts.stall)
      ) {
        // this level has settled: its iterations pay more at the final level
        counts[final]! += counts[level]! - doneInLevel;
        counts[level] = doneInLevel;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
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
}

function cloneImage(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, data: image.data.slice() };
}
