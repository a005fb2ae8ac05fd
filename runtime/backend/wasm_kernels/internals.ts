/**
 * The parts of tfjs-backend-wasm 4.22.0's JavaScript backend that our wasm kernels use, typed.
 *
 * A wasm tensor is a block of the Emscripten heap: `dataIdMap.get(dataId)` gives its backend id and
 * byte offset. C++ kernels are called with backend ids; `registerTensor(id, size, offset)` can
 * register a temporary id that aliases part of another tensor (a batch slice), which
 * `disposeData(id)` forgets again (it also deletes the XNNPACK operators cached on that id).
 */
import type { DataType, TensorInfo } from "@tensorflow/tfjs-core";
import { isWasmMemory, type WasmMemory } from "../wasm_simd/webassembly.js";

export interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}

export interface WasmModule {
  HEAPU8: Uint8Array;
  /** The threaded build's shared memory. */
  wasmMemory?: WasmMemory;
  /** The module's exports; `asm.memory` is the single-threaded build's memory. */
  asm?: Record<string, unknown>;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: unknown[]) => unknown;
  tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
    getThreadsCount(): number;
  };
}

export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): WasmTensorData };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

/** The wasm backend's counter for tensor ids; our temporary ids come from the same sequence. */
export function nextTensorId(backend: WasmBackend): number {
  const b = backend as unknown as { dataIdNextNumber: number };
  return b.dataIdNextNumber++;
}

/** The wasm memory object (always current, unlike Emscripten's HEAP views after the heap grows). */
export function wasmMemory(module: WasmModule): WasmMemory {
  const mem = module.wasmMemory ?? module.asm?.memory;
  if (!isWasmMemory(mem)) {
    throw new Error("cannot find the tfjs wasm module's memory (is @tensorflow/tfjs-backend-wasm 4.22.0 installed?)");
  }
  return mem;
}

/** The heap as it is now; take views after allocating, since allocation may grow (replace) it. */
export function heap(backend: WasmBackend): ArrayBufferLike {
  return wasmMemory(backend.wasm).buffer;
}

/** Byte offset of a tensor's data in the heap. */
export function offsetOf(backend: WasmBackend, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId).memoryOffset;
}

export function f32View(backend: WasmBackend, info: TensorInfo): Float32Array {
  return new Float32Array(heap(backend), offsetOf(backend, info), sizeOf(info.shape));
}

export function i32View(backend: WasmBackend, info: TensorInfo): Int32Array {
  return new Int32Array(heap(backend), offsetOf(backend, info), sizeOf(info.shape));
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Shape as the bytes of an Int32Array, the form tfjs's cwrap'd C++ kernels take. */
export function shapeBytes(shape: readonly number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}
