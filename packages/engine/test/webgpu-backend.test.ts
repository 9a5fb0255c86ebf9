import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { autoOrder } from "../src/backend.ts";
import { adapterLabel, parseVulkanSummary, pickAdapter, type GpuAdapter } from "../src/gpu-adapter.ts";

const ENGINE = fileURLToPath(new URL("..", import.meta.url));

/** `vulkaninfo --summary`'s device section on a machine with an NVIDIA GPU and lavapipe. */
const SUMMARY = `
==========
VULKANINFO
==========
Devices:
========
GPU0:
	apiVersion         = 1.4.305
	vendorID           = 0x10005
	deviceID           = 0x0000
	deviceType         = PHYSICAL_DEVICE_TYPE_CPU
	deviceName         = llvmpipe (LLVM 15.0.6, 256 bits)
	driverID           = DRIVER_ID_MESA_LLVMPIPE
	driverName         = llvmpipe
	driverInfo         = Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)
GPU1:
	apiVersion         = 1.3.277
	vendorID           = 0x10de
	deviceID           = 0x2330
	deviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
	deviceName         = NVIDIA H100 80GB HBM3
	driverID           = DRIVER_ID_NVIDIA_PROPRIETARY
	driverName         = NVIDIA
	driverInfo         = 550.54.15
`;

const llvmpipe: GpuAdapter = { vendor: "Mesa", device: "llvmpipe", type: "cpu", software: true };
const h100: GpuAdapter = { vendor: "NVIDIA", device: "NVIDIA H100", type: "discrete", software: false };

describe("the GPU adapter", () => {
  it("is read from vulkaninfo's summary, and Dawn's pick is the real GPU over llvmpipe", () => {
    const adapters = parseVulkanSummary(SUMMARY);
    expect(adapters).toEqual([
      {
        vendor: "Mesa",
        device: "llvmpipe (LLVM 15.0.6, 256 bits)",
        type: "cpu",
        software: true,
        driver: "llvmpipe Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)",
      },
      {
        vendor: "NVIDIA",
        device: "NVIDIA H100 80GB HBM3",
        type: "discrete",
        software: false,
        driver: "NVIDIA 550.54.15",
      },
    ]);
    expect(pickAdapter(adapters)?.device).toBe("NVIDIA H100 80GB HBM3");
    expect(pickAdapter([adapters[0]!])?.software).toBe(true);
    expect(pickAdapter([])).toBeNull();
    expect(parseVulkanSummary("ERROR: no drivers")).toEqual([]);
    expect(adapterLabel(adapters[1]!)).toBe("NVIDIA H100 80GB HBM3");
    expect(adapterLabel(adapters[0]!)).toBe("Mesa llvmpipe (LLVM 15.0.6, 256 bits)");
  });

  it("puts a real GPU first in the automatic order, and never a software one", () => {
    expect(autoOrder({ adapter: h100, cuda: true })).toEqual([
      "webgpu",
      "tensorflow-gpu",
      "onnx",
      "tensorflow",
      "wasm",
    ]);
    expect(autoOrder({ adapter: llvmpipe, cuda: false })).toEqual(["onnx", "tensorflow", "wasm"]);
    expect(autoOrder({ adapter: null, cuda: true })).toEqual(["tensorflow-gpu", "onnx", "tensorflow", "wasm"]);
  });
});

/** initBackend in a fresh Node process (the backend is chosen once per process). */
function backendIn(env: Record<string, string>): Promise<Record<string, unknown>> {
  const code = `
    import { initBackend } from "./src/backend.ts";
    try { console.log(JSON.stringify(await initBackend())); }
    catch (e) { console.log(JSON.stringify({ error: e.name, code: e.code, message: e.message })); }
    process.exit(0);`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", code],
      { cwd: ENGINE, env: { ...process.env, ...env }, timeout: 240_000 },
      (error, stdout, stderr) => {
        const last = stdout.trim().split("\n").at(-1);
        if (!last) reject(new Error(`no output (${error?.message ?? "exit 0"}): ${stderr}`));
        else resolve(JSON.parse(last) as Record<string, unknown>);
      },
    );
  });
}

// No Vulkan driver at all: the loader finds no ICD file.
const NO_VULKAN = {
  VK_ICD_FILENAMES: "/nonexistent/atelier-no-driver.json",
  VK_DRIVER_FILES: "/nonexistent/atelier-no-driver.json",
};

describe("the webgpu backend", () => {
  it("runs when forced, on this machine's adapter, and names it", async () => {
    const info = await backendIn({ ATELIER_BACKEND: "webgpu" });
    expect(info).toMatchObject({ backend: "webgpu" });
    const adapter = info.adapter as GpuAdapter;
    expect(adapter.device).not.toBe("");
    expect(info.detail).toContain(`WebGPU on ${adapterLabel(adapter)}`);
  });

  it("without an adapter: a clear error when forced, skipped by the automatic order", async () => {
    const [forced, auto, software] = await Promise.all([
      backendIn({ ...NO_VULKAN, ATELIER_BACKEND: "webgpu" }),
      backendIn({ ...NO_VULKAN, ATELIER_BACKEND: "" }),
      backendIn({ ATELIER_BACKEND: "" }),
    ]);
    expect(forced).toMatchObject({ error: "EngineError", code: "bad_backend" });
    expect(forced.message).toMatch(/WebGPU provider cannot run \(.*adapter.*\); a GPU worker needs a Vulkan driver/);
    expect(auto.backend).toBe("onnx");
    // this machine's adapter, when it is the software one, is not chosen either
    if ((software.adapter as GpuAdapter | undefined)?.software !== false) expect(software.backend).not.toBe("webgpu");
  });
});
