/**
 * `Identity` and same-dtype `Cast` for wasm without copying.
 *
 * tfjs-backend-wasm 4.22.0 copies the whole tensor for both. The engine clones every tensor it saves
 * for a gradient (`saveTensorsForBackwardMode` runs Identity) and `Multiply`'s gradient casts float32
 * to float32, so a training step copied ~400 tensors (~6% of a step). Tensors are immutable, so the
 * output can share the input's memory, as the cpu backend's Identity does and as wasm's own Reshape
 * does: one more reference on the same data.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { f32View, heap, i32View, offsetOf, type WasmBackend } from "./internals.js";

function share(backend: WasmBackend, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function identity(args: { inputs: { x?: TensorInfo }; backend: WasmBackend }): TensorInfo {
  const x = args.inputs.x;
  if (x == null) throw new Error("Identity needs input x");
  if (x.dtype === "string") throw new Error("Identity on wasm: string tensors are not supported");
  return share(args.backend, x);
}

export function identityConfig(): KernelConfig {
  return { kernelName: "Identity", backendName: "wasm", kernelFunc: identity as unknown as KernelFunc };
}

/**
 * Same-dtype casts share memory; casts to bool are `x != 0` (the stock kernel copies through a
 * Uint8Array, so -2 became 254); other casts go to the stock kernel.
 */
export function castConfig(stock: KernelConfig): KernelConfig {
  const cast = (args: { inputs: { x?: TensorInfo }; backend: WasmBackend; attrs: { dtype?: string } }) => {
    const x = args.inputs.x;
    if (x != null && x.dtype === args.attrs.dtype) return share(args.backend, x);
    if (x != null && args.attrs.dtype === "bool" && (x.dtype === "float32" || x.dtype === "int32")) {
      const out = args.backend.makeOutput(x.shape, "bool");
      const src = x.dtype === "float32" ? f32View(args.backend, x) : i32View(args.backend, x);
      const dst = new Uint8Array(heap(args.backend), offsetOf(args.backend, out), src.length);
      for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      return out;
    }
    return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
  };
  return { kernelName: "Cast", backendName: "wasm", kernelFunc: cast as unknown as KernelFunc };
}
