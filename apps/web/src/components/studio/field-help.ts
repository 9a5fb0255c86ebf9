import type { RoomField } from "@atelier/protocol";

/** One or two plain sentences per technical setting, shown behind the "?" next to its label. */
export const FIELD_HELP: Partial<Record<RoomField, string>> = {
  size: "Longest side of the painting in pixels. Time grows with the square of the size.",
  iterations: "How many optimisation steps the painting gets. More steps, more detail, more time.",
  optimizer: "L-BFGS converges in fewer steps; Adam is steadier and follows its learning rate.",
  learningRate: "Adam's step size: higher paints faster but can flicker.",
  contentWeight: "How strongly the painting keeps the shapes of your photo.",
  styleWeight: "How strongly the painting takes on the brushwork and colours of the style images.",
  tvWeight: "Total variation: smooths pixel-level noise. Raise it if the result looks grainy.",
  styleScale: "Size of the style's brushstrokes relative to the painting.",
  originalColors: "Keeps your photo's colours and takes only the strokes and texture from the style.",
  colorControl:
    "Whose colours the painting keeps: the style's, the photo's brightness only, the style images recoloured to the photo before the run, or the result recoloured after it.",
  masks: "Paint where each style goes; a style with nothing painted covers the whole picture.",
  init: "What the painting starts from: your photo (fastest to look right), the style image, or random noise.",
  seed: "Fixes the random choices: the same settings and seed paint the same picture.",
  pooling: "How VGG-19 shrinks its feature maps: max is sharper, average smoother.",
  contentLayers: "VGG-19 layers (named like relu4_2: block 4, second convolution) whose features must match the photo.",
  styleLayers: "VGG-19 layers (relu1_1 is the first, finest; relu5_1 the deepest) whose textures must match the style.",
  multiscale: "Paints small first and enlarges step by step: a first preview within seconds, the style early.",
};

/** The engine backend, shown with the estimate (not a room field). */
export const BACKEND_HELP =
  "The math library the optimiser runs VGG-19 on (wasm: WebAssembly on the CPU; onnx: ONNX Runtime). It sets the speed.";
