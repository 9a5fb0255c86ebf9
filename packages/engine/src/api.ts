/**
 * The engine's public Run API — the contract the CLI and the optimisation service use.
 * (Implementation lives beside this file; this file only declares shapes.)
 */
import type { ColorControl } from "@atelier/protocol";

export type LayerName = string; // "relu1_1" … "relu5_4"

/** Raw image bytes as decoded by sharp: interleaved RGB, 8 bits per channel. */
export interface RgbImage {
  width: number;
  height: number;
  /** length = width * height * 3 */
  data: Uint8Array;
}

/** An image given to a run: a file path, encoded bytes (JPEG/PNG/WebP), or decoded RGB. */
export type ImageSource = string | Uint8Array | RgbImage;

export interface StyleInput {
  image: ImageSource;
  /**
   * blend weight; the weights of all styles are normalised to sum to 1. With masks (below) it
   * is instead the weight of this style's region, used as given.
   */
  weight: number;
  /**
   * Where this style goes: a grey image (white = this style), stretched to the output. When
   * any style has a mask, each style's region is matched to that style alone (Gatys et al.
   * 2017); a style without one covers the whole image; pixels no mask covers keep the photo.
   */
  mask?: ImageSource;
}

export interface StylizeOptions {
  content: ImageSource;
  styles: StyleInput[];
  /** max side of the output in pixels (default 512) */
  size?: number;
  iterations?: number; // default 1000 (ENGINE_OVERRIDES in defaults.ts; a new room starts at 200, coarse to fine)
  optimizer?: "lbfgs" | "adam"; // default "lbfgs"
  learningRate?: number; // Adam only, default 10
  contentWeight?: number; // default 5
  styleWeight?: number; // default 100
  tvWeight?: number; // default 1e-3
  /** style images are resized to styleScale × the content's size */
  styleScale?: number; // default 1
  /** keep the content's colours: luminance-only transfer (colorControl "luminance") */
  originalColors?: boolean;
  /**
   * Colour control; wins over originalColors when given (absent: originalColors decides).
   * "luminance": the result's luminance with the content's chroma; "match-style": each style
   * image's colours matched to the content's (mean and covariance) before the run;
   * "match-result": the result's colours matched to the content's after it (and in previews).
   */
  colorControl?: ColorControl;
  /**
   * "noise" | "content" | "style" | an image (e.g. a checkpoint to resume from). With
   * `continues: true` the image is a painting of this content to go on from: the run starts at
   * the first level at least as large as the image (so it is not shrunk to a blurry coarse
   * level) and splits its iterations over the levels from there up.
   */
  init?: "noise" | "content" | "style" | { image: ImageSource; continues?: boolean };
  seed?: number; // default 0 (ENGINE_OVERRIDES; a new room: 42); same seed + same backend → identical output
  pooling?: "max" | "avg"; // default "max"
  contentLayers?: LayerName[]; // default ["relu4_2"]
  styleLayers?: LayerName[]; // default relu1_1 … relu5_1
  /** per-style-layer weights, same length as styleLayers (default all 1) */
  styleLayerWeights?: number[];
  /**
   * Tile side in px (≥ 64): levels larger than it are optimised in overlapping tiles whose
   * grid shifts every pass, so memory follows the tile, not the output (see tiles.ts). With
   * it, L-BFGS keeps 20 curvature pairs instead of 100. Default: no tiling.
   */
  tile?: number;
  /**
   * coarse-to-fine: start small, ×√2 per level up to `size`. `stall`: end a coarse level early
   * when its loss falls by less than this (relative) per iteration, averaged over the last 5;
   * its remaining iterations go to the final level (which always runs its count).
   */
  multiscale?: boolean | { iterationsPerScale?: number[]; minSize?: number; stall?: number };
  signal?: AbortSignal;
}

export type { ColorControl } from "@atelier/protocol";

/** Emitted once per iteration. Losses are the weighted terms; total = content + Σ style + tv. */
export interface IterationEvent {
  iteration: number; // 1-based, counted across scales
  /** 0-based multi-scale level */
  scale: number;
  /** width × height of the current level */
  width: number;
  height: number;
  total: number;
  content: number;
  style: Record<LayerName, number>;
  tv: number;
  /** milliseconds this iteration took */
  ms: number;
}

/** Weights that may change while a run goes; applied from the next iteration. */
export interface LiveWeights {
  contentWeight?: number;
  styleWeight?: number;
  tvWeight?: number;
  /** one per style, in the order given */
  styleBlendWeights?: number[];
  /** a new total iteration count (stops early or goes on) */
  iterations?: number;
}

/** What runs a style transfer: the backend and a hash of the VGG-19 weights used. */
export interface EngineInfo {
  /** "webgpu" | "onnx" | "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu" (the ATELIER_BACKEND names) */
  backend: string;
  /** hash (sha256-based, 16 hex chars) of the bytes of the VGG-19 layers the run uses */
  modelHash: string;
  /** webgpu: the GPU adapter the run's graphs ran on (software: a CPU rasteriser such as llvmpipe) */
  adapter?: { vendor: string; device: string; software: boolean };
  /**
   * The levels this run really runs (coarse levels the network cannot see dropped, a continued
   * run's levels from its image's size up), each with its content size and iterations: what a
   * time estimate must count, rather than rebuilding the plan with its own copy of these rules.
   */
  levels?: { width: number; height: number; iterations: number }[];
}

export interface RunHandle {
  /** Per-iteration events; ends when the run completes or is cancelled (the iterator then throws an AbortError). */
  [Symbol.asyncIterator](): AsyncIterator<IterationEvent>;
  /** Change weights; takes effect from the next iteration. */
  update(weights: LiveWeights): void;
  /** The current image (deprocessed, clipped, RGB 8-bit, at the current level's size). */
  currentImage(): Promise<RgbImage>;
  /** Resolves with the final image when the run ends (rejects on error / abort). */
  readonly result: Promise<RgbImage>;
  /**
   * Information about what runs it: backend name and a hash of the weights used. Filled in
   * once `ready` resolves (always before the first IterationEvent); empty strings before.
   */
  readonly info: EngineInfo;
  /**
   * Resolves with `info` once the backend, images and weights are loaded and the first
   * level's targets are computed; rejects like `result` if the run fails before that.
   * (Added to the original contract; optional to use.)
   */
  readonly ready: Promise<EngineInfo>;
}
