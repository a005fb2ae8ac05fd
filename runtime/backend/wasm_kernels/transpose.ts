/**
 * `Transpose` for wasm: the common permutations as cache-blocked copies.
 *
 * tfjs-backend-wasm 4.22.0's transpose walks the output element by element with strided reads
 * (~8 ms per million floats here). After dropping size-1 dimensions and merging dimensions that stay
 * neighbours, almost every permutation a model uses is one of
 *   [1, 0]        a matrix transpose          -> 4x4 SIMD blocks (~2.4 ms per million)
 *   [0, 2, 1]     a batch of matrix transposes -> the same per batch entry
 *   [1, 0, 2]     moving contiguous rows        -> row copies (memcpy)
 *   [0, 2, 1, 3]  the same per batch entry (attention's [B, T, H, Dh] <-> [B, H, T, Dh])
 * Anything else goes to the stock kernel.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { simdKernels } from "../wasm_simd/module.js";
import { heap, offsetOf, sizeOf, type WasmBackend } from "./internals.js";

/** Drops size-1 dimensions and merges input dimensions that stay adjacent in the permutation. */
export function simplifyPermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const rank = new Map(kept.map((d, i) => [d, i]));
  let s = kept.map((d) => shape[d]);
  let p = perm.filter((d) => shape[d] !== 1).map((d) => rank.get(d) as number);
  // Merge runs: input dims a, a+1 that appear as consecutive entries of the permutation.
  for (let k = 0; k + 1 < p.length; ) {
    if (p[k + 1] === p[k] + 1) {
      const a = p[k];
      s = [...s.slice(0, a), s[a] * s[a + 1], ...s.slice(a + 2)];
      p = p.filter((_, i) => i !== k + 1).map((d) => (d > a ? d - 1 : d));
    } else k++;
  }
  return { shape: s, perm: p };
}

function view(backend: WasmBackend, t: TensorInfo): Float32Array | Int32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  const n = sizeOf(t.shape);
  return t.dtype === "int32"
    ? new Int32Array(heap(backend), memoryOffset, n)
    : new Float32Array(heap(backend), memoryOffset, n);
}

export function transposeConfig(stock: KernelConfig): KernelConfig {
  const transpose = (args: { inputs: { x?: TensorInfo }; backend: WasmBackend; attrs: { perm?: number[] } }) => {
    const { x } = args.inputs;
    const perm = args.attrs.perm;
    const backend = args.backend;
    if (x == null || perm == null) throw new Error("Transpose needs input x and attribute perm");
    if (x.dtype !== "float32" && x.dtype !== "int32") return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const outShape = perm.map((d) => x.shape[d]);
    const { shape, perm: p } = simplifyPermutation(x.shape, perm);
    const key = p.join(",");
    if (p.length <= 1) {
      backend.incRef(x.dataId); // the same elements in the same order
      return { dataId: x.dataId, shape: outShape, dtype: x.dtype };
    }
    if (key !== "1,0" && key !== "0,2,1" && key !== "1,0,2" && key !== "0,2,1,3") {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const out = backend.makeOutput(outShape, x.dtype);
    if (key === "1,0" || key === "0,2,1") {
      // 32-bit lanes: the SIMD transpose moves int32 bits unchanged too.
      const [b, r, c] = key === "1,0" ? [1, shape[0], shape[1]] : shape;
      const { transpose: simd } = simdKernels(backend.wasm);
      const src = offsetOf(backend, x);
      const dst = offsetOf(backend, out);
      for (let i = 0; i < b; i++) simd(src + i * r * c * 4, dst + i * r * c * 4, r, c);
      return out;
    }
    const src = view(backend, x);
    const dst = view(backend, out);
    // [n, a, b, c] -> [n, b, a, c] (n = 1 for [1, 0, 2]): rows of c floats move as blocks.
    const [n, a, b, c] = key === "1,0,2" ? [1, ...shape] : shape;
    for (let h = 0; h < n; h++) {
      const base = h * a * b * c;
      for (let i = 0; i < a; i++)
        for (let j = 0; j < b; j++) dst.set(src.subarray(base + (i * b + j) * c, base + (i * b + j + 1) * c), base + (j * a + i) * c);
    }
    return out;
  };
  return { kernelName: "Transpose", backendName: "wasm", kernelFunc: transpose as unknown as KernelFunc };
}
