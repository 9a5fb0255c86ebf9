import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { objectiveGraph } from "../src/onnx-graph.ts";
import { loadOnnxRuntime, probeWebgpu } from "../src/onnx-runtime.ts";
import { loadVggWeightArrays } from "../src/weights.ts";

/**
 * Proof that one iteration stays on the device: ONNX Runtime's own profile of one run of the
 * webgpu objective graph (VGG-19 to relu5_1, five style layers, masks) names the provider of
 * every node it ran, and none is the CPU's — no op of the graph lacks a WebGPU kernel, so none
 * is silently placed on the CPU with copies each way (MaxUnpool and Sum were; onnx-graph.ts).
 */
it.each(["max", "avg"] as const)(
  "runs every node of a %s-pooling objective graph on the WebGPU provider",
  async (pooling) => {
    const ort = await loadOnnxRuntime();
    await probeWebgpu(ort);
    const convs = (await loadVggWeightArrays(13)).convs;
    const [width, height] = [19, 17];
    const graph = objectiveGraph({
      width,
      height,
      convs,
      pooling,
      contentLayers: [9],
      styleLayers: [0, 2, 4, 8, 12],
      convGradient: "flipped",
      maskedStyles: 2,
      device: "webgpu",
    });
    const dir = await mkdtemp(join(tmpdir(), "atelier-profile-"));
    try {
      const session = await ort.InferenceSession.create(graph, {
        executionProviders: ["webgpu"],
        enableProfiling: true,
        profileFilePrefix: join(dir, "objective"),
      });
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      session.inputNames.forEach((name, k) => {
        const meta = session.inputMetadata[k]!;
        const dims = (meta.isTensor ? meta.shape : []).map(Number);
        const size = dims.reduce((a, b) => a * b, 1);
        feeds[name] = new ort.Tensor(
          "float32",
          Float32Array.from({ length: size }, (_, i) => (i % 7) + 1),
          dims,
        );
      });
      await session.run(feeds);
      session.endProfiling();
      await session.release();
      const file = (await readdir(dir)).find((f) => f.endsWith(".json"));
      expect(file).toBeDefined();
      const events = JSON.parse(await readFile(join(dir, file!), "utf8")) as {
        cat: string;
        name: string;
        args?: { op_name?: string; provider?: string };
      }[];
      const nodes = events.filter((e) => e.cat === "Node" && e.args?.provider);
      const byProvider = new Map<string, number>();
      for (const e of nodes) byProvider.set(e.args!.provider!, (byProvider.get(e.args!.provider!) ?? 0) + 1);
      console.log(`${pooling} pooling, one iteration: nodes run per provider`, Object.fromEntries(byProvider));
      expect(nodes.length).toBeGreaterThan(100);
      const elsewhere = nodes.filter((e) => e.args!.provider !== "WebGpuExecutionProvider");
      expect(elsewhere.map((e) => `${e.args!.op_name} (${e.name})`)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
