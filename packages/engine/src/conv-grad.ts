/**
 * 3×3 stride-1 'same' convolutions whose input gradient is itself a forward convolution.
 *
 * For a stride-1 'same' conv with an odd kernel, ∂L/∂x = conv(∂L/∂y, W̃) where W̃ is W
 * flipped spatially with its in/out channels swapped (HWIO → H'W'OI). tfjs-backend-wasm's
 * own Conv2DBackpropInput is a plain loop, ~15× slower than its XNNPACK forward conv, so we
 * route the gradient through the forward op. We optimise pixels, never weights, so no
 * kernel gradient is produced: the kernel is a constant captured by the closure.
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * W̃: the kernel flipped in H and W, in/out channels swapped. A copy loop on the kernel's values,
 * not tf.reverse + tf.transpose: for VGG-19's first 13 kernels those cost 7 s of CPU on tfjs's
 * cpu backend (the tests' reference; every element indexed through a buffer) and 0.5 s on wasm
 * (once per run); the loop takes ~0.1 s on either and moves the same values.
 */
export function flipKernel(kernel: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, inChannels, outChannels] = kernel.shape;
  const values = kernel.dataSync();
  const flipped = new Float32Array(values.length);
  const taps = inChannels * outChannels;
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++) {
      const from = ((kh - 1 - h) * kw + (kw - 1 - w)) * taps;
      const to = (h * kw + w) * taps;
      for (let i = 0; i < inChannels; i++)
        for (let o = 0; o < outChannels; o++) flipped[to + o * inChannels + i] = values[from + i * outChannels + o]!;
    }
  return tf.tensor4d(flipped, [kh, kw, outChannels, inChannels]);
}

function checkKernel(kernel: tf.Tensor4D): void {
  const [kh, kw] = kernel.shape;
  if (kh % 2 !== 1 || kw % 2 !== 1) {
    throw new Error(`conv2dSame: the flipped-kernel gradient needs an odd kernel, got ${kh}×${kw}`);
  }
}

/**
 * conv2d(x, kernel, stride 1, 'same') with the flipped-kernel input gradient.
 * `flipped` may be passed to reuse a precomputed flipKernel(kernel).
 */
export function conv2dSame(x: tf.Tensor4D, kernel: tf.Tensor4D, flipped?: tf.Tensor4D): tf.Tensor4D {
  checkKernel(kernel);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = tf.conv2d(args[0] as tf.Tensor4D, kernel, 1, "same");
    return {
      value,
      gradFunc: (dy: tf.Tensor) =>
        flipped
          ? tf.conv2d(dy as tf.Tensor4D, flipped, 1, "same")
          : tf.tidy(() => tf.conv2d(dy as tf.Tensor4D, flipKernel(kernel), 1, "same")),
    };
  });
  return op(x) as tf.Tensor4D;
}

/**
 * relu(conv2d(x, kernel, 1, 'same') + bias) as one fused forward op (XNNPACK fuses bias and
 * clamp), with the input gradient conv(dy ⊙ [y > 0], W̃).
 *
 * The forward calls the FusedConv2D kernel directly: tf.fused.conv2d falls back to three
 * separate ops whenever a gradient is being recorded, which is slower and rounds differently
 * from the fused op used for the targets (so the content loss at the content image would
 * not be exactly 0).
 */
export function conv2dBiasReluSame(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D,
  flipped: tf.Tensor4D,
): tf.Tensor4D {
  checkKernel(kernel);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[1] as tf.GradSaveFunc;
    const attrs: tf.FusedConv2DAttrs = {
      strides: [1, 1],
      pad: "same",
      dataFormat: "NHWC",
      dilations: [1, 1],
      dimRoundingMode: "floor",
      activation: "relu",
    };
    const value = tf
      .engine()
      .runKernel<tf.Tensor4D>(
        tf.FusedConv2D,
        { x: args[0] as tf.Tensor4D, filter: kernel, bias },
        attrs as unknown as tf.NamedAttrMap,
      );
    save([value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const y = saved[0]!;
        return tf.tidy(() => tf.conv2d(tf.mul<tf.Tensor4D>(dy, tf.step(y)), flipped, 1, "same"));
      },
    };
  });
  return op(x);
}

/** The same layer through tfjs's own ops and autodiff (the reference, and the non-wasm path). */
export function conv2dBiasReluAutodiff(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  return tf.relu(tf.add(tf.conv2d(x, kernel, 1, "same"), bias)) as tf.Tensor4D;
}
