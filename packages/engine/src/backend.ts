/**
 * Picks and initialises the engine's backend, once per process.
 *
 * Order (autoOrder): webgpu (ONNX Runtime's WebGPU provider, when Vulkan shows a real GPU
 * adapter: gpu-adapter.ts) → tfjs-node-gpu (when installed AND a CUDA GPU is visible) → onnx
 * (ONNX Runtime on the CPU, onnx-objective.ts) → tfjs-node → wasm. A software adapter
 * (lavapipe's llvmpipe) is never chosen automatically: it is a CPU, slower than onnx on the same
 * cores. ATELIER_BACKEND=webgpu|onnx|tensorflow-gpu|tensorflow|wasm|cpu forces one (and fails
 * loudly if it cannot be loaded; webgpu runs on whatever adapter Vulkan has, llvmpipe included). The tfjs-node packages are
 * optional dependencies that may be installed without their native binding: importing them
 * throws, which we treat as "not available".
 *
 * With onnx, tfjs still does the few image operations outside the objective (the bilinear
 * upsampling between multi-scale levels) on its plain-JavaScript cpu backend: no wasm
 * threads compete with ONNX Runtime's.
 *
 * wasm in Node: tfjs-backend-wasm refuses threads under Node and, on a 2-core machine, caps
 * XNNPACK's pool at cores/2 = 1 thread. Both are browser-isms: Emscripten's pthreads run fine
 * on worker_threads. We enable the threaded SIMD build (measured on the 2-core dev box:
 * 3×3×128→128 conv at 128², ~125 ms with 2 threads vs ~210 ms with 1) and fall back to
 * single-threaded SIMD if anything about that fails.
 */
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { Worker as NodeWorker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import { EngineError } from "./errors.ts";
import { adapterLabel, detectAdapter, type GpuAdapter } from "./gpu-adapter.ts";
import { loadOnnxRuntime, onnxThreads, probeWebgpu } from "./onnx-runtime.ts";
import { registerTfGradients } from "./tf-gradients.ts";
import { backendFromEnv, cudaVisibleDevices, wasmThreadsFromEnv } from "./env.ts";

export type BackendName = "webgpu" | "onnx" | "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";
export const BACKEND_NAMES: readonly BackendName[] = ["webgpu", "onnx", "tensorflow-gpu", "tensorflow", "wasm", "cpu"];

export interface BackendInfo {
  /** Which backend runs the math: the ATELIER_BACKEND vocabulary. */
  backend: BackendName;
  /** Human-readable detail, e.g. "wasm simd, 2 threads". */
  detail: string;
  /** webgpu: the adapter it runs on */
  adapter?: GpuAdapter;
}

/**
 * The backends the automatic choice tries, in order: a real GPU adapter first (webgpu), then
 * CUDA through libtensorflow, then the CPU ones. A software adapter is left out.
 */
export function autoOrder(machine: { adapter: GpuAdapter | null; cuda: boolean }): BackendName[] {
  const order: BackendName[] = [];
  if (machine.adapter && !machine.adapter.software) order.push("webgpu");
  if (machine.cuda) order.push("tensorflow-gpu");
  order.push("onnx", "tensorflow", "wasm");
  return order;
}

let initialised: Promise<BackendInfo> | null = null;

/** Initialises the backend once; later calls return the same result. */
export function initBackend(): Promise<BackendInfo> {
  initialised ??= chooseBackend().catch((error: unknown) => {
    initialised = null; // let a later call retry (e.g. after the env is fixed)
    throw error;
  });
  return initialised;
}

/** The active backend, if initBackend has finished. */
export function currentBackend(): BackendInfo | null {
  return settled;
}
let settled: BackendInfo | null = null;

async function chooseBackend(): Promise<BackendInfo> {
  const forced = backendFromEnv();
  let info: BackendInfo;
  if (forced) {
    if (!(BACKEND_NAMES as readonly string[]).includes(forced)) {
      throw new EngineError(
        "bad_backend",
        `ATELIER_BACKEND=${forced} is not a backend; use one of ${BACKEND_NAMES.join(", ")}`,
      );
    }
    info = await loadBackend(forced as BackendName);
  } else {
    info = await autoBackend();
  }
  settled = info;
  return info;
}

async function autoBackend(): Promise<BackendInfo> {
  for (const name of autoOrder({ adapter: await gpuAdapter(), cuda: cudaGpuVisible() })) {
    const info = await tryLoad(name);
    if (info) return info;
  }
  return loadBackend("cpu");
}

let adapterOnce: Promise<GpuAdapter | null> | null = null;

/** The Vulkan adapter the WebGPU provider will use (detected once per process). */
function gpuAdapter(): Promise<GpuAdapter | null> {
  adapterOnce ??= detectAdapter();
  return adapterOnce;
}

async function tryLoad(name: BackendName): Promise<BackendInfo | null> {
  try {
    return await loadBackend(name);
  } catch {
    return null;
  }
}

async function loadBackend(name: BackendName): Promise<BackendInfo> {
  if (name !== "onnx" && name !== "webgpu") registerTfGradients();
  switch (name) {
    case "webgpu":
      return loadWebgpu();
    case "onnx":
      return loadOnnx();
    case "tensorflow-gpu":
      return loadTfjsNode("@tensorflow/tfjs-node-gpu", "tensorflow-gpu");
    case "tensorflow":
      return loadTfjsNode("@tensorflow/tfjs-node", "tensorflow");
    case "wasm":
      return loadWasm();
    case "cpu":
      await loadTfjsCpu();
      return { backend: "cpu", detail: "cpu (plain JavaScript)" };
  }
}

async function loadTfjsCpu(): Promise<void> {
  await import("@tensorflow/tfjs-backend-cpu");
  if (!(await tf.setBackend("cpu"))) throw new EngineError("bad_backend", "the cpu backend failed to initialise");
  // Its first-use banner recommends tfjs-node, which we have already tried: keep stderr clean.
  (tf.backend() as { firstUse?: boolean }).firstUse = false;
}

async function loadOnnx(): Promise<BackendInfo> {
  const ort = await loadOnnxRuntime();
  await loadTfjsCpu();
  const threads = onnxThreads();
  return {
    backend: "onnx",
    detail: `ONNX Runtime ${ort.env.versions.common ?? ""} (CPU), ${threads} thread${threads === 1 ? "" : "s"}`.replace(
      "  ",
      " ",
    ),
  };
}

async function loadWebgpu(): Promise<BackendInfo> {
  const ort = await loadOnnxRuntime();
  await probeWebgpu(ort); // no adapter: a clear bad_backend error
  await loadTfjsCpu();
  const adapter = (await gpuAdapter()) ?? {
    vendor: "unknown",
    device: "unknown adapter (vulkaninfo not installed)",
    type: "other" as const,
    software: false,
  };
  const version = ort.env.versions.common ?? "";
  return {
    backend: "webgpu",
    detail: `ONNX Runtime ${version} (WebGPU on ${adapterLabel(adapter)}${adapter.software ? ", software" : ""})`,
    adapter,
  };
}

/**
 * The run could not use ONNX Runtime after all (a graph it rejects): switch this process to
 * the wasm backend, unless ATELIER_BACKEND forced onnx — then the error stands.
 */
export async function fallBackFromOnnx(error: unknown): Promise<BackendInfo> {
  if (backendFromEnv()) throw error;
  registerTfGradients();
  const info = await loadWasm();
  settled = info;
  initialised = Promise.resolve(info);
  process.emitWarning(`ONNX Runtime failed (${firstLine(error)}); using the wasm backend`, "AtelierBackendWarning");
  return info;
}

/** A CUDA device node exists and CUDA_VISIBLE_DEVICES does not hide every device. */
function cudaGpuVisible(): boolean {
  const visible = cudaVisibleDevices();
  if (visible !== undefined && (visible.trim() === "" || visible.trim() === "-1")) return false;
  try {
    if (existsSync("/proc/driver/nvidia/gpus")) return readdirSync("/proc/driver/nvidia/gpus").length > 0;
  } catch {
    // fall through to the device-node check
  }
  return existsSync("/dev/nvidia0");
}

async function loadTfjsNode(pkg: string, name: BackendName): Promise<BackendInfo> {
  try {
    // Through a variable so TypeScript (and bundlers) do not need these optional packages.
    const moduleName: string = pkg;
    await import(moduleName);
  } catch (error) {
    throw new EngineError("bad_backend", `${pkg} cannot be loaded (${firstLine(error)})`, { cause: error });
  }
  // tfjs-node registers "tensorflow" on its own copy of tfjs-core; it must be ours.
  if (!tf.findBackendFactory("tensorflow")) {
    throw new EngineError("bad_backend", `${pkg} loaded but registered no "tensorflow" backend with this tfjs-core`);
  }
  if (!(await tf.setBackend("tensorflow")))
    throw new EngineError("bad_backend", `${pkg}: the tensorflow backend failed to initialise`);
  return { backend: name, detail: name === "tensorflow-gpu" ? "libtensorflow with CUDA" : "libtensorflow (CPU)" };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

// ---------------------------------------------------------------------------------------
// wasm

async function loadWasm(): Promise<BackendInfo> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  const distDir = path.join(pkgDir, "dist") + path.sep;
  // A plain directory prefix: under Node the Emscripten loader reads the file from disk.
  wasm.setWasmPaths(distDir);

  const asked = wasmThreadsFromEnv();
  const wantThreads = asked !== 0;
  const threads = Math.max(1, Math.min(asked || os.cpus().length, 8));
  if (wantThreads && threads > 1 && enableNodeThreads(pkgDir)) {
    wasm.setThreadsCount(threads);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    const restoreCpus = pretendCores(threads * 2);
    try {
      if (await tf.setBackend("wasm")) {
        const actual = wasm.getThreadsCount();
        return { backend: "wasm", detail: `wasm simd, ${actual} thread${actual === 1 ? "" : "s"}` };
      }
    } catch {
      // fall through to single-threaded
    } finally {
      restoreCpus();
    }
  }
  // Threads off, or threaded init failed: the package's registered factory re-reads the
  // flag, so this setBackend initialises the single-threaded SIMD build.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  if (!(await tf.setBackend("wasm"))) throw new EngineError("bad_backend", "the wasm backend failed to initialise");
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  return { backend: "wasm", detail: `wasm${simd ? " simd" : ""}, 1 thread` };
}

/**
 * Emscripten's pthread pool creates its workers from a blob: URL of the worker script, which
 * Node's Worker cannot load, and the worker then imports the main script from another blob.
 * We give it a Worker class that runs the same worker script via `eval`, with the import
 * pointed at the package's own threaded-simd.js file. Returns false when the package's files
 * are not what this shim expects (then we stay single-threaded).
 */
function enableNodeThreads(pkgDir: string): boolean {
  const require = createRequire(import.meta.url);
  const threadedJs = path.join(pkgDir, "wasm-out", "tfjs-backend-wasm-threaded-simd.js");
  const workerJs = path.join(pkgDir, "wasm-out", "tfjs-backend-wasm-threaded-simd.worker.js");
  if (!existsSync(threadedJs) || !existsSync(workerJs)) return false;
  let contents: unknown;
  try {
    contents = (require(workerJs) as { wasmWorkerContents?: unknown }).wasmWorkerContents;
  } catch {
    return false;
  }
  if (typeof contents !== "string") return false;
  const importMain =
    'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';
  if (!contents.includes(importMain)) return false;
  // The one "\n" in the script sits inside a string literal; keep it escaped (as tfjs does for its Blob).
  const source = contents.replace(/\n/g, "\\n").replace(importMain, `importScripts(${JSON.stringify(threadedJs)});`);

  class EmscriptenNodeWorker extends NodeWorker {
    constructor(file: string | URL, options?: ConstructorParameters<typeof NodeWorker>[1]) {
      // execArgv []: the worker is a plain CommonJS script; inherited flags such as
      // --input-type=module or loaders would break or slow it.
      if (typeof file === "string" && file.startsWith("blob:")) super(source, { eval: true, execArgv: [] });
      else super(file, options);
      this.unref();
    }

    /**
     * XNNPACK's pool threads live for the whole process and only ever serve synchronous
     * calls from the main thread, so they must never keep Node running: Emscripten ref()s a
     * worker when it starts a thread on it; we keep them all unref'd.
     */
    override ref(): void {}
  }
  // The threaded module assigns global.Worker = worker_threads.Worker when it loads; keep ours.
  Object.defineProperty(globalThis, "Worker", {
    configurable: true,
    enumerable: false,
    get: () => EmscriptenNodeWorker,
    set: () => {},
  });
  return true;
}

/**
 * tfjs-backend-wasm caps its pool at (logical cores / 2), read through os.cpus() during
 * init. On a 2-core box that is 1; pretend for the duration of init so the pool can use
 * every core we were asked for.
 */
function pretendCores(count: number): () => void {
  const original = os.cpus;
  const real = original();
  const template = real[0];
  if (!template || real.length >= count) return () => {};
  (os as { cpus: typeof os.cpus }).cpus = () => Array.from({ length: count }, (_, i) => real[i] ?? template);
  return () => {
    (os as { cpus: typeof os.cpus }).cpus = original;
  };
}
