/**
 * The run's network on the backend initBackend chose: VGG-19 on ONNX Runtime (OnnxVgg, on its
 * CPU provider for onnx or its WebGPU provider for webgpu) or on
 * TensorFlow.js (VggFeatures), and every objective a run asks of it — a whole level's
 * objective and a tiled level's tile objectives. The only place that knows which kind of
 * network a run holds: the driver (stylize.ts) and the tiled level see the Objective seam.
 *
 * A graph ONNX Runtime rejects ("bad_backend" while building a session) moves the run to
 * tfjs on wasm unless ATELIER_BACKEND forced the backend (backend.ts's fallBackFromOnnx).
 */
import { fallBackFromOnnx, type BackendName } from "./backend.ts";
import { EngineError } from "./errors.ts";
import { VggObjective, type FloatImage, type Objective, type VggObjectiveSetup } from "./objective.ts";
import { OnnxObjective } from "./onnx-objective.ts";
import { OnnxVgg } from "./onnx-vgg.ts";
import { loadOnnxRuntime } from "./onnx-runtime.ts";
import { OnnxTileObjectives } from "./onnx-tiles.ts";
import { TfjsTileObjectives, type TileObjectives } from "./tiled-level.ts";
import { tileGrid } from "./tiles.ts";
import { VggFeatures, type Pooling } from "./vgg.ts";
import { loadVggWeightArrays, loadVggWeights } from "./weights.ts";

export interface NetworkSetup {
  /** VGG-19's first `convCount` convs are loaded */
  convCount: number;
  pooling: Pooling;
  weightsSource: string;
}

/** What a level's objective is built from (the network comes from RunNetwork). */
export type ObjectiveSetup = Omit<VggObjectiveSetup, "net" | "styleGrams">;

/** What a tiled level's tile objectives are built from. */
export interface TileObjectivesSetup {
  width: number;
  height: number;
  tile: number;
  styles: FloatImage[];
  masked: boolean;
  contentLayers: readonly string[];
  styleLayers: readonly string[];
}

type Net = { kind: "onnx"; onnx: OnnxVgg } | { kind: "tfjs"; tfjs: VggFeatures };

export class RunNetwork {
  private constructor(
    private net: Net,
    private current: BackendName,
    /** hash of the weights file the network was built from */
    readonly modelHash: string,
    private readonly setup: NetworkSetup,
  ) {}

  /** Loads the weights in the form `backend` uses and builds the network. */
  static async load(backend: BackendName, setup: NetworkSetup): Promise<RunNetwork> {
    if (backend === "onnx" || backend === "webgpu") {
      const raw = await loadVggWeightArrays(setup.convCount, setup.weightsSource);
      const device = backend === "webgpu" ? "webgpu" : "cpu";
      const onnx = new OnnxVgg(await loadOnnxRuntime(), raw.convs, setup.pooling, undefined, device);
      return new RunNetwork({ kind: "onnx", onnx }, backend, raw.modelHash, setup);
    }
    const { tfjs, modelHash } = await tfjsNet(setup);
    return new RunNetwork({ kind: "tfjs", tfjs }, backend, modelHash, setup);
  }

  /** The backend the network runs on now (it changes when onnx falls back). */
  get backend(): BackendName {
    return this.current;
  }

  /** A whole level's objective (targets computed once, at creation). */
  async objective(setup: ObjectiveSetup): Promise<Objective> {
    const net = this.net;
    if (net.kind === "tfjs") return new VggObjective({ net: net.tfjs, ...setup });
    try {
      return await OnnxObjective.create({ net: net.onnx, ...setup });
    } catch (error) {
      // A graph ONNX Runtime rejects
      if (!(error instanceof EngineError && error.code === "bad_backend")) throw error;
      return new VggObjective({ net: await this.toTfjs(error), ...setup });
    }
  }

  /** The tile objectives of a tiled level (the styles' whole-image Grams computed once). */
  async tileObjectives(setup: TileObjectivesSetup): Promise<TileObjectives> {
    const { styles, contentLayers, styleLayers, tile } = setup;
    const net = this.net;
    if (net.kind === "tfjs") return new TfjsTileObjectives(net.tfjs, styles, contentLayers, styleLayers, tile);
    const first = tileGrid(setup.width, setup.height, tile, 0)[0]!; // every tile of a level has its size
    return OnnxTileObjectives.create({
      net: net.onnx,
      tileWidth: first.width,
      tileHeight: first.height,
      styles,
      styleCount: styles.length,
      masked: setup.masked,
      contentLayers,
      styleLayers,
      tile,
    });
  }

  dispose(): void {
    if (this.net.kind === "onnx") this.net.onnx.dispose();
    else this.net.tfjs.dispose();
  }

  /** A graph ONNX Runtime rejects: wasm takes over unless onnx was forced. */
  private async toTfjs(error: EngineError): Promise<VggFeatures> {
    const info = await fallBackFromOnnx(error);
    if (this.net.kind === "onnx") {
      this.net.onnx.dispose();
      this.net = { kind: "tfjs", tfjs: (await tfjsNet(this.setup)).tfjs };
    }
    this.current = info.backend;
    return this.net.tfjs;
  }
}

/**
 * Input gradients through the network are forward convs with flipped kernels on every tfjs
 * backend: one code path, ~10× faster than Conv2DBackpropInput on wasm, and on libtensorflow a
 * forward conv costs what its native input gradient does.
 */
async function tfjsNet(setup: NetworkSetup): Promise<{ tfjs: VggFeatures; modelHash: string }> {
  const weights = await loadVggWeights(setup.convCount, setup.weightsSource);
  return {
    tfjs: new VggFeatures(weights, { pooling: setup.pooling, gradient: "flipped" }),
    modelHash: weights.modelHash,
  };
}
