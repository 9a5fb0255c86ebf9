import {
  DEFAULT_CONTENT_LAYERS as PROTOCOL_CONTENT_LAYERS,
  DEFAULT_STYLE_LAYERS as PROTOCOL_STYLE_LAYERS,
} from "@atelier/protocol";
import type { LayerName } from "./api.ts";

// The run defaults, in a module without tfjs so the CLI can show them (and fail on bad
// arguments) before the backend loads.

// Gatys' layers: one list for the engine, the CLI and the web app (@atelier/protocol).
export const DEFAULT_CONTENT_LAYERS: readonly LayerName[] = PROTOCOL_CONTENT_LAYERS;
export const DEFAULT_STYLE_LAYERS: readonly LayerName[] = PROTOCOL_STYLE_LAYERS;

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
