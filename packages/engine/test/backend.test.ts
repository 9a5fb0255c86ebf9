import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { currentBackend, initBackend } from "../src/backend.ts";

const ENGINE = fileURLToPath(new URL("..", import.meta.url));

/** Runs a snippet in a fresh Node process (the backend is chosen once per process). */
function inFreshProcess(
  code: string,
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", code],
      { cwd: ENGINE, env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

const REPORT = `
import { initBackend } from "./src/backend.ts";
import * as tf from "@tensorflow/tfjs-core";
try {
  const info = await initBackend();
  const again = await initBackend();
  const sum = tf.tidy(() => tf.sum(tf.conv2d(tf.ones([1, 4, 4, 2]), tf.ones([3, 3, 2, 1]), 1, "same")).dataSync()[0]);
  console.log(JSON.stringify({ ...info, same: info === again, tf: tf.getBackend(), sum }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, code: e.code, message: e.message }));
}
process.exit(0);
`;

describe("initBackend", () => {
  it("is idempotent and picks the best available backend", async () => {
    const a = await initBackend();
    const b = await initBackend();
    expect(b).toBe(a);
    expect(currentBackend()).toBe(a);
    // ONNX Runtime's CPU binary ships inside onnxruntime-node: onnx unless a CUDA GPU with tfjs-node-gpu is there.
    expect(["tensorflow-gpu", "onnx"]).toContain(a.backend);
  });

  it("honours ATELIER_BACKEND=cpu and =wasm, threads on or off, with the same numbers", async () => {
    const runs = await Promise.all([
      inFreshProcess(REPORT, { ATELIER_BACKEND: "cpu" }),
      inFreshProcess(REPORT, { ATELIER_BACKEND: "wasm", ATELIER_WASM_THREADS: "0" }),
      inFreshProcess(REPORT, { ATELIER_BACKEND: "wasm", ATELIER_WASM_THREADS: "2" }),
    ]);
    expect(runs[0].stderr).not.toMatch(/looks like you are running/);
    const [cpu, wasm1, wasm2] = runs.map(
      (r) => JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>,
    );
    // 3×3 ones over a 4×4×2 ones image, 'same': 2 × (4 corners·4 + 8 edges·6 + 4 inner·9) = 200
    expect(cpu).toMatchObject({ backend: "cpu", tf: "cpu", same: true, sum: 200 });
    expect(wasm1).toMatchObject({ backend: "wasm", tf: "wasm", detail: "wasm simd, 1 thread", sum: cpu!.sum });
    expect(wasm2).toMatchObject({ backend: "wasm", tf: "wasm", detail: "wasm simd, 2 threads", sum: cpu!.sum });
  });

  it("lets a process with threaded wasm exit on its own (pool threads never hold it open)", async () => {
    const started = Date.now();
    const run = await inFreshProcess(
      `import { initBackend } from "./src/backend.ts";
       import * as tf from "@tensorflow/tfjs-core";
       await initBackend();
       console.log(tf.sum(tf.conv2d(tf.ones([1, 16, 16, 8]), tf.ones([3, 3, 8, 8]), 1, "same")).dataSync()[0]);`,
      { ATELIER_BACKEND: "wasm", ATELIER_WASM_THREADS: "2" },
    );
    expect(run.code).toBe(0);
    expect(Number(run.stdout.trim())).toBe(8 * 8 * (4 * 4 + 56 * 6 + 196 * 9));
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("fails clearly for an unknown or unloadable forced backend", async () => {
    const [unknown, tensorflow] = await Promise.all([
      inFreshProcess(REPORT, { ATELIER_BACKEND: "metal" }),
      inFreshProcess(REPORT, { ATELIER_BACKEND: "tensorflow" }),
    ]);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: "EngineError", code: "bad_backend" });
    expect(JSON.parse(unknown.stdout).message).toMatch(
      /ATELIER_BACKEND=metal is not a backend; use one of webgpu, onnx, tensorflow-gpu, tensorflow, wasm, cpu/,
    );
    const result = JSON.parse(tensorflow.stdout) as Record<string, unknown>;
    if (result.error) {
      // Without the native binding (as on the dev machine) the forced choice must not silently fall back.
      expect(result).toMatchObject({ error: "EngineError", code: "bad_backend" });
      expect(result.message).toMatch(/@tensorflow\/tfjs-node cannot be loaded/);
    } else {
      expect(result).toMatchObject({ backend: "tensorflow", tf: "tensorflow", sum: 200 });
    }
  });

  it("loads ONNX Runtime when forced, and without it fails clearly (forced) or moves on to wasm (automatic)", async () => {
    // A resolve hook that makes onnxruntime-node missing, as on an install without it.
    const withoutOnnx = (code: string) => `
      import { register } from "node:module";
      register("data:text/javascript," + encodeURIComponent(
        'export async function resolve(s, c, next) { if (s === "onnxruntime-node") throw Object.assign(new Error("Cannot find package onnxruntime-node"), { code: "ERR_MODULE_NOT_FOUND" }); return next(s, c); }'));
      ${code}`;
    const [forced, missingForced, missingAuto] = await Promise.all([
      inFreshProcess(REPORT, { ATELIER_BACKEND: "onnx" }),
      inFreshProcess(withoutOnnx(REPORT), { ATELIER_BACKEND: "onnx" }),
      inFreshProcess(withoutOnnx(REPORT), { ATELIER_BACKEND: "" }),
    ]);
    const last = (r: { stdout: string }) => JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    // tfjs (for the image resizing between scales) sits on its cpu backend beside ONNX Runtime
    expect(last(forced)).toMatchObject({ backend: "onnx", tf: "cpu", sum: 200 });
    expect(last(forced).detail).toMatch(/ONNX Runtime .*\(CPU\), \d+ threads?/);
    expect(last(missingForced)).toMatchObject({ error: "EngineError", code: "bad_backend" });
    expect(last(missingForced).message).toMatch(/onnxruntime-node cannot be loaded/);
    expect(["tensorflow", "wasm"]).toContain(last(missingAuto).backend);
  });
});
