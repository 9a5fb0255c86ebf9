import { runSettings } from "@atelier/protocol";
import type { LayerName } from "./api.ts";

// The run defaults, in a module without tfjs so the CLI can show them (and fail on bad
// arguments) before the backend loads. They come from @atelier/protocol's run settings —
// the one place that holds ranges and defaults — except where the engine and CLI
// deliberately differ from a room (ENGINE_OVERRIDES).

const ROOM = runSettings.parse({});

/**
 * Where the engine/CLI defaults differ from a new room's, and why. A room starts small and
 * coarse to fine (the "Balanced" preset: 384 px, 200 iterations) so its first preview comes
 * within seconds on a CPU, and at seed 42 (any fixed seed would do: its runs are
 * reproducible); the engine and CLI follow jcjohnson/neural-style's 512 px and 1000
 * iterations, single scale, and seed 0.
 */
export const ENGINE_OVERRIDES = { size: 512, iterations: 1000, seed: 0 } as const;

// Gatys' layers: one list for the engine, the CLI and the web app (@atelier/protocol).
export const DEFAULT_CONTENT_LAYERS: readonly LayerName[] = ROOM.contentLayers;
export const DEFAULT_STYLE_LAYERS: readonly LayerName[] = ROOM.styleLayers;

/** The engine's defaults: the room's run settings with ENGINE_OVERRIDES applied. */
export const DEFAULTS = {
  size: ENGINE_OVERRIDES.size,
  iterations: ENGINE_OVERRIDES.iterations,
  optimizer: ROOM.optimizer,
  learningRate: ROOM.learningRate,
  contentWeight: ROOM.contentWeight,
  styleWeight: ROOM.styleWeight,
  tvWeight: ROOM.tvWeight,
  styleScale: ROOM.styleScale,
  originalColors: ROOM.originalColors,
  init: ROOM.init,
  seed: ENGINE_OVERRIDES.seed,
  pooling: ROOM.pooling,
} as const;
