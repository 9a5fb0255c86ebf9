/**
 * What `npm run bench:first-preview` measures, as pure functions of the stats a run streams.
 *
 * "Style visible" is defined on the run's coarsest level (the one painting the first seconds):
 * the first iteration whose style loss (summed over the style layers) is at most
 * `fraction` of that level's first style loss. Starting from the photo (init "content"), the
 * style loss at 10 % of its start is where the brushwork and palette of the painting have
 * replaced the photo's flat surfaces (checked by eye: `--frames <dir>` writes the first, the
 * "style visible" and the final preview; at iteration 12 the sky already swirls like van Gogh's).
 */
import type { IterationStats } from "@atelier/protocol";

export const STYLE_VISIBLE_FRACTION = 0.1;

export function styleLoss(stats: Pick<IterationStats, "style">): number {
  return Object.values(stats.style).reduce((a, b) => a + b, 0);
}

/** The index (into `stats`, in arrival order) where the style became visible; null if it never did. */
export function styleVisibleIndex(
  stats: readonly Pick<IterationStats, "scale" | "style">[],
  fraction = STYLE_VISIBLE_FRACTION,
): number | null {
  const first = stats[0];
  if (!first) return null;
  const start = styleLoss(first);
  for (let i = 0; i < stats.length; i++) {
    if (stats[i]!.scale !== first.scale) return null;
    if (styleLoss(stats[i]!) <= fraction * start) return i;
  }
  return null;
}
