/**
 * AdamW as one pass over memory: the same arithmetic as `chain(decoupledWeightDecay(wd), adam(...))`
 * in `updates.ts`, bit for bit, as a kernel (`MmfmAdamW`) for the CPU-side backends: a SIMD loop on
 * wasm (float32 lanes round exactly as the composed float32 kernels do) and a JavaScript loop on cpu
 * (`Math.fround` after every operation for the same effect). A test checks both against the
 * composed version. The optional `gradScale` input is clipping's coefficient, applied to the
 * gradient first as clip_grad_norm_ does, without a pass of its own.
 *
 * The composed version runs 11-12 element-wise kernels per parameter, each a pass over memory.
 * Backends without the kernel (webgpu, tensorflow) use it.
 */
import { tf } from "../tf.js";
import { f32View, offsetOf, type WasmBackend } from "../backend/wasm_kernels/internals.js";
import { simdKernels } from "../backend/wasm_simd/module.js";
import { adamScalars } from "./updates.js";

export const ADAMW_KERNEL = "MmfmAdamW";

export interface AdamWAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  lr: number;
  step: number;
}

interface Arrays {
  p: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
  pOut: Float32Array;
  mOut: Float32Array;
  vOut: Float32Array;
}

/** The float32 scalars of one update, as the composed version applies them. */
function scalars(attrs: AdamWAttrs, gradScale: number) {
  const f = Math.fround;
  const s = adamScalars(attrs.beta1, attrs.beta2, attrs.eps, attrs.step, attrs.lr);
  return {
    gradScale: f(gradScale),
    // weight decay 0 skips the multiply in the composed version; multiplying by 1 is exact anyway.
    decay: attrs.weightDecay === 0 ? 1 : f(1 - attrs.lr * attrs.weightDecay),
    b1: f(attrs.beta1),
    c1: f(1 - attrs.beta1),
    b2: f(attrs.beta2),
    c2: f(1 - attrs.beta2),
    bc2: f(s.biasCorrection2Sqrt),
    eps: f(attrs.eps),
    negStep: f(-s.stepSize),
  };
}

function run(a: Arrays, attrs: AdamWAttrs, gradScale: number): void {
  const f = Math.fround;
  const { gradScale: gs, decay, b1, c1, b2, c2, bc2, eps, negStep } = scalars(attrs, gradScale);
  const { p, g, m, v, pOut, mOut, vOut } = a;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const gi = f(g[i] * gs);
    const p1 = f(p[i] * decay);
    const m1 = f(f(m[i] * b1) + f(c1 * gi));
    const v1 = f(f(v[i] * b2) + f(f(c2 * gi) * gi));
    const denom = f(f(f(Math.sqrt(v1)) / bc2) + eps);
    pOut[i] = p1 + f(f(negStep * m1) / denom);
    mOut[i] = m1;
    vOut[i] = v1;
  }
}

type Inputs = { param: tf.TensorInfo; grad: tf.TensorInfo; expAvg: tf.TensorInfo; expAvgSq: tf.TensorInfo; gradScale?: tf.TensorInfo };

function checkInputs(inputs: Partial<Inputs>): Inputs {
  const { param, grad, expAvg, expAvgSq, gradScale } = inputs;
  if (param == null || grad == null || expAvg == null || expAvgSq == null) {
    throw new Error(`${ADAMW_KERNEL} needs param, grad, expAvg and expAvgSq`);
  }
  for (const t of [grad, expAvg, expAvgSq]) {
    if (t.shape.join(",") !== param.shape.join(",") || t.dtype !== "float32") {
      throw new Error(`${ADAMW_KERNEL}: a float32 tensor of shape [${param.shape}] expected, got ${t.dtype} [${t.shape}]`);
    }
  }
  if (gradScale != null && (gradScale.shape.length !== 0 || gradScale.dtype !== "float32")) {
    throw new Error(`${ADAMW_KERNEL}: gradScale must be a float32 scalar, got ${gradScale.dtype} [${gradScale.shape}]`);
  }
  return { param, grad, expAvg, expAvgSq, gradScale };
}

function wasmKernel(args: { inputs: Partial<Inputs>; backend: unknown; attrs: AdamWAttrs }): tf.TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { param, grad, expAvg, expAvgSq, gradScale } = checkInputs(args.inputs);
  const outs = [0, 1, 2].map(() => backend.makeOutput(param.shape, "float32"));
  const scale = gradScale == null ? 1 : f32View(backend, gradScale)[0];
  const s = scalars(args.attrs, scale);
  const at = (t: tf.TensorInfo) => offsetOf(backend, t);
  simdKernels(backend.wasm).adamw(
    at(param), at(grad), at(expAvg), at(expAvgSq), at(outs[0]), at(outs[1]), at(outs[2]),
    param.shape.reduce((x, y) => x * y, 1),
    s.gradScale, s.decay, s.b1, s.c1, s.b2, s.c2, s.bc2, s.eps, s.negStep,
  );
  return outs;
}

interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): tf.TensorInfo;
}

function cpuKernel(args: { inputs: Partial<Inputs>; backend: unknown; attrs: AdamWAttrs }): tf.TensorInfo[] {
  const backend = args.backend as CpuBackend;
  const { param, grad, expAvg, expAvgSq, gradScale } = checkInputs(args.inputs);
  const n = param.shape.reduce((x, y) => x * y, 1);
  const values = (t: tf.TensorInfo) => backend.data.get(t.dataId).values;
  const pOut = new Float32Array(n);
  const mOut = new Float32Array(n);
  const vOut = new Float32Array(n);
  const scale = gradScale == null ? 1 : values(gradScale)[0];
  run({ p: values(param), g: values(grad), m: values(expAvg), v: values(expAvgSq), pOut, mOut, vOut }, args.attrs, scale);
  return [pOut, mOut, vOut].map((vals) => backend.makeTensorInfo(param.shape, "float32", vals));
}

let registered = false;

/** Registers the kernel on wasm and cpu (idempotent). */
export function registerFusedAdamW(): void {
  if (registered) return;
  registered = true;
  for (const [backendName, kernelFunc] of [
    ["wasm", wasmKernel],
    ["cpu", cpuKernel],
  ] as const) {
    if (tf.getKernel(ADAMW_KERNEL, backendName) == null) {
      tf.registerKernel({ kernelName: ADAMW_KERNEL, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    }
  }
}

/** Whether the active backend has the fused kernel. */
export function hasFusedAdamW(): boolean {
  registerFusedAdamW();
  return tf.getKernel(ADAMW_KERNEL, tf.getBackend()) != null;
}

/** [param, expAvg, expAvgSq] after one AdamW update, on the fused kernel. */
export function fusedAdamW(
  param: tf.Tensor,
  grad: tf.Tensor,
  expAvg: tf.Tensor,
  expAvgSq: tf.Tensor,
  attrs: AdamWAttrs,
  gradScale?: tf.Scalar,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const inputs: Record<string, tf.Tensor> = { param, grad, expAvg, expAvgSq };
  if (gradScale != null) inputs.gradScale = gradScale;
  const out = tf.engine().runKernel(
    ADAMW_KERNEL,
    inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  return [out[0], out[1], out[2]];
}
