/**
 * The Gatys objective on ONNX Runtime (the `onnx` backend): the same loss terms and
 * gradient as VggObjective, from one generated graph per image size (onnx-graph.ts), so an
 * iteration is one session.run with no tfjs work at all. Its network and sessions: onnx-vgg.ts.
 * Weights, content activations and blended Grams are graph inputs: setWeights only refreshes
 * small input tensors.
 */
import { abortError } from "./errors.ts";
import {
  checkWeights,
  type EvaluateOptions,
  type Evaluation,
  type FloatImage,
  type Objective,
  type ObjectiveWeights,
} from "./objective.ts";
import { normaliseBlend } from "./losses.ts";
import { OBJECTIVE_IO, layerShape } from "./onnx-graph.ts";
import type { OrtModule, OrtSession } from "./onnx-runtime.ts";
import { checkMasks, fullMask, maskAtLayer, poolingsBefore, type StyleMask } from "./style-masks.ts";
import { layerIndex } from "./vgg.ts";
import type { OnnxVgg } from "./onnx-vgg.ts";

type Tensor = InstanceType<OrtModule["Tensor"]>;

export interface OnnxObjectiveSetup {
  net: OnnxVgg;
  content: FloatImage;
  styles: FloatImage[];
  contentLayers: readonly string[];
  styleLayers: readonly string[];
  weights: ObjectiveWeights;
  /** one per style at the output size (null: the whole image), as VggObjectiveSetup.styleMasks */
  styleMasks?: (StyleMask | null)[];
  /** grams[s].get(l), the styles' Grams computed elsewhere (a tiled level's); `styles` is then not read */
  styleGrams?: Map<number, Float32Array>[];
}

export class OnnxObjective implements Objective {
  readonly width: number;
  readonly height: number;
  private readonly ort: OrtModule;
  private readonly contentIdx: number[];
  private readonly styleIdx: number[];
  private readonly styleLayers: string[];
  private readonly contentLayers: string[];
  /** grams[s].get(l): Gram of style s at layer index l */
  private readonly grams: Map<number, Float32Array>[];
  /** the graph inputs other than the image */
  private fixed: Record<string, Tensor> = {};
  /** webgpu: `fixed` in GPU buffers, uploaded again after a change (null: not uploaded yet) */
  private onDevice: Record<string, Tensor> | null = null;
  /** webgpu: the session that uploads `fixed` (its buffers die with it: released last) */
  private uploader: Awaited<ReturnType<OnnxVgg["acquireUploader"]>> | null = null;
  private weights: ObjectiveWeights;
  /** masked runs: areas[s][k], style s's area at style layer k (0: the region vanishes there); null: blended */
  private readonly areas: number[][] | null;
  private disposed = false;

  private readonly net: OnnxVgg;

  private constructor(
    setup: OnnxObjectiveSetup,
    private readonly session: OrtSession,
    private readonly releaseSession: () => void,
    private readonly contentTargets: Map<number, Float32Array>,
    grams: Map<number, Float32Array>[],
  ) {
    this.ort = setup.net.ort;
    this.net = setup.net;
    this.width = setup.content.width;
    this.height = setup.content.height;
    this.contentLayers = [...setup.contentLayers];
    this.styleLayers = [...setup.styleLayers];
    this.contentIdx = this.contentLayers.map(layerIndex);
    this.styleIdx = this.styleLayers.map(layerIndex);
    this.grams = grams;
    this.weights = copyWeights(setup.weights);
    for (const i of this.contentIdx) {
      const target = contentTargets.get(i)!;
      const { c, h, w } = layerShape(i, this.width, this.height);
      this.fixed[OBJECTIVE_IO.contentTarget(i)] = new this.ort.Tensor("float32", target, [1, c, h, w]);
    }
    this.areas = setup.styleMasks ? this.setRegions(setup.styleMasks) : null;
    this.refresh(true);
  }

