/*
 * The environment variables the engine reads, read here and nowhere else (see the README's
 * Environment table). Each is read when asked for, not at import: tests and the CLI set them
 * at run time.
 */

/** ATELIER_BACKEND: the backend asked for by name, or undefined for the automatic order. */
export function backendFromEnv(): string | undefined {
  return process.env.ATELIER_BACKEND?.trim() || undefined;
}

/** CUDA_VISIBLE_DEVICES as CUDA reads it (unset: every device). */
export function cudaVisibleDevices(): string | undefined {
  return process.env.CUDA_VISIBLE_DEVICES;
}

/** ATELIER_WASM_THREADS: a thread count, 0 for none, undefined for the default. */
export function wasmThreadsFromEnv(): number | undefined {
  const raw = process.env.ATELIER_WASM_THREADS?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** ATELIER_ONNX_THREADS: intra-op threads, or undefined for one per core. */
export function onnxThreadsFromEnv(): number | undefined {
  const n = Number(process.env.ATELIER_ONNX_THREADS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** ATELIER_ONNX_ARENA=0 turns ONNX Runtime's memory arena off (on otherwise). */
export function onnxArenaFromEnv(): boolean {
  return process.env.ATELIER_ONNX_ARENA?.trim() !== "0";
}

/** ATELIER_ONNX_CONV_GRADIENT: how the conv input gradients are built (`flipped` unless set to `transpose`). */
export function onnxConvGradientFromEnv(): "flipped" | "transpose" {
  return process.env.ATELIER_ONNX_CONV_GRADIENT?.trim() === "transpose" ? "transpose" : "flipped";
}

/** ATELIER_VGG19: the weights folder or model.json URL, or undefined for the default. */
export function vgg19FromEnv(): string | undefined {
  return process.env.ATELIER_VGG19?.trim() || undefined;
}

/** ATELIER_DEBUG: the CLI prints stack traces. */
export function debugFromEnv(): boolean {
  return Boolean(process.env.ATELIER_DEBUG);
}

/**
 * ATELIER_ONNX_WINOGRAD: the onnx backend's 3×3 convs — `off` (every conv direct), `auto` (the
 * measured per-layer plan, onnx-winograd.ts's WINOGRAD_PLAN), `winograd2` / `winograd4` (every
 * conv F(2×2,3×3) / F(4×4,3×3): tests and benchmarks). Default: DEFAULT_WINOGRAD there.
 */
export function onnxWinogradFromEnv(): "off" | "auto" | "winograd2" | "winograd4" | undefined {
  const raw = process.env.ATELIER_ONNX_WINOGRAD?.trim();
  if (!raw) return undefined;
  if (raw === "off" || raw === "auto" || raw === "winograd2" || raw === "winograd4") return raw;
  throw new Error(`ATELIER_ONNX_WINOGRAD must be off, auto, winograd2 or winograd4, not '${raw}'`);
}
