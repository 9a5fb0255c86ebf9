/**
 * `npm run bench:masks [-- --sizes 256,512,1024 --repeat 5]`: how long a run's style masks take
 * to rasterise (job-masks.ts: every layer rasterised at the run's size up to
 * MASK_RASTER_LONG_SIDE, then grey → RGB; "full size": at the run's size itself) for
 * the largest room the service accepts — strokes of MAX_STROKE_POINTS points at the largest brush,
 * added through the service's own rule (mask-edits.ts) round-robin over MAX_MASK_LAYERS layers
 * until it refuses one (MAX_MASK_STROKES per layer, MAX_MASK_BYTES per room) — in the costliest
 * shapes (test/support-masks.ts), plus layers alternating eraser sweeps and fills (each fill
 * floods the whole photo again).
 * Target: ≤ 100 ms at 1024 px for the maximal room. Figures, not assertions: the best of
 * `--repeat` runs after one warm-up pass (the machine is shared; the first pass includes V8's
 * compiling of the rasteriser, as a service's first masked run would).
 */
import { parseArgs } from "node:util";
import {
  MAX_MASK_LAYERS,
  greyToRgb,
  maskBytes,
  maskStrokeInput,
  rasteriseLayer,
  type MaskLayer,
  type MaskStrokeInput,
  type RoomMasks,
} from "@atelier/protocol";
import { maskRasterSize } from "../src/engine-slots/job-masks.ts";
import { applyMaskEdit } from "../src/rooms/mask-edits.ts";
import { maximalStroke } from "../test/support-masks.ts";

const { values: args } = parseArgs({
  options: { sizes: { type: "string", default: "256,512,1024" }, repeat: { type: "string", default: "5" } },
});
const sizes = args.sizes.split(",").map(Number);
const repeat = Math.max(1, Number(args.repeat));

const styleIds = Array.from({ length: MAX_MASK_LAYERS }, (_, l) => `style-${l}`);

/** Strokes from `next` added as the service would, round-robin over the layers, until it refuses one. */
function room(next: (serial: number) => MaskStrokeInput): { layers: MaskLayer[]; strokes: number; bytes: number } {
  let masks: RoomMasks = {};
  let strokes = 0;
  for (;;) {
    // as the stroke arrives: through its schema (points rounded as stored)
    const stroke = maskStrokeInput.parse(next(strokes));
    const styleImageId = styleIds[strokes % styleIds.length]!;
    const out = applyMaskEdit(masks, { op: "stroke", roomId: "bench", styleImageId, stroke }, "bench", styleIds);
    if (!out.ok) break;
    masks = out.masks;
    strokes++;
  }
  return { layers: Object.values(masks), strokes, bytes: maskBytes(masks) };
}

const rooms: [string, ReturnType<typeof room>][] = [
  ["zigzag, largest brush", room((k) => maximalStroke("zigzag", k))],
  ["random walk, largest brush", room((k) => maximalStroke("walk", k))],
  ["random walk, small brush", room((k) => maximalStroke("fine", k))],
  ["eraser sweep + fill, alternating", room((k) => maximalStroke("zigzag", k, k % 10 < 5 ? "eraser" : "fill"))],
];

const rasterise = (layers: MaskLayer[], size: number) => {
  for (const layer of layers) greyToRgb(rasteriseLayer(layer, size, size));
};
/** what job-masks.ts does for a square photo and a run of `size` px */
const runMasks = (layers: MaskLayer[], size: number) =>
  rasterise(layers, maskRasterSize({ width: 1, height: 1 }, size).width);
const warmUp = performance.now();
for (const [, { layers }] of rooms) runMasks(layers, sizes[0]!);
console.log(
  `warm-up pass (every room once at ${sizes[0]} px, compiling included): ${(performance.now() - warmUp).toFixed(0)} ms`,
);
console.log(`style masks of the largest room, rasterised at the run's size: best of ${repeat} (ms)`);
console.log(`| room | strokes | KB | raster | ${sizes.map((s) => `${s} px run`).join(" | ")} |`);
console.log(`|---|---:|---:|---|${sizes.map(() => "---:").join("|")}|`);
const best = (f: () => void) => {
  let ms = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms.toFixed(1);
};
for (const [name, { layers, strokes, bytes }] of rooms) {
  const head = `| ${name} | ${strokes} | ${(bytes / 1024).toFixed(0)}`;
  console.log(`${head} | the run's masks | ${sizes.map((size) => best(() => runMasks(layers, size))).join(" | ")} |`);
  console.log(`${head} | full size | ${sizes.map((size) => best(() => rasterise(layers, size))).join(" | ")} |`);
}