  /** Builds (or reuses) the graphs, computes the targets once and returns the objective. */
  static async create(setup: OnnxObjectiveSetup): Promise<OnnxObjective> {
    const { net, content, styles, weights, styleMasks, styleGrams } = setup;
    const styleCount = styleGrams?.length ?? styles.length;
    checkWeights(weights, styleCount, setup.styleLayers.length);
    if (styleMasks && styleMasks.length !== styleCount) {
      throw new RangeError(`styleMasks needs ${styleCount} entries (one per style), got ${styleMasks.length}`);
    }
    // Checked before any session: a bad mask throws with nothing to free.
    if (styleMasks) checkMasks(styleMasks, content.width, content.height);
    const contentIdx = setup.contentLayers.map(layerIndex);
    const styleIdx = setup.styleLayers.map(layerIndex);
    // Targets first: each targets session is released before the objective session exists,
    // so their weights and activations never add up.
    const contentTargets = (await net.targets(content, contentIdx, [])).content;
    const grams: Map<number, Float32Array>[] = styleGrams ? [...styleGrams] : [];
    if (!styleGrams) for (const style of styles) grams.push((await net.targets(style, [], styleIdx)).grams);
    const masked = styleMasks ? styleCount : 0;
    const acquired = await net.acquireObjectiveSession(content.width, content.height, contentIdx, styleIdx, masked);
    const { session, release } = acquired;
    try {
      return new OnnxObjective(setup, session, release, contentTargets, grams);
    } catch (error) {
      release();
      throw error;
    }
  }

  private set(name: string, tensor: Tensor): void {
    this.fixed[name]?.dispose();
    this.fixed[name] = tensor;
    this.dropDeviceCopy();
  }

  private dropDeviceCopy(): void {
    if (this.onDevice) for (const t of Object.values(this.onDevice)) t.dispose();
    this.onDevice = null;
  }

  /**
   * The inputs other than the image as the session takes them: on webgpu, in GPU buffers
   * (uploaded at the first evaluation and after each weight edit), so an iteration uploads
   * only the image and reads back only the terms and the gradient.
   */
  private async fixedInputs(): Promise<Record<string, Tensor>> {
    if (this.net.device !== "webgpu") return this.fixed;
    if (!this.onDevice) {
      this.uploader ??= await this.net.acquireUploader(
        Object.entries(this.fixed).map(([name, t]) => ({ name, dims: t.dims })),
      );
      this.onDevice = await this.uploader.upload(this.fixed);
    }
    return this.onDevice;
  }

  /**
   * Masked runs: each style's Gram and its mask at every style layer (style-masks.ts's pyramid),
   * divided by C·area as the graph takes it. Returns the areas (a vanished region gets weight 0).
   */
  private setRegions(masks: readonly (StyleMask | null)[]): number[][] {
    return masks.map((m, s) =>
      this.styleIdx.map((l, k) => {
        const { c, h, w } = layerShape(l, this.width, this.height);
        const resized = maskAtLayer(m ?? fullMask(this.width, this.height), poolingsBefore(this.styleLayers[k]!));
        const area = resized.values.reduce((a, v) => a + v, 0);
        const scaled = area > 0 ? resized.values.map((v) => v / (c * area)) : new Float32Array(h * w);
        this.set(OBJECTIVE_IO.regionMask(l, s), new this.ort.Tensor("float32", scaled, [1, h * w]));
        this.set(OBJECTIVE_IO.regionTarget(l, s), new this.ort.Tensor("float32", this.grams[s]!.get(l)!, [c, c]));
        return area;
      }),
    );
  }

