/**
 * @atelier/engine: Gatys et al. neural style transfer (VGG-19, L-BFGS or Adam) on ONNX Runtime
 * or TensorFlow.js, with image IO. The Run API is `stylize(options) → RunHandle` (contract in api.ts).
 */
export type {
  ImageSource,
  IterationEvent,
  LayerName,
  LiveWeights,
  RgbImage,
  RunHandle,
  EngineInfo,
  StyleInput,
  StylizeOptions,
} from "./api.ts";
export {
  DEFAULTS,
  DEFAULT_CONTENT_LAYERS,
  DEFAULT_STYLE_LAYERS,
  LIMITS,
  NOISE_STD,
  preloadWeights,
  resolveOptions,
  stylize,
} from "./stylize.ts";
export { EngineError, abortError, isAbortError, type EngineErrorCode } from "./errors.ts";
export { dropCoarseLevels, minShortSide, planLevels, type Level } from "./level-plan.ts";
export { planScales, type ScalePlan } from "./multiscale.ts";
export { adapterLabel, detectAdapter, type GpuAdapter } from "./gpu-adapter.ts";
export { BACKEND_NAMES, currentBackend, initBackend, type BackendInfo, type BackendName } from "./backend.ts";
export { VGG_LAYER_NAMES, VGG_MEAN_BGR, VggFeatures, type Pooling } from "./vgg.ts";
// The objective seam and the optimisers, for callers that drive their own loop.
export { VggObjective, type Evaluation, type LossTerms, type Objective, type ObjectiveWeights } from "./objective.ts";
export { OnnxObjective } from "./onnx-objective.ts";
export { OnnxVgg } from "./onnx-vgg.ts";
export { Lbfgs, type LbfgsOptions } from "./optimizers/lbfgs.ts";
export { Adam, type AdamOptions } from "./optimizers/adam.ts";
export type { Optimizer } from "./optimizers/optimizer.ts";
export { clearWeightCache, defaultWeightsSource, loadVggWeights } from "./weights.ts";
export {
  ImageError,
  decodeImage,
  encodeImage,
  fitWithin,
  resizeImage,
  sniffImage,
  type ImageErrorCode,
} from "./image.ts";
