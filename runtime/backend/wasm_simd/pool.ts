/**
 * Worker threads for this runtime's wasm kernels, sharing tfjs's heap.
 *
 * With the threaded wasm build the heap is a SharedArrayBuffer, so `threads - 1` worker threads can
 * instantiate the same two modules on it: the GEMM (`gemm_kernels.ts`) and the element-wise kernels
 * (`kernels.ts`). A call is a list of tasks written into a task table in the heap; the calling
 * thread and the workers claim them with an atomic counter, so a core that is busy with something
 * else does not hold the others up. Workers sleep in Atomics.wait between calls and are unref'd, so
 * they never keep Node alive. Every task writes its own part of the output, so results do not depend
 * on the number of threads.
 *
 * Task kinds: 0 is one GEMM (`runGemm`), k > 0 calls element-wise export ELEMENTWISE[k - 1] with its
 * arguments ("i" int32, "f" float32, stored as raw 32-bit words).
 */
import * as v8 from "node:v8";
import { Worker } from "node:worker_threads";
import { wasmMemory, type WasmModule } from "../wasm_kernels/internals.js";
import { assemble } from "./assembler.js";
import { gemmBlockKernel, MR, NR, packAKernel, packBKernel } from "./gemm_kernels.js";
import {
  adamwKernel,
  gegluGradKernel,
  gegluKernel,
  rmsNormGradKernel,
  rmsNormKernel,
  rowMaxSumExpKernel,
  softmaxScaledKernel,
  transposeKernel,
} from "./kernels.js";
import { WebAssemblyJs, type WasmMemory } from "./webassembly.js";

/** Element-wise exports a task can call, with their argument types. */
export const ELEMENTWISE = [
  ["geglu", "iiii"],
  ["gegluGrad", "iiiiii"],
  ["adamw", "iiiiiiiifffffffff"],
  ["rmsNorm", "iiiiiff"],
  ["rowMaxSumExp", "iiii"],
  ["softmaxScaled", "iiiii"],
  ["transpose", "iiii"],
] as const;

export type ElementwiseName = (typeof ELEMENTWISE)[number][0];

export interface PoolTask {
  /** 0: a GEMM (args: aPtr, aRs, aCs, bPtr, bRs, bCs, cPtr, ldc, m, n, k); k > 0: ELEMENTWISE[k - 1]. */
  kind: number;
  args: readonly number[];
}

export interface Pool {
  readonly threads: number;
  /** Whether the GEMM uses relaxed-SIMD fused multiply-adds. */
  readonly fma: boolean;
  /** The element-wise kernels on the calling thread. */
  readonly kernels: Record<ElementwiseName | "rmsNormGrad", (...args: number[]) => void>;
  /** Runs the tasks on all threads; returns when all are done. */
  run(tasks: readonly PoolTask[]): void;
}

/** GEMM blocking (see gemm.ts). */
export const KC = 256;
export const MC = 128;
export const NC = 512;

const TASK_WORDS = 18; // kind + up to 17 arguments
const MAX_TASKS = 4096;
const CONTROL_WORDS = 8; // [0] generation [1] next task [2] task count [3] threads working [4] workers ready [5] failed

// ---- executed on every thread (also sent to the workers as source: must stay self-contained)

interface GemmKernels {
  packA(src: number, rs: number, cs: number, mc: number, kc: number, dst: number): void;
  packB(src: number, cs: number, rs: number, nc: number, kc: number, dst: number): void;
  gemmBlock(ap: number, bp: number, c: number, ldc: number, mc: number, nc: number, kc: number, acc: number, tile: number): void;
}

interface Thread {
  gemm: GemmKernels;
  simd: Record<string, (...args: number[]) => void>;
  scratch: { ap: number; bp: number; tile: number };
  table: readonly (readonly [string, string])[];
}

function runGemm(th: Thread, w: Int32Array, at: number): void {
  const KC_ = 256;
  const MC_ = 128;
  const NC_ = 512;
  const aPtr = w[at], aRs = w[at + 1], aCs = w[at + 2];
  const bPtr = w[at + 3], bRs = w[at + 4], bCs = w[at + 5];
  const cPtr = w[at + 6], ldc = w[at + 7], m = w[at + 8], n = w[at + 9], k = w[at + 10];
  for (let jc = 0; jc < n; jc += NC_) {
    const nc = Math.min(NC_, n - jc);
    for (let pc = 0; pc < k; pc += KC_) {
      const kc = Math.min(KC_, k - pc);
      th.gemm.packB(bPtr + (pc * bRs + jc * bCs) * 4, bCs, bRs, nc, kc, th.scratch.bp);
      for (let ic = 0; ic < m; ic += MC_) {
        const mc = Math.min(MC_, m - ic);
        th.gemm.packA(aPtr + (ic * aRs + pc * aCs) * 4, aRs, aCs, mc, kc, th.scratch.ap);
        th.gemm.gemmBlock(th.scratch.ap, th.scratch.bp, cPtr + (ic * ldc + jc) * 4, ldc, mc, nc, kc, pc > 0 ? 1 : 0, th.scratch.tile);
      }
    }
  }
}