  /** Remakes the small input tensors from the weights; the blended Grams only when the blend changed. */
  private refresh(blendChanged: boolean): void {
    const scalar = (v: number) => new this.ort.Tensor("float32", Float32Array.of(v), [1]);
    const set = (name: string, tensor: Tensor) => this.set(name, tensor);
    set(OBJECTIVE_IO.contentWeight, scalar(this.weights.contentWeight));
    set(OBJECTIVE_IO.tvWeight, scalar(this.weights.tvWeight));
    if (this.areas) {
      // as the tfjs objective: each region weighted by its style's raw blend weight
      const areas = this.areas;
      this.styleIdx.forEach((l, k) => {
        const layerWeight = this.weights.styleWeight * this.weights.styleLayerWeights[k]!;
        areas.forEach((perLayer, s) => {
          const w = perLayer[k]! > 0 ? layerWeight * this.weights.styleBlendWeights[s]! : 0;
          set(OBJECTIVE_IO.regionWeight(l, s), scalar(w));
        });
      });
      return;
    }
    this.styleIdx.forEach((l, k) =>
      set(OBJECTIVE_IO.styleWeight(l), scalar(this.weights.styleWeight * this.weights.styleLayerWeights[k]!)),
    );
    if (!blendChanged) return;
    const blend = normaliseBlend(this.weights.styleBlendWeights);
    for (const l of this.styleIdx) {
      const size = this.grams[0]!.get(l)!.length;
      const c = Math.round(Math.sqrt(size));
      const mixed = new Float32Array(size);
      this.grams.forEach((perStyle, s) => {
        const g = perStyle.get(l)!;
        const w = blend[s]!;
        if (w !== 0) for (let k = 0; k < size; k++) mixed[k] = mixed[k]! + w * g[k]!;
      });
      set(OBJECTIVE_IO.gramTarget(l), new this.ort.Tensor("float32", mixed, [c, c]));
    }
  }

  setWeights(update: Partial<ObjectiveWeights>): void {
    const next: ObjectiveWeights = copyWeights({ ...this.weights, ...update });
    checkWeights(next, this.grams.length, this.styleLayers.length);
    const blendChanged = next.styleBlendWeights.some((w, i) => w !== this.weights.styleBlendWeights[i]);
    this.weights = next;
    this.refresh(blendChanged);
  }

  async evaluate(pixels: Float32Array, options: EvaluateOptions = {}): Promise<Evaluation> {
    if (this.disposed) throw new Error("OnnxObjective: evaluate after dispose");
    if (pixels.length !== this.width * this.height * 3) {
      throw new RangeError(`OnnxObjective: expected ${this.width * this.height * 3} values, got ${pixels.length}`);
    }
    const { signal } = options;
    // session.run holds the event loop for the whole graph: let timers and sockets run (an
    // abort arrives this way) before it starts, and check again after.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw abortError(signal);
    const image = new this.ort.Tensor("float32", pixels, [pixels.length]);
    let out: Record<string, Tensor> | null = null;
    try {
      const fixed = await this.fixedInputs();
      if (signal?.aborted) throw abortError(signal);
      out = await this.session.run({ ...fixed, [OBJECTIVE_IO.image]: image });
      if (signal?.aborted) throw abortError(signal);
      const terms = out[OBJECTIVE_IO.terms]!.data as Float32Array;
      const grad = out[OBJECTIVE_IO.grad]!.data as Float32Array;
      const nContent = this.contentIdx.length;
      let content = 0;
      for (let i = 0; i < nContent; i++) content += terms[i]!;
      const style: Record<string, number> = {};
      this.styleLayers.forEach((l, k) => (style[l] = terms[nContent + k]!));
      const tv = terms[terms.length - 1]!;
      const total = content + Object.values(style).reduce((a, b) => a + b, 0) + tv;
      return { total, content, style, tv, grad };
    } finally {
      image.dispose();
      if (out) for (const t of Object.values(out)) t.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of Object.values(this.fixed)) t.dispose();
    this.fixed = {};
    this.dropDeviceCopy();
    this.uploader?.release();
    this.uploader = null;
    this.releaseSession();
  }
}

function copyWeights(w: ObjectiveWeights): ObjectiveWeights {
  return { ...w, styleBlendWeights: [...w.styleBlendWeights], styleLayerWeights: [...w.styleLayerWeights] };
}
