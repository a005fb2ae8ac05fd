/**
 * A float32 GEMM on the tfjs wasm heap: C[M, N] = A[M, K] . B[K, N], any element strides for A and B
 * (so every transpose case is free), C row-major with row stride ldc.
 *
 * GotoBLAS loop order around the kernels of `gemm_kernels.ts` (the loop itself is `runGemm` in
 * pool.ts, which every thread runs): for each NC-wide column block of B and KC-deep slice of K, pack
 * B once; for each MC-tall row block of A, pack A and run the 4x8 register tiles. Packed blocks are
 * sized for this machine's caches (B: KC 256 x NC 512 floats, 512 KB; A: MC 128 x KC 256, 128 KB).
 * With threads, a GEMM is cut into row or column ranges (`splitTask`) that the pool's threads claim.
 */
import type { WasmModule } from "../wasm_kernels/internals.js";
import { MR, NR } from "./gemm_kernels.js";
import { poolFor } from "./pool.js";

export { KC, MC, NC } from "./pool.js";

/** A matrix in the heap: element (i, j) is at ptr + (i * rs + j * cs) * 4. */
export interface MatrixRef {
  ptr: number;
  rs: number;
  cs: number;
}

/** One GEMM: c[i, j] = sum_p a[i, p] b[p, j] for i < m, j < n, p < k. */
export interface GemmTask {
  a: MatrixRef;
  b: MatrixRef;
  c: { ptr: number; ldc: number };
  m: number;
  n: number;
  k: number;
}

export interface Gemm {
  /** Whether the kernel uses fused multiply-adds. */
  readonly fma: boolean;
  /** Threads that share the work (1 = the calling thread only). */
  readonly threads: number;
  /** Runs the tasks (independent outputs) on all threads; returns when all are done. */
  run(tasks: GemmTask[]): void;
}

export function gemmFor(module: WasmModule): Gemm {
  const pool = poolFor(module);
  return {
    fma: pool.fma,
    threads: pool.threads,
    run: (tasks) =>
      pool.run(
        tasks
          .filter((t) => t.m > 0 && t.n > 0 && t.k > 0)
          .map((t) => ({ kind: 0, args: [t.a.ptr, t.a.rs, t.a.cs, t.b.ptr, t.b.rs, t.b.cs, t.c.ptr, t.c.ldc, t.m, t.n, t.k] })),
      ),
  };
}

/** Splits one GEMM into about `parts` tasks along its longer side (in whole register tiles). */
export function splitTask(t: GemmTask, parts: number): GemmTask[] {
  if (parts <= 1) return [t];
  const byRows = t.m / MR >= t.n / NR;
  const unit = byRows ? MR : NR;
  const total = byRows ? t.m : t.n;
  const chunk = Math.max(unit, Math.ceil(total / parts / unit) * unit);
  const out: GemmTask[] = [];
  for (let s = 0; s < total; s += chunk) {
    const len = Math.min(chunk, total - s);
    if (byRows) {
      out.push({ ...t, a: { ...t.a, ptr: t.a.ptr + s * t.a.rs * 4 }, c: { ...t.c, ptr: t.c.ptr + s * t.c.ldc * 4 }, m: len });
    } else {
      out.push({ ...t, b: { ...t.b, ptr: t.b.ptr + s * t.b.cs * 4 }, c: { ...t.c, ptr: t.c.ptr + s * 4 }, n: len });
    }
  }
  return out;
}
