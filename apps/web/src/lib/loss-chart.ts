/*
 * The loss chart's words and level marks, pure so they are unit-tested: a legend people can
 * read ("Style: larger forms", not "style relu4_1"), and where a multi-scale run moved up a
 * level — the loss jumps there (a bigger image has more to match), which read as a fault while
 * nothing marked it.
 */

/** What each VGG-19 style layer matches, finest first (relu1_1 sees a few pixels, relu5_1 much of the image). */
const STYLE_LAYER_WORDS: Record<string, string> = {
  relu1_1: "finest texture",
  relu2_1: "fine texture",
  relu3_1: "brushstrokes",
  relu4_1: "larger forms",
  relu5_1: "largest forms",
};

/** The legend's name of a series: "Total loss", or a style layer in words. */
export function lossSeriesLabel(series: string): string {
  if (series === "total") return "Total loss";
  const words = STYLE_LAYER_WORDS[series];
  return words ? `Style: ${words}` : `Style: layer ${series}`;
}

/**
 * Where a new level starts among the points drawn: the positions whose scale differs from the
 * point before, with that level's number (1-based, as people count).
 */
export function levelStarts(scales: readonly number[]): Array<{ at: number; level: number }> {
  const starts: Array<{ at: number; level: number }> = [];
  for (let j = 1; j < scales.length; j++)
    if (scales[j] !== scales[j - 1]) starts.push({ at: j, level: scales[j]! + 1 });
  return starts;
}
