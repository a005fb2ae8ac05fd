/**
 * The element-wise SIMD kernels of `kernels.ts`, bound to tfjs's wasm heap (they read and write
 * tensors in place, no copies) and spread over the pool's threads when there are several (pool.ts):
 * element ranges for element-wise kernels, row ranges for row-wise ones. `rmsNormGrad` accumulates
 * its weight gradient over rows and runs on the calling thread.
 */
import type { WasmModule } from "../wasm_kernels/internals.js";
import { wasmMemory } from "../wasm_kernels/internals.js";
import { kindOf, poolFor, type ElementwiseName, type PoolTask } from "./pool.js";

export interface SimdKernels {
  /** The heap these kernels work on. */
  memory(): { readonly buffer: ArrayBufferLike };
  /** dst[c, r] = src[r, c]; byte offsets. */
  transpose(src: number, dst: number, rows: number, cols: number): void;
  adamw(
    p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number,
    gradScale: number, decay: number, b1: number, c1: number, b2: number, c2: number, bc2: number, eps: number, negStep: number,
  ): void;
  geglu(gate: number, up: number, out: number, n: number): void;
  gegluGrad(gate: number, up: number, dOut: number, dGate: number, dUp: number, n: number): void;
  rmsNorm(x: number, w: number, y: number, rows: number, d: number, eps: number, offset: number): void;
  rmsNormGrad(x: number, w: number, dy: number, dx: number, dw: number, rows: number, d: number, eps: number, offset: number): void;
  /** Per row of [rows, cols] (cols % 4 == 0): stats[r] = [max, sum exp(x - max)] as two floats. */
  rowMaxSumExp(x: number, rows: number, cols: number, stats: number): void;
  /** out[r, j] = exp(x[r, j] - stats[r][0]) * stats[r][1]; cols % 4 == 0. */
  softmaxScaled(x: number, out: number, rows: number, cols: number, stats: number): void;
}

/** Below this many elements a kernel is not worth waking other threads for. */
const PARALLEL_MIN = 1 << 16;

const cache = new WeakMap<object, SimdKernels>();

export function simdKernels(module: WasmModule): SimdKernels {
  const hit = cache.get(module);
  if (hit != null) return hit;
  const pool = poolFor(module);
  const memory = wasmMemory(module);
  const k = pool.kernels;
  const parts = pool.threads * 2;

  /**
   * Runs `name` over [0, count) in `parts` ranges (multiples of `align`). `args(start, len)` gives
   * the arguments of one range.
   */
  const spread = (name: ElementwiseName, count: number, work: number, align: number, args: (start: number, len: number) => number[]) => {
    if (pool.threads === 1 || work < PARALLEL_MIN) {
      k[name](...args(0, count));
      return;
    }
    const chunk = Math.max(align, Math.ceil(count / parts / align) * align);
    const tasks: PoolTask[] = [];
    for (let s = 0; s < count; s += chunk) tasks.push({ kind: kindOf(name), args: args(s, Math.min(chunk, count - s)) });
    pool.run(tasks);
  };

  // Element-wise kernels run 4 lanes at a time; the last n % 4 elements go through a 16-byte
  // scratch slot per operand so that nothing past a tensor's end is read or written.
  const scratch = module._malloc(16 * 8) >>> 0;
  const withTail = (ins: number[], outs: number[], n: number, run: (ptrs: number[], count: number) => void) => {
    const n4 = n & ~3;
    if (n4 > 0) run([...ins, ...outs], n4);
    const rest = n - n4;
    if (rest === 0) return;
    const h = new Float32Array(memory.buffer);
    const ptrs = [...ins, ...outs].map((_, i) => scratch + 16 * i);
    ins.forEach((p, i) => {
      h.fill(0, ptrs[i] / 4, ptrs[i] / 4 + 4);
      h.set(h.subarray(p / 4 + n4, p / 4 + n), ptrs[i] / 4);
    });
    run(ptrs, 4);
    outs.forEach((p, i) => {
      const s = ptrs[ins.length + i] / 4;
      h.set(h.subarray(s, s + rest), p / 4 + n4);
    });
  };
  const byElements = (name: ElementwiseName, ptrs: number[], n: number) =>
    spread(name, n, n, 4, (s, len) => [...ptrs.map((p) => p + s * 4), len]);

  const kernels: SimdKernels = {
    memory: () => memory,
    transpose: (src, dst, rows, cols) => k.transpose(src, dst, rows, cols),
    adamw: (p, g, m, v, pOut, mOut, vOut, n, ...scalars) =>
      spread("adamw", n, n, 4, (s, len) => [...[p, g, m, v, pOut, mOut, vOut].map((x) => x + s * 4), len, ...scalars]),
    geglu: (gate, up, out, n) => withTail([gate, up], [out], n, (ptrs, count) => byElements("geglu", ptrs, count)),
    gegluGrad: (gate, up, dOut, dGate, dUp, n) =>
      withTail([gate, up, dOut], [dGate, dUp], n, (ptrs, count) => byElements("gegluGrad", ptrs, count)),
    rmsNorm: (x, w, y, rows, d, eps, offset) =>
      spread("rmsNorm", rows, rows * d, 1, (s, len) => [x + s * d * 4, w, y + s * d * 4, len, d, eps, offset]),
    rmsNormGrad: (...args) => k.rmsNormGrad(...args),
    rowMaxSumExp: (x, rows, cols, stats) =>
      spread("rowMaxSumExp", rows, rows * cols, 1, (s, len) => [x + s * cols * 4, len, cols, stats + s * 8]),
    softmaxScaled: (x, out, rows, cols, stats) =>
      spread("softmaxScaled", rows, rows * cols, 1, (s, len) => [x + s * cols * 4, out + s * cols * 4, len, cols, stats + s * 8]),
  };
  cache.set(module, kernels);
  return kernels;
}