function runTask(th: Thread, w: Int32Array, f: Float32Array, at: number): void {
  const kind = w[at];
  if (kind === 0) return runGemm(th, w, at + 1);
  const [name, types] = th.table[kind - 1];
  const args: number[] = [];
  for (let i = 0; i < types.length; i++) args.push(types[i] === "f" ? f[at + 1 + i] : w[at + 1 + i]);
  th.simd[name](...args);
}

/** Claims tasks until none are left. */
function drain(th: Thread, w: Int32Array, f: Float32Array, tasksAt: number): void {
  for (;;) {
    const i = Atomics.add(w, 1, 1);
    if (i >= w[2]) return;
    runTask(th, w, f, tasksAt + i * 18); // 18 = TASK_WORDS (workers get this source, not the constant)
  }
}

function workerMain(): void {
  // Runs in a worker: `require` is the worker's CommonJS require.
  const { workerData } = require("node:worker_threads") as typeof import("node:worker_threads");
  const { gemmModule, simdModule, memory, ctlByte, ctlWords, tasksAt, scratch, table } = workerData;
  const w = new Int32Array(memory.buffer, ctlByte, ctlWords);
  const f = new Float32Array(memory.buffer, ctlByte, ctlWords);
  try {
    const wasm = (globalThis as unknown as { WebAssembly: typeof WebAssemblyJs }).WebAssembly;
    const th = {
      gemm: new wasm.Instance(gemmModule, { env: { memory } }).exports as unknown as GemmKernels,
      simd: new wasm.Instance(simdModule, { env: { memory } }).exports as unknown as Record<string, (...a: number[]) => void>,
      scratch,
      table,
    };
    // Generation 0 is "no call yet": a call made before this worker got here is not missed.
    let generation = 0;
    Atomics.add(w, 4, 1);
    Atomics.notify(w, 4);
    for (;;) {
      Atomics.wait(w, 0, generation);
      generation = Atomics.load(w, 0);
      drain(th, w, f, tasksAt);
      if (Atomics.sub(w, 3, 1) === 1) Atomics.notify(w, 3);
    }
  } catch (e) {
    // Tell the calling thread instead of leaving it waiting for us.
    Atomics.store(w, 5, 1);
    Atomics.add(w, 4, 1);
    Atomics.notify(w, 4);
    if (Atomics.sub(w, 3, 1) === 1) Atomics.notify(w, 3);
    throw e;
  }
}

function workerSource(): string {
  return [runGemm.toString(), runTask.toString(), drain.toString(), `(${workerMain.toString()})();`].join("\n");
}

// ---- compiling and starting

let requestedThreads = 1;

/** Threads for pools created after this call (the wasm backend sets it to its own thread count). */
export function setPoolThreads(n: number): void {
  requestedThreads = n;
}

function memoryImport(shared: boolean) {
  return shared ? { shared: true, minPages: 1, maxPages: 65536 } : { shared: false, minPages: 1 };
}

function compileGemm(shared: boolean, fma: boolean): object {
  return new WebAssemblyJs.Module(assemble(memoryImport(shared), [packAKernel(), packBKernel(), gemmBlockKernel(fma)]));
}

/**
 * The GEMM with fused multiply-adds if V8 allows: Node 20 needs `--experimental-wasm-relaxed-simd`,
 * set here (once, before compiling) unless MMFM_WASM_FMA=0; otherwise a multiply and an add.
 */
function compileGemmBest(shared: boolean): { module: object; fma: boolean } {
  if (process.env.MMFM_WASM_FMA !== "0") {
    try {
      return { module: compileGemm(shared, true), fma: true };
    } catch {
      try {
        v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
        return { module: compileGemm(shared, true), fma: true };
      } catch {
        // this V8 has no relaxed SIMD
      }
    }
  }
  return { module: compileGemm(shared, false), fma: false };
}

function compileSimd(shared: boolean): object {
  return new WebAssemblyJs.Module(
    assemble(memoryImport(shared), [
      transposeKernel(),
      adamwKernel(),
      gegluKernel(),
      gegluGradKernel(),
      rmsNormKernel(),
      rmsNormGradKernel(),
      rowMaxSumExpKernel(),
      softmaxScaledKernel(),
    ]),
  );
}

