/**
 * Loads ONNX Runtime (onnxruntime-node) once per process and creates sessions from graphs
 * built in memory, on the CPU provider or on the WebGPU provider (Dawn on Vulkan, shipped in
 * the same package). A runtime that cannot be imported, or whose native binding cannot run a
 * one-node graph, is a bad_backend EngineError, so the automatic choice can move on; so is a
 * WebGPU provider that finds no adapter (probeWebgpu).
 */
import os from "node:os";
import type * as Ort from "onnxruntime-node";
import { EngineError } from "./errors.ts";
import { probeGraph } from "./onnx-graph.ts";
import { onnxArenaFromEnv, onnxThreadsFromEnv } from "./env.ts";

export type OrtModule = typeof Ort;
export type OrtSession = Ort.InferenceSession;

/** Where a session's nodes run: ONNX Runtime's CPU provider or its WebGPU provider. */
export type OnnxDevice = "cpu" | "webgpu";

const PACKAGE = "onnxruntime-node";

let loading: Promise<OrtModule> | null = null;

/** Threads per session: one per core (intra-op); the graph is a chain, so no inter-op pool. */
export function onnxThreads(): number {
  return onnxThreadsFromEnv() ?? os.availableParallelism();
}

/** The runtime, imported and checked on first use. */
export function loadOnnxRuntime(): Promise<OrtModule> {
  loading ??= importAndProbe().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

async function importAndProbe(): Promise<OrtModule> {
  let ort: OrtModule;
  try {
    // Through a variable: a missing or broken install must be an error we catch, not a load failure of the engine.
    const name: string = PACKAGE;
    const imported = (await import(name)) as OrtModule & { default?: OrtModule };
    ort = imported.InferenceSession ? imported : imported.default!;
    if (!ort?.InferenceSession) throw new Error("no InferenceSession export");
  } catch (error) {
    throw new EngineError("bad_backend", `${PACKAGE} cannot be loaded (${firstLine(error)})`, { cause: error });
  }
  try {
    const session = await ort.InferenceSession.create(probeGraph(), sessionOptions());
    const out = await session.run({ x: new ort.Tensor("float32", Float32Array.from([1, 2]), [2]) });
    const y = out.y?.data as Float32Array | undefined;
    await session.release();
    if (!y || y[0] !== 2 || y[1] !== 4) throw new Error(`a probe graph returned ${String(y)}`);
  } catch (error) {
    throw new EngineError("bad_backend", `${PACKAGE} loaded but cannot run a graph (${firstLine(error)})`, {
      cause: error,
    });
  }
  return ort;
}

/**
 * `outputsOnDevice`: the session's outputs stay in GPU buffers ("gpu-buffer" tensors), to be
 * fed to another session of the same device without a trip through the CPU.
 */
function sessionOptions(device: OnnxDevice = "cpu", outputsOnDevice = false): Ort.InferenceSession.SessionOptions {
  if (device === "webgpu") {
    return {
      executionProviders: ["webgpu"],
      // the CPU provider still exists beside it (shape computations of constant folding)
      intraOpNumThreads: onnxThreads(),
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      ...(outputsOnDevice ? { preferredOutputLocation: "gpu-buffer" as const } : {}),
    };
  }
  return {
    executionProviders: ["cpu"],
    intraOpNumThreads: onnxThreads(),
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // Arena on, memory pattern off (ATELIER_ONNX_ARENA=0 turns the arena off). Without the
    // arena every intermediate is a fresh malloc: the large ones are new mmaps whose pages fault
    // in and are zeroed on every evaluation, and glibc keeps the mid-sized ones it freed (idle
    // RSS at 512×384 stayed ~350 MB above the same run with MALLOC_MMAP_THRESHOLD_ fixed). The
    // arena reuses its blocks run after run; the memory pattern would add one whole-graph block
    // on top of them. Measured on the 2-core dev box, whole objective graph, median of 9
    // evaluations, peak RSS of the process:
    //   512×384: arena + no pattern 731 ms, 989 MB (flat from the first evaluation);
    //            no arena + pattern (before) 820–870 ms, 1.10–1.21 GB; arena + pattern 1.47 GB
    //   256×192: arena + no pattern 174 ms; no arena + pattern 209 ms
    enableCpuMemArena: onnxArenaFromEnv(),
    enableMemPattern: false,
  };
}

/** A session for a generated graph; a graph ONNX Runtime rejects is a clear error, not a crash later. */
export async function createSession(
  ort: OrtModule,
  model: Uint8Array,
  what: string,
  device: OnnxDevice = "cpu",
  outputsOnDevice = false,
): Promise<OrtSession> {
  try {
    return await ort.InferenceSession.create(model, sessionOptions(device, outputsOnDevice));
  } catch (error) {
    throw new EngineError("bad_backend", `ONNX Runtime rejected the generated ${what} graph: ${firstLine(error)}`, {
      cause: error,
    });
  }
}

let webgpuProbe: Promise<void> | null = null;

/**
 * Runs the probe graph on the WebGPU provider once per process: no Vulkan driver, or a driver
 * Dawn refuses, is a clear bad_backend error here instead of a failed session later.
 */
export function probeWebgpu(ort: OrtModule): Promise<void> {
  webgpuProbe ??= (async () => {
    try {
      const session = await ort.InferenceSession.create(probeGraph(), sessionOptions("webgpu"));
      const out = await session.run({ x: new ort.Tensor("float32", Float32Array.from([1, 2]), [2]) });
      const y = out.y?.data as Float32Array | undefined;
      await session.release();
      if (!y || y[0] !== 2 || y[1] !== 4) throw new Error(`a probe graph returned ${String(y)}`);
    } catch (error) {
      throw new EngineError(
        "bad_backend",
        `ONNX Runtime's WebGPU provider cannot run (${firstLine(error).replace(/^.* was false\. /, "")}); a GPU worker needs a Vulkan driver (mesa-vulkan-drivers for the software one)`,
        { cause: error },
      );
    }
  })().catch((error: unknown) => {
    webgpuProbe = null;
    throw error;
  });
  return webgpuProbe;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
