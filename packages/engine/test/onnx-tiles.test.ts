/**
 * Tiled levels on onnx (onnx-tiles.ts): the whole-image style Grams summed over parts match the
 * tfjs sums over the same parts, and a level's tiles share its two sessions, which go with it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { STYLE_LAYERS, loadFloatImage, objectiveWeights } from "./objective-fixtures.ts";
import { OnnxVgg } from "../src/onnx-vgg.ts";
import { OnnxTileObjectives, onnxGramsInParts } from "../src/onnx-tiles.ts";
import { loadOnnxRuntime } from "../src/onnx-runtime.ts";
import { gramsInParts } from "../src/tiled-level.ts";
import { VggFeatures, layerIndex } from "../src/vgg.ts";
import { loadVggWeightArrays, loadVggWeights } from "../src/weights.ts";

let tfjsNet: VggFeatures;
let onnxNet: OnnxVgg;
beforeAll(async () => {
  await initTfjsBackend();
  tfjsNet = new VggFeatures(await loadVggWeights(13), { pooling: "max", gradient: "flipped" });
  onnxNet = new OnnxVgg(await loadOnnxRuntime(), (await loadVggWeightArrays(13)).convs, "max");
});

describe("onnx tiles", () => {
  it("sum the style Grams over the parts as tfjs does (one part and four)", async () => {
    const style = await loadFloatImage("starry_night.jpg", 96, 64);
    const layers = ["relu1_1", "relu3_1", "relu5_1"];
    for (const tile of [192, 96]) {
      const reference = gramsInParts(tfjsNet, style, layers, tile);
      const onnx = await onnxGramsInParts(onnxNet, style, layers.map(layerIndex), tile);
      layers.forEach((layer, l) => {
        const expected = reference[l]!.dataSync();
        const got = onnx.get(layerIndex(layer))!;
        let diff = 0;
        let norm = 0;
        for (let k = 0; k < expected.length; k++) {
          diff += (got[k]! - expected[k]!) ** 2;
          norm += expected[k]! ** 2;
        }
        const rel = Math.sqrt(diff / norm);
        console.log(`tile ${tile}, ${layer}: onnx vs tfjs Gram sum, relative ${rel.toExponential(2)}`);
        expect(rel).toBeLessThan(1e-4);
      });
      tf.dispose(reference);
    }
    expect(onnxNet.openSessions).toBe(0); // the parts' sessions went with the sums
  });

  it("serve every tile from the level's two sessions and release them with the level", async () => {
    const style = await loadFloatImage("starry_night.jpg", 64, 48);
    const objectives = await OnnxTileObjectives.create({
      net: onnxNet,
      tileWidth: 48,
      tileHeight: 48,
      styles: [style],
      styleCount: 1,
      masked: false,
      contentLayers: ["relu4_2"],
      styleLayers: STYLE_LAYERS,
      tile: 48,
    });
    expect(onnxNet.openSessions).toBe(2); // the tile's content targets and objective
    for (const x of [0, 16]) {
      const content = await loadFloatImage("tubingen.jpg", 64, 48);
      const pixels = new Float32Array(48 * 48 * 3);
      for (let y = 0; y < 48; y++)
        pixels.set(content.pixels.subarray((y * 64 + x) * 3, (y * 64 + x + 48) * 3), y * 48 * 3);
      const objective = await objectives.create({ width: 48, height: 48, pixels }, undefined, objectiveWeights());
      expect(onnxNet.openSessions).toBe(2);
      const e = await objective.evaluate(pixels);
      expect(e.content).toBe(0); // at its own content crop
      expect(e.style.relu1_1).toBeGreaterThan(0);
      objective.dispose();
      expect(onnxNet.openSessions).toBe(2);
    }
    objectives.dispose();
    expect(onnxNet.openSessions).toBe(0);
  });
});