function allocScratch(module: WasmModule): { ap: number; bp: number; tile: number } {
  const bytes = (MC * KC + KC * NC + MR * NR) * 4 + 3 * 64;
  const ap = ((module._malloc(bytes) >>> 0) + 63) & ~63;
  const bp = ap + MC * KC * 4 + 64;
  return { ap, bp, tile: bp + KC * NC * 4 + 64 };
}

const pools = new WeakMap<object, Pool>();

/** The pool bound to this tfjs wasm module (compiled and started once per module). */
export function poolFor(module: WasmModule): Pool {
  const hit = pools.get(module);
  if (hit != null) return hit;
  const memory: WasmMemory = wasmMemory(module);
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  const threads = shared ? Math.max(1, requestedThreads) : 1;
  const gemm = compileGemmBest(shared);
  const simdModule = compileSimd(shared);
  const table = ELEMENTWISE.map(([n, t]) => [n, t] as const);
  const main: Thread = {
    gemm: new WebAssemblyJs.Instance(gemm.module, { env: { memory } }).exports as unknown as GemmKernels,
    simd: new WebAssemblyJs.Instance(simdModule, { env: { memory } }).exports as unknown as Thread["simd"],
    scratch: allocScratch(module),
    table,
  };
  const ctlWords = CONTROL_WORDS + TASK_WORDS * MAX_TASKS;
  const ctlByte = ((module._malloc(ctlWords * 4 + 64) >>> 0) + 63) & ~63;
  const tasksAt = CONTROL_WORDS;
  const views = () => ({ w: new Int32Array(memory.buffer, ctlByte, ctlWords), f: new Float32Array(memory.buffer, ctlByte, ctlWords) });
  views().w.fill(0, 0, CONTROL_WORDS);
  let workers: Worker[] = [];
  for (let i = 1; i < threads; i++) {
    const worker = new Worker(workerSource(), {
      eval: true,
      workerData: { gemmModule: gemm.module, simdModule, memory, ctlByte, ctlWords, tasksAt, scratch: allocScratch(module), table },
    });
    worker.on("error", () => {}); // reported through the control words (see workerMain)
    worker.unref();
    workers.push(worker);
  }
  let ready = workers.length === 0;
  /** Waits (once) until every worker runs; without them the calling thread does all the work. */
  const waitForWorkers = () => {
    const { w } = views();
    const deadline = Date.now() + 30_000;
    for (let n = Atomics.load(w, 4); n < workers.length && Date.now() < deadline; n = Atomics.load(w, 4)) {
      Atomics.wait(w, 4, n, 100);
    }
    if (Atomics.load(w, 4) < workers.length || Atomics.load(w, 5) !== 0) {
      process.emitWarning("wasm kernel worker threads did not start; using the calling thread only");
      for (const worker of workers) void worker.terminate();
      workers = [];
    }
    ready = true;
  };
  const run = (tasks: readonly PoolTask[]) => {
    if (!ready) waitForWorkers();
    for (let start = 0; start < tasks.length; start += MAX_TASKS) {
      const batch = tasks.slice(start, start + MAX_TASKS);
      const { w, f } = views();
      batch.forEach((t, i) => {
        const at = tasksAt + i * TASK_WORDS;
        w[at] = t.kind;
        const types = t.kind === 0 ? "iiiiiiiiiii" : ELEMENTWISE[t.kind - 1][1];
        t.args.forEach((a, j) => {
          if (types[j] === "f") f[at + 1 + j] = a;
          else w[at + 1 + j] = a;
        });
      });
      w[1] = 0;
      w[2] = batch.length;
      if (workers.length === 0 || batch.length === 1) {
        drain(main, w, f, tasksAt);
        continue;
      }
      Atomics.store(w, 3, workers.length);
      Atomics.add(w, 0, 1);
      Atomics.notify(w, 0);
      drain(main, w, f, tasksAt);
      for (let left = Atomics.load(w, 3); left > 0; left = Atomics.load(w, 3)) Atomics.wait(w, 3, left);
      if (Atomics.load(w, 5) !== 0) throw new Error("a wasm kernel worker thread failed");
    }
  };
  const pool: Pool = { threads: 1 + workers.length, fma: gemm.fma, kernels: main.simd as Pool["kernels"], run };
  pools.set(module, pool);
  return pool;
}

/** The task kind of an element-wise export. */
export function kindOf(name: ElementwiseName): number {
  return ELEMENTWISE.findIndex(([n]) => n === name) + 1;
}
