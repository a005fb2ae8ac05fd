/**
 * Counts the reads of tensor data from the active backend, to audit GPU -> CPU synchronisation: a
 * read of data that lives on the GPU waits for every queued kernel and copies it back (a readback);
 * a read of data still held on the host (e.g. a batch just created from arrays) does not.
 *
 * Wraps the backend instance's `read` and `readSync` (what `t.data()` and `t.dataSync()` call) until
 * `stop()`. On webgpu a tensor is on the host while tfjs-backend-webgpu still holds its `values`;
 * on wasm and cpu all data is host memory.
 */
import { tf } from "../tf.js";

export interface ReadbackCounter {
  /** Reads that had to wait for the GPU and copy from it. */
  readonly gpu: number;
  /** Reads of data held on the host. */
  readonly host: number;
  /** Restores the backend's own methods. */
  stop(): void;
}

interface ReadableBackend {
  read(dataId: object): Promise<unknown>;
  readSync(dataId: object): unknown;
  tensorMap?: { get(dataId: object): { values?: unknown } | undefined };
}

/** Starts counting on the active backend. */
export function countReadbacks(): ReadbackCounter {
  const backend = tf.backend() as unknown as ReadableBackend;
  const onGpu = tf.getBackend() === "webgpu";
  const counts = { gpu: 0, host: 0 };
  const classify = (dataId: object) => {
    const held = backend.tensorMap?.get(dataId)?.values != null;
    if (onGpu && !held) counts.gpu++;
    else counts.host++;
  };
  const own = Object.getOwnPropertyDescriptors(backend);
  backend.read = (dataId) => {
    classify(dataId);
    return Object.getPrototypeOf(backend).read.call(backend, dataId);
  };
  backend.readSync = (dataId) => {
    classify(dataId);
    return Object.getPrototypeOf(backend).readSync.call(backend, dataId);
  };
  return {
    get gpu() {
      return counts.gpu;
    },
    get host() {
      return counts.host;
    },
    stop() {
      for (const k of ["read", "readSync"] as const) {
        if (own[k] != null) Object.defineProperty(backend, k, own[k]);
        else delete (backend as unknown as Record<string, unknown>)[k];
      }
    },
  };
}
