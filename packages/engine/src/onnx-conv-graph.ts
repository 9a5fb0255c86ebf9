/** One VGG-19 conv as its own graph, for the bench's per-layer timings and the Winograd tests. */
import { Builder } from "./onnx-builder.ts";
import { flippedOihw, oihw, type RawConv } from "./onnx-graph.ts";
import { winogradConv, type ConvAlgorithm } from "./onnx-winograd.ts";
import { VGG19_CONVS } from "./weights-manifest.ts";

/**
 * One conv of VGG-19 alone — conv i's forward (x [1, Cin, h, w] → y [1, Cout, h, w], no bias)
 * or its input gradient (the flipped-kernel conv, [1, Cout, h, w] → [1, Cin, h, w]) — by
 * `algorithm`: the bench's per-layer timings and the Winograd tests.
 */
export function convGraph(
  conv: RawConv,
  i: number,
  width: number,
  height: number,
  direction: "forward" | "gradient",
  algorithm: ConvAlgorithm,
): Uint8Array {
  const b = new Builder();
  const { inChannels, outChannels } = VGG19_CONVS[i]!;
  const [cin, cout] = direction === "forward" ? [inChannels, outChannels] : [outChannels, inChannels];
  const weights =
    direction === "forward"
      ? oihw(conv.kernel, inChannels, outChannels)
      : flippedOihw(conv.kernel, inChannels, outChannels);
  const x = b.input("x", [1, cin, height, width]);
  let y: string;
  if (algorithm === "direct") {
    y = b.op("Conv", [x, b.floats(weights, [cout, cin, 3, 3])], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
  } else {
    y = winogradConv(b, x, weights, { cin, cout, h: height, w: width }, algorithm);
  }
  b.output("y", y, [1, cout, height, width]);
  return b.encode(`conv${i}_${direction}_${algorithm}`);
}
