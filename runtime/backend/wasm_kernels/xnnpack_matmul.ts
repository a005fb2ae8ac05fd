/**
 * The XNNPACK route for wasm `BatchMatMul` (MMFM_WASM_MATMUL=xnnpack): every case reduced to the one
 * tfjs-backend-wasm sends to XNNPACK (no transpose, batch 1):
 *   - a transposed input is materialised once for the whole batch ([b, r, c] -> [b, c, r]);
 *   - when b has batch 1, a's batch is folded into rows: one call, and the XNNPACK operator (packed
 *     weights) stays cached on b's tensor id across calls;
 *   - otherwise one call per output batch slice, on temporary tensor ids that alias the slices.
 * Kept for comparison with, and as a fallback to, the packed GEMM route.
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { nextTensorId, shapeBytes, sizeOf, type WasmBackend } from "./internals.js";
import { simdKernels } from "../wasm_simd/module.js";

type CFunc = (...args: unknown[]) => unknown;

/** C++ entry points, bound once per wasm module. */
interface Entry {
  module: unknown;
  matmul: CFunc; // BatchMatMul(a_id, a_shape, a_rank, b_id, b_shape, b_rank, tA, tB, out_id)
}
let entry: Entry | null = null;

function bind(backend: WasmBackend): Entry {
  if (entry == null || entry.module !== backend.wasm) {
    const w = backend.wasm;
    entry = {
      module: w,
      matmul: w.cwrap("BatchMatMul", null, [
        "number", "array", "number", "number", "array", "number", "number", "number", "number",
      ]),
    };
  }
  return entry;
}

/** A float32 matrix stack in the heap: `batch` matrices of rows x cols, row-major, contiguous. */
interface Mats {
  id: number; // backend tensor id of the whole block
  offset: number; // byte offset in the heap
  batch: number;
  rows: number;
  cols: number;
  temp: TensorInfo | null; // a tensor we allocated and must dispose
}

function asMats(backend: WasmBackend, t: TensorInfo, transposed: boolean): Mats {
  const data = backend.dataIdMap.get(t.dataId);
  const r = t.shape.length;
  const rows = t.shape[r - 2];
  const cols = t.shape[r - 1];
  const batch = sizeOf(t.shape.slice(0, r - 2));
  const m: Mats = { id: data.id, offset: data.memoryOffset, batch, rows, cols, temp: null };
  return transposed ? transposeMats(backend, m) : m;
}

/**
 * XNNPACK caches the operator (with b packed) on b's tensor id, keyed by the id alone. Reshapes share
 * the id, so a tensor seen before as a different [k, n] gets a fresh alias id instead of a stale
 * operator. Keyed by tfjs's dataId objects, so entries go when the tensors do.
 */
const weightShapes = new WeakMap<object, string>();

function weightId(backend: WasmBackend, t: TensorInfo, B: Mats, temps: number[]): number {
  if (B.temp != null) return B.id;
  const key = `${B.rows}x${B.cols}`;
  const seen = weightShapes.get(t.dataId);
  if (seen === undefined) weightShapes.set(t.dataId, key);
  else if (seen !== key) return alias(backend, B, 0, temps, true);
  return B.id;
}

/** [batch, rows, cols] -> a new [batch, cols, rows] block. */
function transposeMats(backend: WasmBackend, m: Mats): Mats {
  const out = backend.makeOutput([m.batch, m.cols, m.rows], "float32");
  const data = backend.dataIdMap.get(out.dataId);
  const { transpose } = simdKernels(backend.wasm);
  const bytes = m.rows * m.cols * 4;
  for (let i = 0; i < m.batch; i++) transpose(m.offset + i * bytes, data.memoryOffset + i * bytes, m.rows, m.cols);
  if (m.temp != null) backend.disposeData(m.temp.dataId);
  return { id: data.id, offset: data.memoryOffset, batch: m.batch, rows: m.cols, cols: m.rows, temp: out };
}

/**
 * An id for matrix `index` of the block: a temporary alias (recorded in `temps`), or the block's own
 * id when the slice is all of it and `fresh` is not asked for.
 */
function alias(backend: WasmBackend, m: Mats, index: number, temps: number[], fresh = false): number {
  const size = m.rows * m.cols;
  if (!fresh && m.batch === 1 && index === 0) return m.id;
  const id = nextTensorId(backend);
  backend.wasm.tfjs.registerTensor(id, size, m.offset + index * size * 4);
  temps.push(id);
  return id;
}

/** out[rows, n] = a[rows, k] . b[k, n] on XNNPACK, all three given as tensor ids. */
function gemm(backend: WasmBackend, aId: number, rows: number, k: number, bId: number, n: number, outId: number) {
  bind(backend).matmul(aId, shapeBytes([1, rows, k]), 3, bId, shapeBytes([1, k, n]), 3, 0, 0, outId);
}

/** Index of the input slice that output batch index `i` reads, under tfjs broadcasting. */
export function sliceIndexer(inputBatch: number[], outBatch: number[]): (i: number) => number {
  const rank = outBatch.length;
  const padded = [...new Array(rank - inputBatch.length).fill(1), ...inputBatch];
  return (i: number) => {
    let rest = i;
    let index = 0;
    let stride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const coord = rest % outBatch[d];
      rest = Math.floor(rest / outBatch[d]);
      if (padded[d] !== 1) index += coord * stride;
      stride *= padded[d];
    }
    return index;
  };
}

/** out = a . b (transposes as given) for the shapes `batchMatMul` checked. */
export function xnnpackMatMul(
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  out: TensorInfo,
  outBatch: number[],
): void {
  const outData = backend.dataIdMap.get(out.dataId);
  const outCount = sizeOf(outBatch);
  const m = out.shape[out.shape.length - 2];
  const n = out.shape[out.shape.length - 1];
  const A = asMats(backend, a, transposeA); // [batchA, m, k]
  const B = asMats(backend, b, transposeB); // [batchB, k, n]
  const k = A.cols;
  const temps: number[] = [];
  try {
    if (B.batch === 1 && A.batch === outCount) {
      // Fold a's batch into rows: one call, b's packed weights cached on its id.
      gemm(backend, A.id, A.batch * m, k, weightId(backend, b, B, temps), n, outData.id);
    } else {
      const outMats: Mats = { id: outData.id, offset: outData.memoryOffset, batch: outCount, rows: m, cols: n, temp: null };
      const aIndex = sliceIndexer(a.shape.slice(0, -2), outBatch);
      const bIndex = sliceIndexer(b.shape.slice(0, -2), outBatch);
      for (let i = 0; i < outCount; i++) {
        const aId = alias(backend, A, aIndex(i), temps);
        const bId = alias(backend, B, bIndex(i), temps);
        const oId = alias(backend, outMats, i, temps);
        gemm(backend, aId, m, k, bId, n, oId);
      }
    }
  } finally {
    // Forgetting an alias id also deletes the XNNPACK operator that was cached on it.
    for (const id of temps) backend.wasm.tfjs.disposeData(id);
    if (A.temp != null) backend.disposeData(A.temp.dataId);
    if (B.temp != null) backend.disposeData(B.temp.dataId);
  }
}
