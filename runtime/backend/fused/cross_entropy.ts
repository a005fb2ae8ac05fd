/**
 * Mean cross-entropy over the rows whose label is not `ignoreIndex`, as torch.nn.CrossEntropyLoss()
 * (and transformers' causal-LM loss) computes it; no valid row gives 0/0 = NaN, as in PyTorch.
 *
 *   logits [M, V], labels [M] int32 -> scalar
 *
 * On wasm (V a multiple of 4): forward is one SIMD pass for each row's max and sum of exponentials
 * plus a per-row logarithm; backward one pass writing softmax * (dy / count) and subtracting at the
 * labels. On webgpu: WGSL programs (fused/webgpu.ts). The composed version (other backends, or V not
 * a multiple of 4 on wasm) is ~12 kernels each way.
 */
import { tf } from "../../tf.js";
import { f32View, heap, i32View, offsetOf, type WasmBackend } from "../wasm_kernels/internals.js";
import { simdKernels } from "../wasm_simd/module.js";
import { hasKernel, registerFusedGradient, type FusedOpSpec } from "./fused_op.js";

export const CROSS_ENTROPY: FusedOpSpec = { name: "MmfmCrossEntropy", inputs: ["logits", "labels"], gradName: "MmfmCrossEntropyGrad" };

export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, ignoreIndex = -100): tf.Scalar {
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`crossEntropy: logits must be [M, V] and labels [M], got [${logits.shape}] and [${labels.shape}]`);
  }
  const [, V] = logits.shape;
  // the wasm kernel reads rows 4 floats at a time; the WGSL one takes any V
  const fits = V % 4 === 0 || tf.getBackend() === "webgpu";
  if (hasKernel(CROSS_ENTROPY.name) && logits.dtype === "float32" && labels.dtype === "int32" && fits) {
    return tf.engine().runKernel(CROSS_ENTROPY.name, { logits, labels }, { ignoreIndex }) as tf.Scalar;
  }
  return tf.tidy(() => {
    const valid = tf.notEqual(labels, ignoreIndex); // [M]
    const safe = tf.where(valid, labels, tf.zerosLike(labels)); // [M], ignored rows read column 0
    const picked = tf.sum(tf.mul(logits, tf.oneHot(safe, V)), -1); // [M]: the label's logit
    const nll = tf.sub(tf.logSumExp(logits, -1), picked); // [M]
    const weight = tf.cast(valid, "float32");
    return tf.div(tf.sum(tf.mul(nll, weight)), tf.sum(weight)) as tf.Scalar;
  });
}

type Inputs = { logits?: tf.TensorInfo; labels?: tf.TensorInfo; dy?: tf.TensorInfo };

/** Row statistics [M, 2] = (max, sum of exp(x - max)) in a temporary tensor the caller disposes. */
function rowStats(backend: WasmBackend, logits: tf.TensorInfo): tf.TensorInfo {
  const [M, V] = logits.shape;
  const stats = backend.makeOutput([M, 2], "float32");
  simdKernels(backend.wasm).rowMaxSumExp(offsetOf(backend, logits), M, V, offsetOf(backend, stats));
  return stats;
}

function forwardWasm(args: { inputs: Inputs; backend: unknown; attrs: { ignoreIndex: number } }): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { logits, labels } = args.inputs as Required<Inputs>;
  const [M, V] = logits.shape;
  const stats = rowStats(backend, logits);
  const out = backend.makeOutput([], "float32");
  const s = f32View(backend, stats);
  const x = f32View(backend, logits);
  const y = i32View(backend, labels);
  let total = 0;
  let count = 0;
  for (let r = 0; r < M; r++) {
    const label = y[r];
    if (label === args.attrs.ignoreIndex) continue;
    if (label < 0 || label >= V) throw new Error(`crossEntropy: label ${label} at row ${r} is outside [0, ${V})`);
    total += s[2 * r] + Math.log(s[2 * r + 1]) - x[r * V + label];
    count++;
  }
  f32View(backend, out)[0] = total / count;
  backend.disposeData(stats.dataId);
  return out;
}

function backwardWasm(args: { inputs: Inputs; backend: unknown; attrs: { ignoreIndex: number } }): tf.TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { logits, labels, dy } = args.inputs as Required<Inputs>;
  const [M, V] = logits.shape;
  const stats = rowStats(backend, logits);
  const dLogits = backend.makeOutput([M, V], "float32");
  const dLabels = backend.makeOutput([M], "int32");
  const y = i32View(backend, labels);
  let count = 0;
  for (let r = 0; r < M; r++) if (y[r] !== args.attrs.ignoreIndex) count++;
  const g = f32View(backend, dy)[0] / count;
  const s = f32View(backend, stats);
  for (let r = 0; r < M; r++) s[2 * r + 1] = y[r] === args.attrs.ignoreIndex ? 0 : g / s[2 * r + 1];
  simdKernels(backend.wasm).softmaxScaled(offsetOf(backend, logits), offsetOf(backend, dLogits), M, V, offsetOf(backend, stats));
  const d = f32View(backend, dLogits);
  for (let r = 0; r < M; r++) if (y[r] !== args.attrs.ignoreIndex) d[r * V + y[r]] -= g;
  new Int32Array(heap(backend), offsetOf(backend, dLabels), M).fill(0);
  backend.disposeData(stats.dataId);
  return [dLogits, dLabels];
}

export function registerCrossEntropy(): void {
  registerFusedGradient(CROSS_ENTROPY);
  for (const [name, fn] of [
    [CROSS_ENTROPY.name, forwardWasm],
    [CROSS_ENTROPY.gradName, backwardWasm],
  ] as const) {
    if (tf.getKernel(name, "wasm") == null) {
      tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as unknown as tf.KernelFunc });
    }
  }
}
