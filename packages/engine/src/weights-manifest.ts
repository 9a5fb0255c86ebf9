/**
 * The VGG-19 convolutional layers as a TensorFlow.js weights manifest: what the 16 layers
 * must look like, how to find them in any tfjs conversion of the Keras model (which also
 * carries the fully connected layers we never need), and how to turn a group's bytes into
 * our local layout (one `blockN_convM.bin` per layer: float32 kernel [3,3,in,out] then bias).
 * Pure functions, no IO: shared by scripts/download-weights.ts and anything that reads a
 * manifest from a URL.
 */

export type WeightDtype = "float32" | "int32" | "bool" | "string" | "complex64";
export type QuantizationDtype = "uint8" | "uint16" | "float16";

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  /** tfjs-converter quantisation: value = q × scale + min (uint8/uint16), or IEEE half (float16) */
  quantization?: { dtype: QuantizationDtype; scale?: number; min?: number };
}

export interface WeightsGroup {
  paths: string[];
  weights: WeightEntry[];
}

/** A manifest that does not describe the VGG-19 conv layers we need (or is not a manifest). */
export class ManifestError extends Error {
  override name = "ManifestError";
}

/** The 16 conv layers of VGG-19: Keras name, input channels, output channels. */
export const VGG19_CONV_LAYERS: readonly { name: string; inChannels: number; outChannels: number }[] = [
  ["block1_conv1", 3, 64],
  ["block1_conv2", 64, 64],
  ["block2_conv1", 64, 128],
  ["block2_conv2", 128, 128],
  ["block3_conv1", 128, 256],
  ["block3_conv2", 256, 256],
  ["block3_conv3", 256, 256],
  ["block3_conv4", 256, 256],
  ["block4_conv1", 256, 512],
  ["block4_conv2", 512, 512],
  ["block4_conv3", 512, 512],
  ["block4_conv4", 512, 512],
  ["block5_conv1", 512, 512],
  ["block5_conv2", 512, 512],
  ["block5_conv3", 512, 512],
  ["block5_conv4", 512, 512],
].map(([name, inChannels, outChannels]) => ({
  name: name as string,
  inChannels: inChannels as number,
  outChannels: outChannels as number,
}));

/** The 16 conv layers of VGG-19 in order, with their channel counts as the engine names them (conv1_1 … conv5_4). */
export const VGG19_CONVS: readonly {
  name: string;
  block: number;
  index: number;
  inChannels: number;
  outChannels: number;
}[] = VGG19_CONV_LAYERS.map(({ name, inChannels, outChannels }) => {
  const [, block, index] = /^block(\d)_conv(\d)$/.exec(name)!;
  return { name: `conv${block}_${index}`, block: Number(block), index: Number(index), inChannels, outChannels };
});

export function kernelShape(layer: { inChannels: number; outChannels: number }): number[] {
  return [3, 3, layer.inChannels, layer.outChannels];
}

/** Bytes of one layer in our layout (float32 kernel + bias). */
export function layerByteLength(layer: { inChannels: number; outChannels: number }): number {
  return (9 * layer.inChannels * layer.outChannels + layer.outChannels) * 4;
}

/** 80,097,536 bytes for the 16 layers. */
export const VGG19_CONV_BYTES = VGG19_CONV_LAYERS.reduce((sum, layer) => sum + layerByteLength(layer), 0);

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes the entry occupies in its group's shards (quantised entries are smaller). */
export function entryByteLength(entry: WeightEntry): number {
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const bytes = BYTES_PER[dtype];
  if (bytes === undefined) throw new ManifestError(`weight ${entry.name} has unsupported dtype ${dtype}`);
  return elementCount(entry.shape) * bytes;
}

export function groupByteLength(group: WeightsGroup): number {
  return group.weights.reduce((sum, entry) => sum + entryByteLength(entry), 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads `weightsManifest` from a model.json (a LayersModel / GraphModel JSON or a bare weights manifest file). */
export function parseWeightsManifest(json: unknown): WeightsGroup[] {
  const manifest = isObject(json) ? json.weightsManifest : undefined;
  if (!Array.isArray(manifest)) throw new ManifestError("model.json has no weightsManifest array");
  return manifest.map((group, g) => {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ManifestError(`weightsManifest[${g}] needs paths and weights arrays`);
    }
    const paths = group.paths.map((p) => {
      if (typeof p !== "string" || p === "") throw new ManifestError(`weightsManifest[${g}].paths holds a non-string`);
      return p;
    });
    const weights = group.weights.map((w, k): WeightEntry => {
      const where = `weightsManifest[${g}].weights[${k}]`;
      if (!isObject(w) || typeof w.name !== "string" || typeof w.dtype !== "string" || !Array.isArray(w.shape)) {
        throw new ManifestError(`${where} needs name, shape and dtype`);
      }
      const shape = w.shape.map((d) => {
        if (typeof d !== "number" || !Number.isInteger(d) || d < 0)
          throw new ManifestError(`${where} (${String(w.name)}) has a bad shape`);
        return d;
      });
      const entry: WeightEntry = { name: w.name, shape, dtype: w.dtype as WeightDtype };
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isObject(q) || (q.dtype !== "uint8" && q.dtype !== "uint16" && q.dtype !== "float16")) {
          throw new ManifestError(`${where} (${w.name}) has an unsupported quantization`);
        }
        entry.quantization = {
          dtype: q.dtype,
          ...(typeof q.scale === "number" ? { scale: q.scale } : {}),
          ...(typeof q.min === "number" ? { min: q.min } : {}),
        };
      }
      return entry;
    });
    return { paths, weights };
  });
}

