/**
 * Multi-threaded tfjs wasm under Node: a shim around tfjs-backend-wasm 4.22.0's Emscripten loader.
 *
 * tfjs turns wasm threads off under Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false when `IS_NODE`,
 * tfjs issue 3830). The threaded SIMD build itself runs under Node's worker_threads once four things
 * are fixed for the duration of the backend's start-up:
 *   1. the pthread worker script is handed over as a `blob:` URL, which `new Worker()` rejects in
 *      Node (ERR_WORKER_PATH): we write it to a temp file and return that path instead;
 *   2. each worker then loads the main script from the Blob it is sent: our copy of the worker
 *      script reads the threaded loader from its file in the package instead;
 *   3. the C++ side caps threads at `os.cpus().length / 2` (it assumes 2 hyper-threads per core):
 *      `os.cpus()` is made to report enough cores while the module starts;
 *   4. Emscripten calls `worker.ref()` when a pthread starts, so Node would never exit: `ref` is a
 *      no-op during start-up and every worker is `unref`ed afterwards.
 * All of this depends on Emscripten internals of the pinned tfjs version; each patch checks that the
 * code it expects is there and fails with a clear message otherwise.
 */
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";

const require = createRequire(import.meta.url);

/** The most threads the wasm build can use: it pre-spawns 8 pthread workers. */
export const MAX_WASM_THREADS = 8;

const WORKER_LOAD_BRANCH = 'if(typeof e.data.urlOrBlob=="string")';

/** Undoes the global patches; call once the wasm backend has been created. */
export type ShimRestore = () => void;

/** Paths of the threaded loader and the worker source inside the installed tfjs-backend-wasm. */
function wasmPackagePaths(): { loader: string; workerSource: string } {
  const pkgJson = require.resolve("@tensorflow/tfjs-backend-wasm/package.json");
  const dir = path.dirname(pkgJson);
  return {
    loader: path.join(dir, "wasm-out", "tfjs-backend-wasm-threaded-simd.js"),
    workerSource: path.join(dir, "wasm-out", "tfjs-backend-wasm-threaded-simd.worker.js"),
  };
}

/** Writes our copy of the pthread worker script; returns its path. */
function writeWorkerScript(): string {
  const { loader, workerSource } = wasmPackagePaths();
  const contents: unknown = require(workerSource).wasmWorkerContents;
  if (typeof contents !== "string" || !contents.includes(WORKER_LOAD_BRANCH)) {
    throw new Error(
      "wasm threads: the pthread worker of @tensorflow/tfjs-backend-wasm is not the one this shim " +
        "was written for (4.22.0); run with threads = 1 or install @tensorflow/tfjs-backend-wasm@4.22.0",
    );
  }
  // The loader is sent to workers as a Blob they cannot read in Node: point them at the file.
  const patched = contents
    .replace(WORKER_LOAD_BRANCH, `e.data.urlOrBlob=${JSON.stringify(loader)};${WORKER_LOAD_BRANCH}`)
    // tfjs escapes newlines the same way before it makes its Blob (they sit inside string literals).
    .replace(/\n/g, "\\n");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmfm-wasm-"));
  const file = path.join(dir, "tfjs-backend-wasm-threaded-simd.worker.cjs");
  fs.writeFileSync(file, patched);
  // Workers may read the file at any time while they start: remove it when the process ends.
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return file;
}

/**
 * Installs the patches and returns the function that removes them. `threads` is the thread count
 * the caller will ask tfjs for (2..8).
 */
export function installWasmThreadShim(threads: number): ShimRestore {
  const workerFile = writeWorkerScript();

  const originalCreateObjectURL = URL.createObjectURL;
  URL.createObjectURL = ((obj: Blob) => {
    // tfjs makes exactly one Blob of this type: the pthread worker script.
    if (obj instanceof Blob && obj.type === "application/javascript") return workerFile;
    return originalCreateObjectURL.call(URL, obj);
  }) as typeof URL.createObjectURL;

  const osModule = require("node:os") as typeof os;
  const originalCpus = osModule.cpus;
  const real = originalCpus.call(osModule);
  const wanted = Math.max(real.length, 2 * threads);
  osModule.cpus = () => {
    const list = originalCpus.call(osModule);
    while (list.length < wanted) list.push(list[0] ?? fakeCpu());
    return list;
  };

  const proto = Worker.prototype as unknown as { ref: () => void };
  const originalRef = proto.ref;
  proto.ref = function ref() {};

  return () => {
    URL.createObjectURL = originalCreateObjectURL;
    osModule.cpus = originalCpus;
    proto.ref = originalRef;
  };
}

/** Lets Node exit while the pthread workers idle. */
export function unrefWasmWorkers(wasmModule: unknown): number {
  const pthread = (wasmModule as { PThread?: { unusedWorkers?: Worker[]; runningWorkers?: Worker[] } })
    .PThread;
  if (pthread == null) return 0;
  const workers = [...(pthread.unusedWorkers ?? []), ...(pthread.runningWorkers ?? [])];
  for (const w of workers) {
    (w as unknown as { ref: () => void }).ref = () => {};
    w.unref();
  }
  return workers.length;
}

function fakeCpu(): os.CpuInfo {
  return { model: "virtual", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
}
