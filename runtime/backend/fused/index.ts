/**
 * Fused ops for model code: one kernel forward and one backward on wasm, a few WGSL programs on
 * webgpu, and the same math from plain tfjs ops on every other backend. Use them where a model
 * computes these functions.
 */
import { registerCrossEntropy } from "./cross_entropy.js";
import { registerGeglu } from "./geglu.js";
import { registerRmsNorm } from "./rms_norm.js";
import { registerRotateHalf } from "./rotate_half.js";
import { registerWebGpuFusedKernels } from "./webgpu.js";

export { geglu, geluTanh, GEGLU } from "./geglu.js";
export { rmsNorm, RMS_NORM } from "./rms_norm.js";
export { crossEntropy, CROSS_ENTROPY } from "./cross_entropy.js";
export { rotateHalf, ROTATE_HALF } from "./rotate_half.js";
export { WEBGPU_FUSED_KERNELS } from "./webgpu.js";
export type { RmsNormOptions } from "./rms_norm.js";

/** Registers the fused kernels (wasm, webgpu) and their gradients (all backends); idempotent. */
export function registerFusedOps(): void {
  registerGeglu();
  registerRmsNorm();
  registerCrossEntropy();
  registerRotateHalf();
  registerWebGpuFusedKernels();
}

registerFusedOps();
