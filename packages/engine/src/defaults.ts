import type { LayerName } from "./api.ts";

// The run defaults, in a module without tfjs so the CLI can show them (and fail on bad
// arguments) before the backend loads.

export const DEFAULT_CONTENT_LAYERS: readonly LayerName[] = ["relu4_2"];
export const DEFAULT_STYLE_LAYERS: readonly LayerName[] = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"];

/** jcjohnson/neural-style's defaults, as api.ts documents them. */
export const DEFAULTS = {
  size: 512,
  iterations: 1000,
  optimizer: "lbfgs",
  learningRate: 10,
  contentWeight: 5,
  styleWeight: 100,
  tvWeight: 1e-3,
  styleScale: 1,
  originalColors: false,
  // From the content image, unlike jcjohnson's random default: on a CPU, runs are tens to a few
  // hundred iterations, and from noise the photo only emerges after many hundreds.
  init: "content",
  seed: 0,
  pooling: "max",
} as const;
