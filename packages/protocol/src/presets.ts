import type { RunSettings } from "./params.ts";

export type PresetSettings = Pick<RunSettings, "size" | "iterations" | "multiscale">;

export interface RunPreset {
  id: "quick" | "balanced" | "full";
  label: string;
  settings: PresetSettings;
}

/**
 * Starting points the studio offers, all coarse to fine so the first frame comes from a small
 * level within seconds. Chosen for the engine's ONNX Runtime backend on the 2-core reference
 * machine (onnx 0.74 s per 512×384 iteration, packages/engine/README.md; the one time function,
 * speed.ts, at its onnx figure, 4:3 photo): Quick ≈ 10 s at 384 px, Balanced (the room default)
 * ≈ 1 min at 512 px, Full size ≈ 2½ min at 768 px. Balanced's 200 iterations run 65/43/29/19/44
 * over its five levels (splitIterations); bench:quality's 180 in that shape reached jcjohnson's
 * reference loss (packages/engine/README.md, "Iteration schedule"). The optimizer README's preset
 * table has the times measured through the service (bench:first-preview, bench:estimates).
 */
export const RUN_PRESETS: readonly RunPreset[] = [
  { id: "quick", label: "Quick", settings: { size: 384, iterations: 60, multiscale: true } },
  { id: "balanced", label: "Balanced", settings: { size: 512, iterations: 200, multiscale: true } },
  { id: "full", label: "Full size", settings: { size: 768, iterations: 300, multiscale: true } },
];

/** A preset inside the operator's caps (ATELIER_MAX_SIZE / ATELIER_MAX_ITERATIONS): its values clamped to them. */
export function presetWithinLimits(
  preset: RunPreset,
  limits: { maxSize: number; maxIterations: number } | null | undefined,
): PresetSettings {
  if (!limits) return preset.settings;
  return {
    ...preset.settings,
    size: Math.min(preset.settings.size, limits.maxSize),
    iterations: Math.min(preset.settings.iterations, limits.maxIterations),
  };
}

/** The fields a preset would change in a document: empty when the document already matches it. */
export function presetChanges(current: PresetSettings, target: PresetSettings): Partial<PresetSettings> {
  const changes: Partial<PresetSettings> = {};
  if (current.size !== target.size) changes.size = target.size;
  if (current.iterations !== target.iterations) changes.iterations = target.iterations;
  if (current.multiscale !== target.multiscale) changes.multiscale = target.multiscale;
  return changes;
}
