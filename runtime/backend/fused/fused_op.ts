/**
 * A fused op: one kernel forward and one kernel backward where a backend has them (wasm, through the
 * SIMD module), the same math from plain tfjs ops everywhere else (cpu, webgpu, tensorflow).
 *
 * The forward kernel is registered with a gradient that runs the backward kernel once and hands its
 * outputs to the engine, so the fused op works under `tf.grad`/`variableGrads` like any other.
 */
import { tf } from "../../tf.js";

export interface FusedOpSpec {
  /** Kernel name of the forward pass, e.g. `MmfmGeGLU`. */
  name: string;
  /** Input names in order (as passed to runKernel). */
  inputs: string[];
  /** Kernel name of the backward pass: inputs `[...inputs, dy]`, one output per input. */
  gradName: string;
}

const gradientsRegistered = new Set<string>();

/** Registers the gradient of a fused forward kernel (once). */
export function registerFusedGradient(spec: FusedOpSpec): void {
  if (gradientsRegistered.has(spec.name)) return;
  gradientsRegistered.add(spec.name);
  tf.registerGradient({
    kernelName: spec.name,
    inputsToSave: spec.inputs,
    gradFunc: (dy, saved, attrs) => {
      // Run now, not inside the per-input closures: the engine calls each closure in its own tidy,
      // which would dispose the other outputs of this one kernel call.
      const outs = tf.engine().runKernel(
        spec.gradName,
        Object.fromEntries([...spec.inputs.map((n, i) => [n, saved[i]]), ["dy", dy as tf.Tensor]]),
        attrs,
      ) as tf.Tensor[];
      return Object.fromEntries(spec.inputs.map((n, i) => [n, () => outs[i]]));
    },
  });
}

/** Whether the active backend has the kernel (then the fused path runs). */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}
