/**
 * Clipping by global norm, as `torch.nn.utils.clip_grad_norm_(params, max_norm)` (norm_type 2):
 *
 *   total_norm = ||[||g_1||, ..., ||g_n||]||
 *   coef = min(max_norm / (total_norm + 1e-6), 1)
 *   g_i <- g_i * coef          (torch multiplies even when coef is 1, which changes nothing)
 */
import { tf } from "../tf.js";

export interface Clipped {
  /** New gradient tensors, in the order given; the caller owns them. */
  grads: tf.Tensor[];
  /** The global norm before clipping; the caller owns it. */
  norm: tf.Scalar;
}

/** The global norm and the factor torch multiplies every gradient by; the caller owns both. */
export function globalNormScale(grads: readonly tf.Tensor[], maxNorm: number): { norm: tf.Scalar; coef: tf.Scalar } {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new Error(`clipByGlobalNorm: max norm must be a finite number > 0, got ${maxNorm}`);
  }
  if (grads.length === 0) throw new Error("clipByGlobalNorm: no gradients to clip");
  return tf.tidy(() => {
    // ||g|| = sqrt(sum(g*g)); tf.norm would compute |g|^2 with Pow, ~10x slower on wasm.
    const norms = grads.map((g) => tf.sqrt(tf.sum(tf.square(g))));
    const norm = tf.sqrt(tf.sum(tf.square(tf.stack(norms)))) as tf.Scalar;
    const coef = tf.minimum(tf.div(tf.scalar(maxNorm, "float32"), tf.add(norm, tf.scalar(1e-6, "float32"))), 1) as tf.Scalar;
    return { norm, coef };
  });
}

export function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): Clipped {
  const { norm, coef } = globalNormScale(grads, maxNorm);
  const clipped = tf.tidy(() => grads.map((g) => tf.mul(g, coef)));
  coef.dispose();
  return { grads: clipped, norm };
}
