/**
 * `UnsortedSegmentSum` for the wasm backend, which 4.22.0 lacks. It is the gradient of `gather`, so
 * without it no embedding can be trained on wasm.
 *
 *   x: [...S, ...inner], segmentIds: S (int32) -> out: [numSegments, ...inner]
 *   out[s] = sum of x[i] over the positions i with segmentIds[i] == s; ids outside
 *   [0, numSegments) are dropped, as TensorFlow drops them.
 *
 * Written in JavaScript on views of the wasm heap: one pass over x, rows added in place.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { f32View, i32View, sizeOf, type WasmBackend } from "./internals.js";

function unsortedSegmentSum(args: {
  inputs: { x?: TensorInfo; segmentIds?: TensorInfo };
  backend: WasmBackend;
  attrs: { numSegments?: number };
}): TensorInfo {
  const { x, segmentIds } = args.inputs;
  const numSegments = args.attrs.numSegments;
  const backend = args.backend;
  if (x == null || segmentIds == null || numSegments == null) {
    throw new Error("UnsortedSegmentSum needs inputs x and segmentIds and the attribute numSegments");
  }
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32 x, got ${x.dtype}`);
  }
  const idRank = segmentIds.shape.length;
  const lead = x.shape.slice(0, idRank);
  if (lead.join(",") !== segmentIds.shape.join(",")) {
    throw new Error(
      `UnsortedSegmentSum: segmentIds of shape [${segmentIds.shape}] must be a prefix of x's shape [${x.shape}]`,
    );
  }
  const inner = x.shape.slice(idRank);
  const rowSize = sizeOf(inner);
  const rows = sizeOf(lead);
  const out = backend.makeOutput([numSegments, ...inner], x.dtype);

  // Views are taken after makeOutput: the allocation may grow (and so replace) the heap buffer.
  const ids = i32View(backend, segmentIds);
  const xs = x.dtype === "float32" ? f32View(backend, x) : i32View(backend, x);
  const os = x.dtype === "float32" ? f32View(backend, out) : i32View(backend, out);
  os.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    const src = r * rowSize;
    const dst = s * rowSize;
    for (let j = 0; j < rowSize; j++) os[dst + j] += xs[src + j];
  }
  return out;
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
