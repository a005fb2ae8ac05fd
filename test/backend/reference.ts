/** Float64 references for the backend tests. */
import { tf } from "../../runtime/tf.js";

/** out = a . b with tfjs's batch broadcasting, from plain arrays (row-major), in float64. */
export function matMulReference(
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): { values: Float64Array; shape: number[] } {
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  const count = outBatch.reduce((x, y) => x * y, 1);
  const index = (shape: number[], i: number) => {
    const padded = [...new Array(outBatch.length - shape.length).fill(1), ...shape];
    let rest = i;
    let idx = 0;
    let stride = 1;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const coord = rest % outBatch[d];
      rest = Math.floor(rest / outBatch[d]);
      if (padded[d] !== 1) idx += coord * stride;
      stride *= padded[d];
    }
    return idx;
  };
  const out = new Float64Array(count * m * n);
  for (let o = 0; o < count; o++) {
    const ia = index(batchA, o) * ar * ac;
    const ib = index(batchB, o) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transposeA ? a[ia + p * ac + i] : a[ia + i * ac + p];
          const bv = transposeB ? b[ib + j * bc + p] : b[ib + p * bc + j];
          s += av * bv;
        }
        out[o * m * n + i * n + j] = s;
      }
    }
  }
  return { values: out, shape: [...outBatch, m, n] };
}

/** Largest |x - y| / (1 + |y|). */
export function maxRelError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`lengths differ: ${x.length} vs ${y.length}`);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
  return worst;
}

/** Values of a tensor computed on the cpu backend (switching back afterwards). */
export async function onCpu<T>(f: () => T): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend("cpu");
  try {
    return f();
  } finally {
    await tf.setBackend(previous);
  }
}
