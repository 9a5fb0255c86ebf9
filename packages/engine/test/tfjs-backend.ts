import { initBackend, type BackendInfo } from "../src/backend.ts";

/**
 * initBackend for tests of the tfjs code (objective, convs, losses, weight tensors): the
 * automatic choice is now onnx, which leaves tfjs on its plain-JavaScript cpu backend, so
 * these take wasm unless ATELIER_BACKEND names another tfjs backend.
 */
export function initTfjsBackend(): Promise<BackendInfo> {
  const forced = process.env.ATELIER_BACKEND?.trim();
  if (!forced || forced === "onnx") process.env.ATELIER_BACKEND = "wasm";
  return initBackend();
}
