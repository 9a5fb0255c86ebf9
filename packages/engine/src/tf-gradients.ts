/**
 * Registers tfjs's gradient functions, once. Node loads @tensorflow/tfjs-core's CommonJS
 * bundle (its package has no "exports", so `main` wins), and that bundle registers no
 * gradients: tf.valueAndGrad then fails with "gradient function not found for AddN". Its
 * ESM register_all_gradients.js cannot be imported by Node (extension-less and directory
 * imports). The union package's CommonJS bundle registers all of them into tfjs-core's
 * global registry, which every copy of tfjs-core shares. Costs ~0.6 s, so only the tfjs
 * backends pay it (the onnx backend needs no tfjs gradient).
 */
import { createRequire } from "node:module";

let registered = false;

export function registerTfGradients(): void {
  if (registered) return;
  registered = true;
  createRequire(import.meta.url)("@tensorflow/tfjs");
}
