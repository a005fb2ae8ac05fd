/**
 * `BatchMatMul` for the wasm backend: every case on a fast GEMM.
 *
 * tfjs-backend-wasm 4.22.0 calls XNNPACK's fully-connected operator only when neither input is
 * transposed and both have batch 1; every other case, so every backward matmul, runs a scalar
 * blocked loop at 0.4-2 GFLOP/s (`batch_mat_mul_impl.cc`). Two routes replace it:
 *   - `packed` (default): this runtime's packed GEMM (`wasm_simd/gemm.ts`), which reads either
 *     operand through strides, so transposes cost nothing: ~50-55 GFLOP/s per core here with
 *     relaxed-SIMD FMA, where XNNPACK's kernel gives ~30-33;
 *   - `xnnpack` (MMFM_WASM_MATMUL=xnnpack): XNNPACK through tfjs (`xnnpack_matmul.ts`).
 * Batch dimensions broadcast as tfjs broadcasts them; when b has batch 1 and a is not transposed,
 * a's batch is folded into rows (one GEMM, b packed once per block).
 *
 *   a: [...batchA, M, K] (or [..., K, M] when transposeA), b: [...batchB, K, N] (or [..., N, K])
 *   out: [...broadcast(batchA, batchB), M, N]
 */
import { broadcast_util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { gemmFor, splitTask, type GemmTask, type MatrixRef } from "../wasm_simd/gemm.js";
import { heap, offsetOf, sizeOf, type WasmBackend } from "./internals.js";
import { sliceIndexer, xnnpackMatMul } from "./xnnpack_matmul.js";

export type MatMulRoute = "packed" | "xnnpack";

export function matMulRoute(): MatMulRoute {
  return process.env.MMFM_WASM_MATMUL === "xnnpack" ? "xnnpack" : "packed";
}

/** Element strides of a row-major matrix with `cols` columns, read as stored or transposed. */
function ref(ptr: number, cols: number, transposed: boolean): MatrixRef {
  return transposed ? { ptr, rs: 1, cs: cols } : { ptr, rs: cols, cs: 1 };
}

function packedMatMul(
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  out: TensorInfo,
  outBatch: number[],
): void {
  const gemm = gemmFor(backend.wasm);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const outCount = sizeOf(outBatch);
  const aPtr = offsetOf(backend, a);
  const bPtr = offsetOf(backend, b);
  const oPtr = offsetOf(backend, out);
  let tasks: GemmTask[];
  if (sizeOf(batchB) === 1 && !transposeA && sizeOf(batchA) === outCount) {
    // a's batch folded into rows: one GEMM.
    tasks = [{ a: ref(aPtr, ac, false), b: ref(bPtr, bc, transposeB), c: { ptr: oPtr, ldc: n }, m: outCount * m, n, k }];
  } else {
    const aIndex = sliceIndexer(batchA, outBatch);
    const bIndex = sliceIndexer(batchB, outBatch);
    tasks = [];
    for (let i = 0; i < outCount; i++) {
      tasks.push({
        a: ref(aPtr + aIndex(i) * ar * ac * 4, ac, transposeA),
        b: ref(bPtr + bIndex(i) * br * bc * 4, bc, transposeB),
        c: { ptr: oPtr + i * m * n * 4, ldc: n },
        m,
        n,
        k,
      });
    }
  }
  // With threads, cut into about two tasks per thread so that a busy core does not hold the rest up.
  const wanted = gemm.threads * 2;
  if (gemm.threads > 1 && tasks.length < wanted) {
    const parts = Math.ceil(wanted / tasks.length);
    tasks = tasks.flatMap((t) => splitTask(t, parts));
  }
  gemm.run(tasks);
}

function batchMatMul(args: {
  inputs: { a?: TensorInfo; b?: TensorInfo };
  backend: WasmBackend;
  attrs: { transposeA?: boolean; transposeB?: boolean };
}): TensorInfo {
  const { a, b } = args.inputs;
  const backend = args.backend;
  const transposeA = args.attrs.transposeA === true;
  const transposeB = args.attrs.transposeB === true;
  if (a == null || b == null) throw new Error("BatchMatMul needs inputs a and b");
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    throw new Error(`BatchMatMul on wasm supports float32 only, got ${a.dtype} x ${b.dtype}`);
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const ka = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (ka !== kb) {
    throw new Error(
      `matMul: inner dimensions differ: a [${a.shape}]${transposeA ? "ᵀ" : ""} has ${ka}, ` +
        `b [${b.shape}]${transposeB ? "ᵀ" : ""} has ${kb}`,
    );
  }
  const outBatch = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeOutput([...outBatch, m, n], "float32");
  const outCount = sizeOf(outBatch);
  if (m === 0 || n === 0 || outCount === 0) return out;
  if (ka === 0) {
    new Float32Array(heap(backend), offsetOf(backend, out), outCount * m * n).fill(0);
    return out;
  }
  if (matMulRoute() === "xnnpack") xnnpackMatMul(backend, a, b, transposeA, transposeB, out, outBatch);
  else packedMatMul(backend, a, b, transposeA, transposeB, out, outBatch);
  return out;
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: "BatchMatMul",
  backendName: "wasm",
  kernelFunc: batchMatMul as unknown as KernelFunc,
};
