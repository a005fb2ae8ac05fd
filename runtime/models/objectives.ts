/**
 * What a training stage minimises (the stage's `objective`):
 *
 *   llava         LLaVA's loss: next-token cross-entropy on the assistant's tokens (labels from the
 *                 chat template), images merged into the sequence
 *   lm            causal language modelling of every text token, as a language model is pretrained
 *   sft           the language model alone on the assistant's tokens (labels from the chat template, as
 *                 `llava`): instruction tuning, as Gemma's `-it` checkpoints were made from the pretrained ones
 *   contrastive   CLIP: each image's embedding against its text's, the other pairs of the batch as
 *                 negatives (symmetric InfoNCE), with a text tower of its own (objective_contrastive.ts)
 *   self_distill  DINO: a student matches an EMA teacher's distribution over prototypes across crops
 *                 of the same image (objective_self_distill.ts)
 *
 * An objective turns the stage's prepared samples into batches, gives the loss of a batch (under the
 * gradient tape, so synchronous), may own parameters of its own (a text tower, a projection head;
 * trained with the model's, dropped at the end) and buffers (an EMA teacher; checkpointed, never
 * differentiated), and may update its buffers after each optimizer step.
 */
import { collate, IGNORE_INDEX, type Batch } from "../data/index.js";
import { tf } from "../tf.js";
import { contrastiveObjective } from "./objective_contrastive.js";
import { selfDistillObjective } from "./objective_self_distill.js";
import type { Objective, ObjectiveBatch, ObjectiveContext, ObjectiveName } from "./objective_common.js";

export { OBJECTIVES, type Objective, type ObjectiveBatch, type ObjectiveContext, type ObjectiveName } from "./objective_common.js";

export function createObjective(name: ObjectiveName, ctx: ObjectiveContext): Objective {
  switch (name) {
    case "llava":
    case "sft":
    case "lm":
      return sequenceObjective(ctx, name);
    case "contrastive":
      return contrastiveObjective(ctx);
    case "self_distill":
      return selfDistillObjective(ctx);
  }
}

interface SequenceBatch extends ObjectiveBatch {
  readonly inputIds: tf.Tensor;
  readonly attentionMask: tf.Tensor;
  readonly labels: tf.Tensor;
  readonly pixelValues?: tf.Tensor;
  readonly dropoutSeed?: number;
}

/**
 * `llava` and `sft` (labels from the chat template) and `lm` (every token of the sequence a label, except
 * padding and image positions: the loss of a language model's pretraining).
 */
function sequenceObjective(ctx: ObjectiveContext, name: "llava" | "lm" | "sft"): Objective<SequenceBatch> {
  const everyToken = name === "lm";
  return {
    name,
    parameters: new Map(),
    buffers: new Map(),
    prepare(samples, _step, dropoutSeed) {
      const b = collate(samples, { padId: ctx.padId, imageSize: ctx.imageSize });
      if (everyToken) languageModelLabels(b, ctx.imageTokenId);
      return { ...sequenceTensors(b), dropoutSeed };
    },
    loss: (b) =>
      ctx.model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, pixelValues: b.pixelValues, dropoutSeed: b.dropoutSeed, lossOnly: true }).loss as tf.Scalar,
    dispose() {},
  };
}

/** Labels of causal language modelling: every real token (the model shifts them), in place. */
export function languageModelLabels(b: Batch, imageTokenId: number): void {
  for (let i = 0; i < b.labels.length; i++) {
    b.labels[i] = b.attentionMask[i] === 1 && b.inputIds[i] !== imageTokenId ? b.inputIds[i] : IGNORE_INDEX;
  }
}

function sequenceTensors(b: Batch): SequenceBatch {
  const shape: [number, number] = [b.batchSize, b.length];
  const inputIds = tf.tensor2d(b.inputIds, shape, "int32");
  const attentionMask = tf.tensor2d(b.attentionMask, shape, "int32");
  const labels = tf.tensor2d(b.labels, shape, "int32");
  // the model takes the images of the samples that have one, in batch order
  const pixelValues = b.imageCount > 0 ? tf.tensor4d(b.imagePixelValues, [b.imageCount, 3, b.imageHeight, b.imageWidth]) : undefined;
  return { inputIds, attentionMask, labels, pixelValues, tensors: [inputIds, attentionMask, labels, ...(pixelValues ? [pixelValues] : [])] };
}
