/** The backend's float32 matmul rate, measured in a fraction of a second, for time estimates. */
import { tf } from "../tf.js";

export async function measureFlops(size = 256, repeats = 6): Promise<number> {
  const a = tf.randomNormal([size, size], 0, 1, "float32", 1);
  const b = tf.randomNormal([size, size], 0, 1, "float32", 2);
  try {
    const warm = tf.matMul(a, b);
    await warm.data();
    warm.dispose();
    const started = performance.now();
    for (let i = 0; i < repeats; i++) {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    }
    const seconds = (performance.now() - started) / 1000;
    return (2 * size ** 3 * repeats) / Math.max(seconds, 1e-9);
  } finally {
    tf.dispose([a, b]);
  }
}