export interface ConvLayerSource {
  layer: (typeof VGG19_CONV_LAYERS)[number];
  /** index into the remote manifest */
  groupIndex: number;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Finds the group holding each conv layer's kernel and bias, checking names, shapes and dtypes.
 * Returns the groups to fetch, in layer order, each once (a converter may pack several layers
 * into one group).
 */
export function locateConvLayers(groups: WeightsGroup[]): { sources: ConvLayerSource[]; groupIndices: number[] } {
  const where = new Map<string, { group: number; entry: WeightEntry }>();
  groups.forEach((group, g) => group.weights.forEach((entry) => where.set(entry.name, { group: g, entry })));
  const sources: ConvLayerSource[] = [];
  for (const layer of VGG19_CONV_LAYERS) {
    const kernel = where.get(`${layer.name}/kernel`);
    const bias = where.get(`${layer.name}/bias`);
    if (!kernel || !bias)
      throw new ManifestError(
        `the manifest has no ${layer.name}/${kernel ? "bias" : "kernel"}: is it a VGG-19 conversion?`,
      );
    if (kernel.group !== bias.group) throw new ManifestError(`${layer.name}: kernel and bias are in different groups`);
    if (!sameShape(kernel.entry.shape, kernelShape(layer))) {
      throw new ManifestError(
        `${layer.name}/kernel has shape [${kernel.entry.shape.join(",")}], expected [${kernelShape(layer).join(",")}]`,
      );
    }
    if (!sameShape(bias.entry.shape, [layer.outChannels])) {
      throw new ManifestError(
        `${layer.name}/bias has shape [${bias.entry.shape.join(",")}], expected [${layer.outChannels}]`,
      );
    }
    for (const entry of [kernel.entry, bias.entry]) {
      if (entry.dtype !== "float32") throw new ManifestError(`${entry.name} is ${entry.dtype}, expected float32`);
    }
    sources.push({ layer, groupIndex: kernel.group });
  }
  const groupIndices = [...new Set(sources.map((s) => s.groupIndex))];
  return { sources, groupIndices };
}

/** IEEE 754 half → float. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Decodes one entry's bytes to float32 values, undoing tfjs-converter quantisation. */
export function decodeEntry(entry: WeightEntry, bytes: Uint8Array): Float32Array {
  const count = elementCount(entry.shape);
  if (bytes.byteLength !== entryByteLength(entry)) {
    throw new ManifestError(`${entry.name}: ${bytes.byteLength} bytes, expected ${entryByteLength(entry)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  const q = entry.quantization;
  if (!q) {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (q.dtype === "float16") {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    for (let i = 0; i < count; i++)
      out[i] = (q.dtype === "uint8" ? view.getUint8(i) : view.getUint16(i * 2, true)) * scale + min;
  }
  return out;
}

/** Byte offset of each entry inside its group's concatenated shards. */
function entryOffsets(group: WeightsGroup): Map<string, { offset: number; entry: WeightEntry }> {
  const offsets = new Map<string, { offset: number; entry: WeightEntry }>();
  let offset = 0;
  for (const entry of group.weights) {
    offsets.set(entry.name, { offset, entry });
    offset += entryByteLength(entry);
  }
  return offsets;
}

/** Our `.bin` for one layer (float32 little-endian kernel then bias) from its group's bytes. */
export function layerFileBytes(layerName: string, group: WeightsGroup, groupBytes: Uint8Array): Uint8Array {
  if (groupBytes.byteLength !== groupByteLength(group)) {
    throw new ManifestError(
      `group of ${layerName}: got ${groupBytes.byteLength} bytes, the manifest says ${groupByteLength(group)}`,
    );
  }
  const offsets = entryOffsets(group);
  const parts = ["kernel", "bias"].map((kind) => {
    const found = offsets.get(`${layerName}/${kind}`);
    if (!found) throw new ManifestError(`${layerName}/${kind} is not in its group`);
    return decodeEntry(found.entry, groupBytes.subarray(found.offset, found.offset + entryByteLength(found.entry)));
  });
  const out = new Uint8Array((parts[0]!.length + parts[1]!.length) * 4);
  const view = new DataView(out.buffer);
  let i = 0;
  for (const values of parts) for (const v of values) view.setFloat32(4 * i++, v, true);
  return out;
}

/** Our local model.json: one group per layer, `blockN_convM.bin`, kernel then bias, float32. */
export function localManifest(generatedBy: string): {
  format: string;
  generatedBy: string;
  weightsManifest: WeightsGroup[];
} {
  return {
    format: "weights-manifest",
    generatedBy,
    weightsManifest: VGG19_CONV_LAYERS.map((layer) => ({
      paths: [`${layer.name}.bin`],
      weights: [
        { name: `${layer.name}/kernel`, shape: kernelShape(layer), dtype: "float32" },
        { name: `${layer.name}/bias`, shape: [layer.outChannels], dtype: "float32" },
      ],
    })),
  };
}
