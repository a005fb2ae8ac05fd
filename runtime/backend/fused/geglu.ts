/**
 * GeGLU: gelu_tanh(gate) * up, Gemma's MLP activation (transformers' `gelu_pytorch_tanh`).
 *
 *   gelu_tanh(x) = (0.5 x) (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   torch's operation order
 *
 * Composed from tfjs ops this is 9 kernels forward and ~20 backward, each a pass over the [tokens,
 * mlp] activations (and tfjs-wasm's Tanh alone takes ~15 ms per million); on wasm it is one SIMD
 * pass each way.
 */
import { tf } from "../../tf.js";
import { offsetOf, sizeOf, type WasmBackend } from "../wasm_kernels/internals.js";
import { GELU_BETA, GELU_KAPPA } from "../wasm_simd/kernels.js";
import { simdKernels } from "../wasm_simd/module.js";
import { hasKernel, registerFusedGradient, type FusedOpSpec } from "./fused_op.js";

export const GEGLU: FusedOpSpec = { name: "MmfmGeGLU", inputs: ["gate", "up"], gradName: "MmfmGeGLUGrad" };

/** gelu_tanh(x) from tfjs ops, in torch's order. */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(GELU_BETA, tf.add(x, tf.mul(GELU_KAPPA, tf.mul(tf.mul(x, x), x))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

/** gelu_tanh(gate) * up; gate and up of the same shape. */
export function geglu(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  if (gate.shape.join(",") !== up.shape.join(",")) {
    throw new Error(`geglu: gate [${gate.shape}] and up [${up.shape}] must have the same shape`);
  }
  if (hasKernel(GEGLU.name) && gate.dtype === "float32" && up.dtype === "float32") {
    return tf.engine().runKernel(GEGLU.name, { gate, up }) as tf.Tensor;
  }
  return tf.mul(geluTanh(gate), up);
}

type Inputs = { gate?: tf.TensorInfo; up?: tf.TensorInfo; dy?: tf.TensorInfo };

function forwardWasm(args: { inputs: Inputs; backend: unknown }): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { gate, up } = args.inputs as Required<Inputs>;
  const out = backend.makeOutput(gate.shape, "float32");
  simdKernels(backend.wasm).geglu(offsetOf(backend, gate), offsetOf(backend, up), offsetOf(backend, out), sizeOf(gate.shape));
  return out;
}

function backwardWasm(args: { inputs: Inputs; backend: unknown }): tf.TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { gate, up, dy } = args.inputs as Required<Inputs>;
  const dGate = backend.makeOutput(gate.shape, "float32");
  const dUp = backend.makeOutput(gate.shape, "float32");
  const k = simdKernels(backend.wasm);
  k.gegluGrad(
    offsetOf(backend, gate), offsetOf(backend, up), offsetOf(backend, dy),
    offsetOf(backend, dGate), offsetOf(backend, dUp), sizeOf(gate.shape),
  );
  return [dGate, dUp];
}

/** Registers the wasm kernels and the gradient. */
export function registerGeglu(): void {
  registerFusedGradient(GEGLU);
  for (const [name, fn] of [
    [GEGLU.name, forwardWasm],
    [GEGLU.gradName, backwardWasm],
  ] as const) {
    if (tf.getKernel(name, "wasm") == null) {
      tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as unknown as tf.KernelFunc });
    }
  }
}
