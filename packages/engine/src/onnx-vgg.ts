/**
 * VGG-19 on ONNX Runtime for the `onnx` backend: the weights and the sessions of one run, keyed
 * by size — a multi-scale run builds one objective graph per level (onnx-graph.ts), and the
 * targets graphs for the content and style images. OnnxObjective (onnx-objective.ts) runs them.
 */
import type { FloatImage } from "./objective.ts";
import {
  TARGETS_IO,
  objectiveGraph,
  targetsGraph,
  uploadGraph,
  type ConvGradient,
  type RawConv,
} from "./onnx-graph.ts";
import { createSession, type OnnxDevice, type OrtModule, type OrtSession } from "./onnx-runtime.ts";
import type { Pooling } from "./vgg.ts";
import { onnxConvGradientFromEnv, onnxWinogradFromEnv } from "./env.ts";
import { winogradPlan, type ConvAlgorithms } from "./onnx-winograd.ts";

/**
 * Conv input gradients as a forward Conv with the flipped kernel (ATELIER_ONNX_CONV_GRADIENT=
 * transpose picks ConvTranspose with the forward kernel). Measured on the 2-core dev box, the
 * whole objective graph at 256×256, both sessions in one process, 10 interleaved evaluations
 * each (shared machine, load ≈ 4): flipped Conv median 0.92 s wall / 0.85 s CPU, ConvTranspose
 * 1.01 s / 0.94 s. ORT runs Conv in its blocked NCHWc layout; ConvTranspose is GEMM + col2im.
 */
const ONNX_CONV_GRADIENT: ConvGradient = onnxConvGradientFromEnv();

type Tensor = InstanceType<OrtModule["Tensor"]>;

/** One objective session and how many live objectives use it. */
interface SharedSession {
  session: Promise<OrtSession>;
  users: number;
}

export class OnnxVgg {
  private readonly sessions = new Map<string, SharedSession>();
  private disposed = false;

  constructor(
    readonly ort: OrtModule,
    private readonly convs: readonly RawConv[],
    readonly pooling: Pooling,
    private readonly convGradient: ConvGradient = ONNX_CONV_GRADIENT,
    /** "webgpu": every session on ONNX Runtime's WebGPU provider, graphs built for it */
    readonly device: OnnxDevice = "cpu",
    /** direct or Winograd per conv (onnx-winograd.ts); CPU graphs only */
    private readonly convAlgorithms: ConvAlgorithms | undefined = device === "cpu"
      ? winogradPlan(onnxWinogradFromEnv())
      : undefined,
  ) {}

  /**
   * A session for one graph key, shared by its users at the same time; `release` when done.
   * The last release frees it: with ONNX Runtime's arena a session holds its high-water memory
   * until released, and a multi-scale run never returns to a finished level's size. (A tiled
   * level holds one lease per tile graph, so its tiles reuse the sessions.)
   */
  private async acquire(
    key: string,
    build: () => Uint8Array,
    what: string,
    outputsOnDevice = false,
  ): Promise<{ session: OrtSession; release: () => void }> {
    if (this.disposed) throw new Error("OnnxVgg: used after dispose");
    let entry = this.sessions.get(key);
    if (!entry) {
      const session = createSession(this.ort, build(), what, this.device, outputsOnDevice);
      const created: SharedSession = { session, users: 0 };
      // a failed build is not cached: the next call reports (or retries) it afresh
      created.session.catch(() => {
        if (this.sessions.get(key) === created) this.sessions.delete(key);
      });
      this.sessions.set(key, created);
      entry = created;
    }
    const shared = entry;
    shared.users++;
    let session: OrtSession;
    try {
      session = await shared.session;
    } catch (error) {
      shared.users--;
      throw error;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      shared.users--;
      if (shared.users === 0 && this.sessions.get(key) === shared) {
        this.sessions.delete(key);
        session.release().catch(() => {});
      }
    };
    return { session, release };
  }

