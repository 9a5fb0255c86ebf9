/**
 * A whole run on the webgpu backend (through the CLI, a fresh process per backend): 64 px, 10
 * L-BFGS iterations from the same seed on webgpu and on onnx (CPU) converge alike, and the
 * run's --json names the adapter it ran on.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";

const ENGINE = resolve(import.meta.dirname, "..");
const IMAGES = process.env.ATELIER_IMAGES!;
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "atelier-webgpu-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Line {
  iteration?: number;
  total?: number;
  done?: boolean;
  backend?: string;
  adapter?: { vendor: string; device: string; software: boolean };
}

function stylizeOn(backend: string): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  const args = [
    join(ENGINE, "bin/atelier.mjs"),
    "stylize",
    "--content",
    join(IMAGES, "tubingen.jpg"),
    "--style",
    join(IMAGES, "starry_night.jpg"),
    "--out",
    join(dir, `${backend}.png`),
    "--size",
    "64",
    "--iterations",
    "10",
    "--seed",
    "5",
    "--json",
  ];
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { cwd: ENGINE, env: { ...process.env, ATELIER_BACKEND: backend } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => {
      const lines = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Line);
      ok({ code, lines, stderr });
    });
  });
}

it("converges on webgpu as on onnx CPU, and names the adapter", { timeout: 900_000 }, async () => {
  const [gpu, cpu] = await Promise.all([stylizeOn("webgpu"), stylizeOn("onnx")]);
  expect(gpu.code, gpu.stderr).toBe(0);
  expect(cpu.code, cpu.stderr).toBe(0);
  const totals = (r: { lines: Line[] }) => r.lines.filter((l) => l.iteration !== undefined).map((l) => l.total!);
  const [g, c] = [totals(gpu), totals(cpu)];
  expect(g).toHaveLength(10);
  expect(c).toHaveLength(10);
  // the same first point, to float precision
  expect(Math.abs(g[0]! - c[0]!) / c[0]!).toBeLessThan(1e-4);
  // both converge, and to within a few percent of each other (L-BFGS amplifies float noise)
  expect(g[9]!).toBeLessThan(0.5 * g[0]!);
  expect(Math.abs(g[9]! - c[9]!) / c[9]!).toBeLessThan(0.05);
  const done = gpu.lines.find((l) => l.done)!;
  expect(done.backend).toBe("webgpu");
  expect(done.adapter?.device).toBeTruthy();
  expect(cpu.lines.find((l) => l.done)?.adapter).toBeUndefined();
});
