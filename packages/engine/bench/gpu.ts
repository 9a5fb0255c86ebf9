/**
 * `npm run bench:gpu`: seconds per iteration of the webgpu backend (ONNX Runtime's WebGPU
 * provider) against onnx on the CPU, measured in the same run on the same machine, at 512 and
 * 1024 px (tubingen × starry_night, VGG-19 to conv5_1, one evaluation + one L-BFGS step per
 * iteration; the first iteration of each is a warm-up: shader and kernel compilation).
 *
 * Only a real GPU adapter is measured: on a machine whose Vulkan has only the software one
 * (llvmpipe) or none, it says so and exits 0 (--allow-software measures llvmpipe anyway, for
 * trying the script at small --sizes). Meant to fit a short lease of a GPU machine: a few
 * minutes in all, most of it the CPU's 1024 px iterations.
 *
 *   npm run bench:gpu [-- --sizes 512,1024 --iterations 4 --cpu-iterations 2 --allow-software]
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { toFloatPixels } from "../src/color.ts";
import { adapterLabel, detectAdapter } from "../src/gpu-adapter.ts";
import { decodeImage, fitWithin, resizeImage } from "../src/image.ts";
import { OnnxObjective } from "../src/onnx-objective.ts";
import { OnnxVgg } from "../src/onnx-vgg.ts";
import { loadOnnxRuntime, onnxThreads, probeWebgpu, type OnnxDevice } from "../src/onnx-runtime.ts";
import { Lbfgs } from "../src/optimizers/lbfgs.ts";
import { loadVggWeightArrays } from "../src/weights.ts";
import { DEFAULTS, DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS } from "../src/defaults.ts";

const IMAGES = process.env.ATELIER_IMAGES ?? resolve(import.meta.dirname, "../../../../shared/images");
const WEIGHTS =
  process.env.ATELIER_VGG19 ??
  [
    resolve(import.meta.dirname, "../../../models/vgg19"),
    resolve(import.meta.dirname, "../../../../shared/models/vgg19"),
  ].find((dir) => existsSync(resolve(dir, "model.json")));

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "512,1024" },
    iterations: { type: "string", default: "4" },
    "cpu-iterations": { type: "string", default: "2" },
    "allow-software": { type: "boolean", default: false },
  },
});
const sizes = values.sizes.split(",").map(Number);
const iterations = Number(values.iterations);
const cpuIterations = Number(values["cpu-iterations"]);
if (sizes.some((s) => !Number.isInteger(s) || s < 16) || !(iterations >= 1) || !(cpuIterations >= 1)) {
  throw new Error("bad arguments: --sizes 512,1024 --iterations N --cpu-iterations N");
}

const adapter = await detectAdapter();
if (!adapter || (adapter.software && !values["allow-software"])) {
  console.log(
    adapter
      ? `bench:gpu: the only Vulkan adapter here is a software one (${adapterLabel(adapter)}): no GPU to measure (--allow-software measures it anyway)`
      : "bench:gpu: no Vulkan GPU adapter here (install the GPU's Vulkan driver; vulkan-tools names it): nothing to measure",
  );
  process.exit(0);
}
const ort = await loadOnnxRuntime();
await probeWebgpu(ort);
const convs = (await loadVggWeightArrays(13, WEIGHTS)).convs;
const content = await decodeImage(resolve(IMAGES, "tubingen.jpg"));
const style = await decodeImage(resolve(IMAGES, "starry_night.jpg"));

console.log(`adapter: ${adapterLabel(adapter)} (${adapter.type}${adapter.software ? ", software" : ""})`);
console.log(`driver: ${adapter.driver ?? "unknown"}; onnx CPU: ${onnxThreads()} threads`);

/** Median seconds per iteration (evaluate + L-BFGS step) after one warm-up iteration. */
async function secondsPerIteration(device: OnnxDevice, side: number, count: number): Promise<number> {
  const dims = fitWithin(content.width, content.height, side);
  const sdims = fitWithin(style.width, style.height, side);
  const net = new OnnxVgg(ort, convs, "max", undefined, device);
  const objective = await OnnxObjective.create({
    net,
    content: { ...dims, pixels: toFloatPixels(await resizeImage(content, dims.width, dims.height)) },
    styles: [{ ...sdims, pixels: toFloatPixels(await resizeImage(style, sdims.width, sdims.height)) }],
    contentLayers: DEFAULT_CONTENT_LAYERS,
    styleLayers: DEFAULT_STYLE_LAYERS,
    weights: {
      contentWeight: DEFAULTS.contentWeight,
      styleWeight: DEFAULTS.styleWeight,
      tvWeight: DEFAULTS.tvWeight,
      styleBlendWeights: [1],
      styleLayerWeights: DEFAULT_STYLE_LAYERS.map(() => 1),
    },
  });
  try {
    const x = toFloatPixels(await resizeImage(content, dims.width, dims.height));
    const lbfgs = new Lbfgs(x.length, { history: 100, learningRate: 1 });
    const times: number[] = [];
    for (let i = 0; i <= count; i++) {
      const started = performance.now();
      const e = await objective.evaluate(x);
      lbfgs.step(x, e.total, e.grad);
      if (i > 0) times.push((performance.now() - started) / 1000);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    objective.dispose();
    net.dispose();
  }
}

console.log("\n| size | webgpu s/iteration | onnx CPU s/iteration | CPU ÷ webgpu |");
console.log("|---|---|---|---|");
for (const side of sizes) {
  const gpu = await secondsPerIteration("webgpu", side, iterations);
  const cpu = await secondsPerIteration("cpu", side, cpuIterations);
  console.log(`| ${side} px | ${gpu.toFixed(3)} | ${cpu.toFixed(3)} | ${(cpu / gpu).toFixed(1)}× |`);
}