  /** The objective session for one size and layer set (maskedStyles: onnx-style-terms.ts). */
  acquireObjectiveSession(
    width: number,
    height: number,
    content: number[],
    style: number[],
    maskedStyles = 0,
  ): Promise<{ session: OrtSession; release: () => void }> {
    const key = `objective|${width}x${height}|${content.join(",")}|${style.join(",")}|${maskedStyles}`;
    const build = () =>
      objectiveGraph({
        width,
        height,
        convs: this.convs,
        pooling: this.pooling,
        contentLayers: content,
        styleLayers: style,
        convGradient: this.convGradient,
        maskedStyles,
        device: this.device,
        ...(this.convAlgorithms ? { convAlgorithms: this.convAlgorithms } : {}),
      });
    return this.acquire(key, build, `${width}×${height} objective`);
  }

  /** The targets session for one size and layer set (regions: targetsGraph's summed region Grams). */
  acquireTargetsSession(
    width: number,
    height: number,
    content: number[],
    style: number[],
    regions = false,
  ): Promise<{ session: OrtSession; release: () => void }> {
    const key = `targets|${width}x${height}|${content.join(",")}|${style.join(",")}|${regions}`;
    const spec = {
      width,
      height,
      convs: this.convs,
      pooling: this.pooling,
      contentLayers: content,
      styleLayers: style,
      device: this.device,
      // the same forward as the objective's: the content loss at the content image stays 0
      ...(this.convAlgorithms ? { convAlgorithms: this.convAlgorithms } : {}),
    };
    return this.acquire(key, () => targetsGraph({ ...spec, regions }), `${width}×${height} targets`);
  }

  /**
   * Content activations and Grams of one image, as flat arrays per layer index. With
   * `regions` (a weight per position at each style layer), the Grams are the unnormalised
   * region sums (F ∘ r) Fᵀ.
   */
  async targets(
    image: FloatImage,
    content: number[],
    style: number[],
    regions?: Map<number, Float32Array>,
  ): Promise<{ content: Map<number, Float32Array>; grams: Map<number, Float32Array> }> {
    // Released after one run unless someone holds a lease (a tiled level): targets are
    // computed once per level, and each session holds its own copy of the weights (measured at
    // 512×384: three live sessions per level put the run's peak RSS ~0.2 GB higher).
    const { width, height } = image;
    const { session, release } = await this.acquireTargetsSession(width, height, content, style, !!regions);
    const inputs: Record<string, Tensor> = {
      [TARGETS_IO.image]: new this.ort.Tensor("float32", image.pixels, [image.pixels.length]),
    };
    for (const [l, r] of regions ?? []) inputs[TARGETS_IO.region(l)] = new this.ort.Tensor("float32", r, [1, r.length]);
    try {
      const out = await session.run(inputs);
      const result = { content: new Map<number, Float32Array>(), grams: new Map<number, Float32Array>() };
      for (const i of content) result.content.set(i, out[TARGETS_IO.content(i)]!.data as Float32Array);
      for (const i of style) result.grams.set(i, out[TARGETS_IO.gram(i)]!.data as Float32Array);
      for (const t of Object.values(out)) t.dispose();
      return result;
    } finally {
      for (const t of Object.values(inputs)) t.dispose();
      release();
    }
  }

  /**
   * A session that puts tensors of these names and shapes into GPU buffers (webgpu only):
   * fed to a session from there, they are not copied to the device again on every run. The
   * buffers belong to the session that made them: dispose them before `release`.
   */
  async acquireUploader(tensors: readonly { name: string; dims: readonly number[] }[]): Promise<{
    upload: (values: Record<string, Tensor>) => Promise<Record<string, Tensor>>;
    release: () => void;
  }> {
    const key = `upload|${tensors.map((t) => `${t.name}:${t.dims.join("x")}`).join(",")}`;
    const lease = await this.acquire(key, () => uploadGraph(tensors), "upload", true);
    const upload = (values: Record<string, Tensor>) =>
      lease.session.run(Object.fromEntries(tensors.map((t, k) => [`in_${k}`, values[t.name]!])));
    return { upload, release: lease.release };
  }

  /** How many sessions are open (built or being built): what the leases keep alive. */
  get openSessions(): number {
    return this.sessions.size;
  }

  /** Releases every session (idempotent). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const { session } of this.sessions.values()) session.then((s) => s.release()).catch(() => {});
    this.sessions.clear();
  }
}
