/**
 * The WebAssembly backend, made complete and fast for training.
 *
 * Starts tfjs-backend-wasm 4.22.0 (SIMD build; the threaded SIMD build through `wasm_threads.ts`
 * when more than one thread is asked for) and replaces or adds the kernels in `wasm_kernels/`:
 * `UnsortedSegmentSum` (missing: the gradient of gather), `BatchMatMul` (every case on the packed
 * GEMM of `wasm_simd/gemm.ts`, threaded like tfjs's pool), zero-copy `Identity` and `Cast`, and
 * block-copy `Transpose` and `GatherV2`. See docs/runtime-backends.md.
 */
import { tf } from "../tf.js";
import { gemmFor } from "./wasm_simd/gemm.js";
import { setPoolThreads } from "./wasm_simd/pool.js";
import { installWasmThreadShim, MAX_WASM_THREADS, unrefWasmWorkers } from "./wasm_threads.js";
import { batchMatMulConfig } from "./wasm_kernels/batch_mat_mul.js";
import { castConfig, identityConfig } from "./wasm_kernels/copies.js";
import { gatherConfig } from "./wasm_kernels/gather.js";
import { transposeConfig } from "./wasm_kernels/transpose.js";
import { unsortedSegmentSumConfig } from "./wasm_kernels/unsorted_segment_sum.js";
import type { WasmBackend } from "./wasm_kernels/internals.js";

export interface WasmStart {
  threads: number;
  simd: boolean;
  /** Whether the GEMM uses relaxed-SIMD fused multiply-adds. */
  fma: boolean;
  /** The kernels this runtime registered or replaced on wasm. */
  patched: string[];
}

type WasmPackage = typeof import("@tensorflow/tfjs-backend-wasm");

/** The kernels installed on top of stock tfjs-backend-wasm (some wrap the stock kernel). */
function wasmKernels(): tf.KernelConfig[] {
  const stock = (name: string) => {
    const k = tf.getKernel(name, "wasm");
    if (k == null) throw new Error(`tfjs-backend-wasm has no ${name} kernel to wrap`);
    return k;
  };
  return [
    unsortedSegmentSumConfig,
    batchMatMulConfig,
    identityConfig(),
    castConfig(stock("Cast")),
    transposeConfig(stock("Transpose")),
    gatherConfig(stock("GatherV2")),
  ];
}

let started: WasmStart | null = null;

/**
 * Starts wasm with `threads` threads (1 = the single-threaded SIMD build) and makes it the active
 * backend. The Emscripten module can start once per process: a second call with another thread count
 * is an error.
 */
export async function startWasm(threads: number): Promise<WasmStart> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new Error(`wasm threads must be an integer from 1 to ${MAX_WASM_THREADS}, got ${threads}`);
  }
  if (started != null) {
    if (started.threads !== threads) {
      throw new Error(
        `the wasm backend already runs with ${started.threads} thread(s); it cannot restart with ${threads} ` +
          "in the same process",
      );
    }
    await setActive();
    return started;
  }
  const wasm = (await import("@tensorflow/tfjs-backend-wasm")) as WasmPackage;
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  let restore: (() => void) | null = null;
  if (threads > 1) {
    if (!simd) throw new Error("wasm threads need WebAssembly SIMD, which this Node does not support");
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    restore = installWasmThreadShim(threads);
  }
  wasm.setThreadsCount(threads);
  try {
    await setActive();
  } finally {
    restore?.();
  }
  const backend = tf.backend() as unknown as WasmBackend;
  unrefWasmWorkers(backend.wasm);
  const actual = wasm.getThreadsCount();
  if (actual !== threads) {
    throw new Error(`wasm started with ${actual} thread(s) where ${threads} were asked for`);
  }
  // Our kernels use as many threads as tfjs's own pool; compile them (and start the workers) now.
  setPoolThreads(threads);
  const gemm = gemmFor(backend.wasm);
  const kernels = wasmKernels();
  for (const config of kernels) {
    if (tf.getKernel(config.kernelName, "wasm") != null) tf.unregisterKernel(config.kernelName, "wasm");
    tf.registerKernel(config);
  }
  started = { threads, simd, fma: gemm.fma, patched: kernels.map((k) => k.kernelName) };
  return started;
}

async function setActive(): Promise<void> {
  const ok = await tf.setBackend("wasm");
  if (!ok) throw new Error("the wasm backend failed to start (tf.setBackend('wasm') returned false)");
}
