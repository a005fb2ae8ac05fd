/**
 * A fix for the `cpu` backend, the runtime's reference.
 *
 * tfjs-backend-cpu 4.22.0's BatchMatMul maps output batch index i to input batch `i % batchA` and
 * `i % batchB`, which is right only when the batch shapes are equal, one is a single batch, or one
 * broadcasts along leading dimensions. For [2,4,m,k] x [2,1,k,n] it silently returns wrong numbers.
 * In the other cases we tile both inputs to the output's batch shape first (cpu's Tile kernel), then
 * run the stock kernel.
 */
import { tf } from "../tf.js";

interface CpuBackend {
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}

/** Whether `i % size` indexing reads the right slice of `shape` broadcast to `out`. */
function moduloIndexingWorks(shape: number[], out: number[]): boolean {
  const size = shape.reduce((x, y) => x * y, 1);
  if (size === 1) return true;
  const padded = [...new Array(out.length - shape.length).fill(1), ...shape];
  // Modulo works when the broadcast dimensions all come before the real ones.
  const first = padded.findIndex((d, i) => d === out[i] && d !== 1);
  return padded.every((d, i) => (i < first ? true : d === out[i]));
}

let installed = false;

export function installCpuBatchMatMulFix(): void {
  if (installed) return;
  const stock = tf.getKernel("BatchMatMul", "cpu");
  const tile = tf.getKernel("Tile", "cpu");
  const reshape = tf.getKernel("Reshape", "cpu");
  if (stock == null || tile == null || reshape == null) return;
  installed = true;
  const kernelFunc = (args: { inputs: { a?: tf.TensorInfo; b?: tf.TensorInfo }; backend: unknown; attrs: tf.NamedAttrMap }) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const backend = args.backend as CpuBackend;
    const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (moduloIndexingWorks(a.shape.slice(0, -2), outBatch) && moduloIndexingWorks(b.shape.slice(0, -2), outBatch)) {
      return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const temps: tf.TensorInfo[] = [];
    const broadcast = (t: tf.TensorInfo): tf.TensorInfo => {
      const batch = t.shape.slice(0, -2);
      const padded = [...new Array(outBatch.length - batch.length).fill(1), ...batch];
      const r = reshape.kernelFunc({ inputs: { x: t }, backend: args.backend as object, attrs: { shape: [...padded, ...t.shape.slice(-2)] } }) as tf.TensorInfo;
      const reps = [...outBatch.map((d, i) => d / padded[i]), 1, 1];
      const tiled = tile.kernelFunc({ inputs: { x: r }, backend: args.backend as object, attrs: { reps } }) as tf.TensorInfo;
      temps.push(r, tiled);
      return tiled;
    };
    try {
      return stock.kernelFunc({ inputs: { a: broadcast(a), b: broadcast(b) }, backend: args.backend as object, attrs: args.attrs });
    } finally {
      for (const t of temps) backend.disposeIntermediateTensorInfo(t);
    }
  };
  tf.unregisterKernel("BatchMatMul", "cpu");
  tf.registerKernel({ kernelName: "BatchMatMul", backendName: "cpu", kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
