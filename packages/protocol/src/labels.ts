import { layerHasPaint } from "./masks.ts";
import { effectiveColorControl, type ColorControl, type RoomField, type RunParams } from "./params.ts";

/*
 * The words a person reads for each setting: one label per room field and how a run's value of
 * it reads. The studio's fields, the history strip, the sweep form and the result page all take
 * them from here, so a new setting is named once and no page forgets one.
 */

export const FIELD_LABELS: Record<RoomField, string> = {
  size: "Size",
  iterations: "Iterations",
  optimizer: "Optimiser",
  learningRate: "Learning rate",
  contentWeight: "Content weight",
  styleWeight: "Style weight",
  tvWeight: "TV weight",
  styleScale: "Style scale",
  originalColors: "Original colours",
  colorControl: "Colour control",
  init: "Init",
  seed: "Seed",
  pooling: "Pooling",
  contentLayers: "Content layers",
  styleLayers: "Style layers",
  multiscale: "Multi-scale",
  contentImageId: "Content photo",
  styles: "Styles",
  masks: "Style regions",
};

export const COLOR_CONTROL_LABELS: Record<ColorControl, string> = {
  none: "Style's colours",
  luminance: "Photo's colours (luminance only)",
  "match-style": "Match style to photo colours (before)",
  "match-result": "Match result to photo colours (after)",
};

/** A number as a settings table shows it: 4 significant digits, tiny ones in exponent form. */
export function formatSettingNumber(n: number): string {
  return Math.abs(n) >= 0.01 || n === 0 ? String(Number(n.toPrecision(4))) : n.toExponential(1);
}

const yesNo = (b: boolean) => (b ? "yes" : "no");

/**
 * How a run's value of `field` reads ("512 px (longest side)", "L-BFGS", "2 regions painted"),
 * or null for the fields a page shows as pictures instead (the content photo).
 */
export function settingText(field: RoomField, params: RunParams): string | null {
  switch (field) {
    case "size":
      return `${params.size} px (longest side)`;
    case "iterations":
    case "seed":
      return String(params[field]);
    case "optimizer":
      return params.optimizer === "lbfgs" ? "L-BFGS" : "Adam";
    case "learningRate":
      return params.optimizer === "adam" ? formatSettingNumber(params.learningRate) : "— (L-BFGS)";
    case "contentWeight":
    case "styleWeight":
    case "tvWeight":
    case "styleScale":
      return formatSettingNumber(params[field]);
    case "originalColors":
    case "multiscale":
      return yesNo(params[field]);
    case "colorControl":
      return COLOR_CONTROL_LABELS[effectiveColorControl(params)];
    case "init":
    case "pooling":
      return params[field];
    case "contentLayers":
    case "styleLayers":
      return params[field].join(", ");
    case "styles": {
      const total = params.styles.reduce((sum, s) => sum + s.weight, 0) || 1;
      if (params.styles.length === 1) return "1 style";
      return `${params.styles.length} styles, blend ${params.styles.map((s) => `${Math.round((100 * s.weight) / total)} %`).join(" / ")}`;
    }
    case "masks": {
      const painted = Object.values(params.masks).filter((layer) => layerHasPaint(layer)).length;
      return painted === 0 ? "none (styles everywhere)" : `${painted} region${painted === 1 ? "" : "s"} painted`;
    }
    case "contentImageId":
      return null;
  }
}
