/*
 * Words and numbers for the style controls that people misread: what the painted regions mean
 * right now (a style with nothing painted covers the whole picture, as the engine's masks do:
 * optimizer job-masks), and the blend slider, whose handle stands at the style's share of the
 * blend so it says the same as the percentage beside it.
 */
import { layerHasPaint, type MaskLayer } from "@atelier/protocol";

function list(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** The regions' help for the room as it is: which styles cover what, and where the photo stays. */
export function regionHelpText(
  styles: ReadonlyArray<{ imageId: string }>,
  masks: Readonly<Record<string, MaskLayer | undefined>>,
  nameOf: (imageId: string) => string,
): string {
  if (styles.length === 0) return "Add a style, then paint where it goes.";
  const painted = styles.filter((s) => layerHasPaint(masks[s.imageId]));
  const whole = styles.filter((s) => !layerHasPaint(masks[s.imageId]));
  if (painted.length === 0)
    return styles.length === 1
      ? "Nothing is painted: the style covers the whole picture. Paint a region to keep it there."
      : "Nothing is painted: every style covers the whole picture. Paint a region to keep a style there.";
  if (whole.length === 0) return "Each style covers only its painted region; areas no region covers keep the photo.";
  const wholeNames = list(whole.map((s) => nameOf(s.imageId)));
  const paintedNames = list(painted.map((s) => nameOf(s.imageId)));
  return `${paintedNames} ${painted.length === 1 ? "covers" : "cover"} only ${painted.length === 1 ? "its" : "their"} painted ${painted.length === 1 ? "region" : "regions"}; ${wholeNames}, with nothing painted, ${whole.length === 1 ? "covers" : "cover"} the whole picture.`;
}

/** A style's share of the blend in whole percent (0 when no style has weight). */
export function blendShare(weight: number, othersWeight: number): number {
  const total = weight + othersWeight;
  return total > 0 ? Math.round((weight / total) * 100) : 0;
}

/**
 * The weight that gives a style `share` percent of the blend beside the others' total weight,
 * within the schema's 0–`max`, to three significant digits. With no other weight, any weight
 * above 0 is the whole blend: 0 stays 0, anything else keeps (or becomes) a positive weight.
 */
export function weightForShare(share: number, othersWeight: number, current: number, max = 100): number {
  const p = Math.min(100, Math.max(0, share));
  if (p === 0) return 0;
  if (!(othersWeight > 0)) return current > 0 ? current : 1;
  if (p >= 100) return max;
  const weight = (othersWeight * p) / (100 - p);
  return Math.min(max, Number(weight.toPrecision(3)));
}
