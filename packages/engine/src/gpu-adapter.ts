/**
 * Which GPU adapter ONNX Runtime's WebGPU provider (Dawn on Vulkan) will run on, and whether it
 * is a real GPU or a software one (Mesa's lavapipe, "llvmpipe": a CPU pretending to be a GPU,
 * good for correctness tests, never for speed).
 *
 * ONNX Runtime's Node binding does not say which adapter Dawn picked, so we ask Vulkan the
 * same question: `vulkaninfo --summary` (vulkan-tools) lists the devices, and Dawn's
 * high-performance request takes a discrete GPU before an integrated one before anything else,
 * and a CPU device last. Without vulkaninfo, an NVIDIA driver's /proc entry still names the
 * GPU; otherwise the adapter is unknown (and the automatic order does not pick webgpu).
 */
import { execFile } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";

export type AdapterType = "discrete" | "integrated" | "virtual" | "cpu" | "other";

export interface GpuAdapter {
  /** "NVIDIA", "AMD", "Intel", "Mesa", … or the PCI vendor id in hex */
  vendor: string;
  /** the device's own name, e.g. "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15.0.6, 256 bits)" */
  device: string;
  type: AdapterType;
  /** a CPU rasteriser (lavapipe, SwiftShader): correct, never fast */
  software: boolean;
  /** driver name and version, when known */
  driver?: string;
}

const VENDORS: Record<number, string> = {
  0x10de: "NVIDIA",
  0x1002: "AMD",
  0x8086: "Intel",
  0x10005: "Mesa",
  0x13b5: "ARM",
  0x5143: "Qualcomm",
  0x106b: "Apple",
  0x1af4: "virtio",
};

const TYPES: Record<string, AdapterType> = {
  PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: "discrete",
  PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: "integrated",
  PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: "virtual",
  PHYSICAL_DEVICE_TYPE_CPU: "cpu",
};

/** The devices of `vulkaninfo --summary`'s "Devices:" section, in its order. */
export function parseVulkanSummary(text: string): GpuAdapter[] {
  const devices = text.split(/^\s*Devices:\s*$/m)[1];
  if (!devices) return [];
  return devices
    .split(/^GPU\d+:\s*$/m)
    .slice(1)
    .map((block) => {
      const field = (name: string) => new RegExp(`^\\s*${name}\\s*=\\s*(.+?)\\s*$`, "m").exec(block)?.[1];
      const vendorId = Number.parseInt(field("vendorID") ?? "", 16);
      const type = TYPES[field("deviceType") ?? ""] ?? "other";
      const driverName = field("driverName");
      const driverInfo = field("driverInfo");
      const adapter: GpuAdapter = {
        vendor: VENDORS[vendorId] ?? (Number.isFinite(vendorId) ? `0x${vendorId.toString(16)}` : "unknown"),
        device: field("deviceName") ?? "unknown",
        type,
        software: type === "cpu" || /llvmpipe|lavapipe|swiftshader/i.test(`${driverName ?? ""} ${field("deviceName")}`),
      };
      const driver = [driverName, driverInfo].filter(Boolean).join(" ");
      if (driver) adapter.driver = driver;
      return adapter;
    });
}

const PREFERENCE: readonly AdapterType[] = ["discrete", "integrated", "virtual", "other", "cpu"];

/** The adapter Dawn's high-performance request picks: discrete, integrated, other, then CPU. */
export function pickAdapter(adapters: readonly GpuAdapter[]): GpuAdapter | null {
  let best: GpuAdapter | null = null;
  for (const a of adapters) {
    const rank = (x: GpuAdapter) => PREFERENCE.indexOf(x.software ? "cpu" : x.type);
    if (!best || rank(a) < rank(best)) best = a;
  }
  return best;
}

/** "NVIDIA NVIDIA H100 80GB HBM3" reads badly: the device name, prefixed by the vendor unless it already says it. */
export function adapterLabel(adapter: Pick<GpuAdapter, "vendor" | "device">): string {
  return adapter.device.toLowerCase().startsWith(adapter.vendor.toLowerCase())
    ? adapter.device
    : `${adapter.vendor} ${adapter.device}`;
}

/**
 * The adapter the WebGPU provider will use, or null when no Vulkan device can be seen (or
 * none can be named: no vulkaninfo and no NVIDIA driver). Runs vulkaninfo once per call.
 */
export async function detectAdapter(): Promise<GpuAdapter | null> {
  const summary = await vulkanSummary();
  if (summary !== null) return pickAdapter(parseVulkanSummary(summary));
  return nvidiaFromProc();
}

function vulkanSummary(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("vulkaninfo", ["--summary"], { timeout: 15_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      // vulkaninfo exits non-zero when no driver loads: then no device either
      resolve(error && !stdout ? null : String(stdout));
    });
  });
}

async function nvidiaFromProc(): Promise<GpuAdapter | null> {
  const root = "/proc/driver/nvidia/gpus";
  try {
    for (const gpu of await readdir(root)) {
      const info = await readFile(path.join(root, gpu, "information"), "utf8");
      const model = /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim();
      if (model) return { vendor: "NVIDIA", device: model, type: "discrete", software: false };
    }
  } catch {
    // no NVIDIA driver
  }
  return null;
}
