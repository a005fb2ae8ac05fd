/**
 * PyTorch's bicubic resampling (`F.interpolate(mode="bicubic", align_corners=False)`, Keys kernel with
 * a = -0.75, border pixels replicated) written as two interpolation matrices, so resizing a grid is
 * two matMuls: exact, differentiable, and available on every backend.
 *
 * For output index i along an axis of `inSize` inputs:
 *   x = scale·(i + 0.5) - 0.5,  j = floor(x),  t = x - j
 *   out[i] = Σ_k w_k(t) · in[clamp(j - 1 + k, 0, inSize - 1)],  k = 0..3
 * where `scale` is inSize/outSize, or 1/scale_factor when a scale factor is given (as PyTorch does).
 */
import { tf } from "../tf.js";

const A = -0.75;

/** Keys kernel for |x| <= 1. */
function near(x: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}

/** Keys kernel for 1 < |x| < 2. */
function far(x: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

/** The [outSize, inSize] matrix that resamples one axis. */
export function bicubicMatrix(inSize: number, outSize: number, scale: number): Float32Array {
  const m = new Float64Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const x = Math.fround(Math.fround(scale) * (i + 0.5) - 0.5);
    const j = Math.floor(x);
    const t = x - j;
    const weights = [far(t + 1), near(t), near(1 - t), far(2 - t)];
    for (let k = 0; k < 4; k++) {
      const src = Math.min(Math.max(j - 1 + k, 0), inSize - 1);
      m[i * inSize + src] += weights[k];
    }
  }
  return Float32Array.from(m);
}

/**
 * Resizes a grid of vectors.
 * grid [inH·inW, D] (row-major) -> [outH·outW, D]
 */
export function resizeBicubic(
  grid: tf.Tensor,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  scales: { h: number; w: number },
): tf.Tensor {
  const D = (grid.shape as number[])[1];
  const rh = tf.tensor2d(bicubicMatrix(inH, outH, scales.h), [outH, inH]); // [outH, inH]
  const rw = tf.tensor2d(bicubicMatrix(inW, outW, scales.w), [outW, inW]); // [outW, inW]
  const rows = tf.matMul(rh, tf.reshape(grid, [inH, inW * D])); // [outH, inW·D]
  const cols = tf.reshape(tf.transpose(tf.reshape(rows, [outH, inW, D]), [1, 0, 2]), [inW, outH * D]); // [inW, outH·D]
  const both = tf.matMul(rw, cols); // [outW, outH·D]
  return tf.reshape(tf.transpose(tf.reshape(both, [outW, outH, D]), [1, 0, 2]), [outH * outW, D]); // [outH·outW, D]
}
