/**
 * One optimizer step over a global batch given as micro-batches, as Hugging Face's Trainer takes it:
 * each micro-batch's loss is divided by the number of micro-batches before its backward pass and the
 * gradients are summed (gradient accumulation), then clipped by global norm, then applied.
 *
 * Memory ownership: everything the step creates is disposed before it returns, except the two
 * scalars in the result, which the caller owns (read them with `await t.data()` when you log, then
 * dispose them, or call `readStep`). Only the `trainable` variables are differentiated and updated;
 * every other variable is left bit-for-bit as it was.
 */
import { tf } from "../tf.js";
import { globalNormScale } from "./clip.js";
import type { Optimizer } from "./optimizer.js";

export interface TrainStepOptions<B> {
  /** Every parameter of the model, by name. */
  params: ReadonlyMap<string, tf.Variable>;
  /** The names of the parameters this stage trains. */
  trainable: ReadonlySet<string>;
  /** The global batch, split into micro-batches (one or more). */
  microBatches: readonly B[];
  /** The mean loss of one micro-batch; must be synchronous (it runs under the gradient tape). */
  loss: (batch: B) => tf.Scalar;
  optimizer: Optimizer;
  /** The learning rate of this step (base rate times the schedule at `optimizer.step`). */
  lr: number;
  /** Clip the global gradient norm to this (transformers' max_grad_norm); omit or 0 to skip. */
  clip?: number;
}

export interface TrainStepResult {
  /** The mean of the micro-batch losses: the training loss transformers logs for the step. */
  loss: tf.Scalar;
  /** The global gradient norm before clipping, when `clip` was set. */
  gradNorm: tf.Scalar | null;
}

export function trainStep<B>(options: TrainStepOptions<B>): TrainStepResult {
  const { params, trainable, microBatches, loss, optimizer, lr, clip = 0 } = options;
  const names = [...params.keys()].filter((n) => trainable.has(n));
  const unknown = [...trainable].filter((n) => !params.has(n));
  if (unknown.length > 0) throw new Error(`trainStep: trainable names that are not parameters: ${unknown.join(", ")}`);
  if (names.length === 0) throw new Error("trainStep: no trainable parameters");
  if (microBatches.length === 0) throw new Error("trainStep: no micro-batches");
  const vars = names.map((n) => params.get(n) as tf.Variable);
  const count = microBatches.length;

  // Accumulate: sum over micro-batches of d(loss_i / count); a parameter no loss reached has no grad.
  let lossSum: tf.Scalar | null = null;
  const acc: (tf.Tensor | null)[] = vars.map(() => null);
  for (const batch of microBatches) {
    const { value, grads } = tf.engine().gradients(
      () => tf.div(loss(batch), tf.scalar(count, "float32")) as tf.Scalar,
      vars,
      undefined,
      true,
    );
    lossSum = addInto(lossSum, value) as tf.Scalar;
    grads.forEach((g, i) => {
      if (g != null) acc[i] = addInto(acc[i], g);
    });
  }

  const present = names.flatMap((n, i) => (acc[i] != null ? [{ name: n, grad: acc[i] as tf.Tensor }] : []));
  const grads = present.map((p) => p.grad);
  // Clipping: the optimizer multiplies each gradient by `coef` as it reads it (no extra pass).
  const clipped = clip > 0 && grads.length > 0 ? globalNormScale(grads, clip) : null;
  try {
    optimizer.apply(new Map(present.map((p) => [p.name, p.grad])), lr, clipped?.coef);
  } finally {
    tf.dispose(grads);
    clipped?.coef.dispose();
  }
  return { loss: lossSum as tf.Scalar, gradNorm: clipped?.norm ?? null };
}

/**
 * Reads and disposes a step's result: loss and gradient norm in one readback (on a GPU each read
 * waits for the device, so two reads per step were two waits).
 */
export async function readStep(result: TrainStepResult): Promise<{ loss: number; gradNorm: number | null }> {
  if (result.gradNorm == null) {
    const loss = (await result.loss.data())[0];
    result.loss.dispose();
    return { loss, gradNorm: null };
  }
  const both = tf.stack([result.loss, result.gradNorm]);
  try {
    const [loss, gradNorm] = await both.data();
    return { loss, gradNorm };
  } finally {
    tf.dispose([both, result.loss, result.gradNorm]);
  }
}

/** a + b, disposing both inputs (a may be null: then b itself). */
function addInto(a: tf.Tensor | null, b: tf.Tensor): tf.Tensor {
  if (a == null) return b;
  const sum = tf.add(a, b);
  a.dispose();
  b.dispose();
  return sum;
}
