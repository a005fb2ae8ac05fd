/**
 * rotate_half for rotary position embeddings (transformers' `rotate_half`, as Gemma and Llama use):
 *
 *   x [..., D] -> [-x[..., D/2:], x[..., :D/2]]
 *
 * so RoPE is `x * cos + rotateHalf(x) * sin`. From tfjs ops that is slice, slice, neg, concat forward
 * and split, neg, pad, pad, add backward; on wasm one block copy each way (its gradient is
 * [dy2, -dy1] = -rotateHalf(dy)).
 */
import { tf } from "../../tf.js";
import { f32View, type WasmBackend } from "../wasm_kernels/internals.js";
import { hasKernel, registerFusedGradient, type FusedOpSpec } from "./fused_op.js";

export const ROTATE_HALF: FusedOpSpec = { name: "MmfmRotateHalf", inputs: ["x"], gradName: "MmfmRotateHalfGrad" };

export function rotateHalf(x: tf.Tensor): tf.Tensor {
  const d = x.shape[x.rank - 1];
  if (d % 2 !== 0) throw new Error(`rotateHalf: the last dimension must be even, got [${x.shape}]`);
  if (hasKernel(ROTATE_HALF.name) && x.dtype === "float32") return tf.engine().runKernel(ROTATE_HALF.name, { x });
  const x1 = tf.slice(x, new Array(x.rank).fill(0), [...x.shape.slice(0, -1), d / 2]);
  const x2 = tf.slice(x, [...new Array(x.rank - 1).fill(0), d / 2], [...x.shape.slice(0, -1), d / 2]);
  return tf.concat([tf.neg(x2), x1], -1);
}

/** out = sign * [-x2, x1] per row of the last dimension. */
function rotate(backend: WasmBackend, x: tf.TensorInfo, sign: 1 | -1): tf.TensorInfo {
  const d = x.shape[x.shape.length - 1];
  const half = d / 2;
  const out = backend.makeOutput(x.shape, "float32");
  const src = f32View(backend, x);
  const dst = f32View(backend, out);
  for (let r = 0; r < src.length; r += d) {
    for (let j = 0; j < half; j++) {
      dst[r + j] = -sign * src[r + half + j];
      dst[r + half + j] = sign * src[r + j];
    }
  }
  return out;
}

export function registerRotateHalf(): void {
  registerFusedGradient(ROTATE_HALF);
  const kernels: [string, (args: { inputs: { x?: tf.TensorInfo; dy?: tf.TensorInfo }; backend: unknown }) => tf.TensorInfo | tf.TensorInfo[]][] = [
    [ROTATE_HALF.name, (a) => rotate(a.backend as WasmBackend, a.inputs.x as tf.TensorInfo, 1)],
    // the gradient kernel gets {x, dy} and returns d/dx = -rotateHalf(dy)
    [ROTATE_HALF.gradName, (a) => [rotate(a.backend as WasmBackend, a.inputs.dy as tf.TensorInfo, -1)]],
  ];
  for (const [name, fn] of kernels) {
    if (tf.getKernel(name, "wasm") == null) {
      tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as unknown as tf.KernelFunc });
    }
  }
}
