/**
 * What a training stage minimises (the stage's `objective`):
 *
 *   llava         LLaVA's loss: next-token cross-entropy on the assistant's tokens (labels from the
 *                 chat template), images merged into the sequence
 *   lm            causal language modelling of every text token, as a language model is pretrained
 *   contrastive   CLIP: each image's embedding against its text's, the other pairs of the batch as
 *                 negatives (symmetric InfoNCE), with a text tower of its own (contrastive.ts)
 *   self_distill  DINO: a student matches an EMA teacher's distribution over prototypes across crops
 *                 of the same image (self_distill.ts)
 *
 * An objective turns the stage's prepared samples into batches, gives the loss of a batch (under the
 * gradient tape, so synchronous), may own parameters of its own (a text tower, a projection head;
 * trained with the model's, dropped at the end) and buffers (an EMA teacher; checkpointed, never
 * differentiated), and may update its buffers after each optimizer step.
 */
import { collate, IGNORE_INDEX, type Batch, type TrainingSample } from "../data/index.js";
import type { PretrainedModel } from "../models/index.js";
import { ParamView, type ParamSpec } from "../models/common.js";
import { shapeFromConfig, type HfConfig } from "../models/hf_config.js";
import { initValues } from "../models/init.js";
import type { LlavaShape } from "../models/shapes.js";
import { tf } from "../tf.js";
import { contrastiveObjective } from "./contrastive.js";
import { selfDistillObjective } from "./self_distill.js";

export const OBJECTIVES = ["llava", "lm", "contrastive", "self_distill"] as const;
export type ObjectiveName = (typeof OBJECTIVES)[number];

/** A micro batch as an objective needs it; `tensors` are disposed after the step. */
export interface ObjectiveBatch {
  readonly tensors: readonly tf.Tensor[];
}

export interface Objective<B extends ObjectiveBatch = ObjectiveBatch> {
  readonly name: ObjectiveName;
  /** parameters the objective adds and trains with the model's (names do not clash with the model's) */
  readonly parameters: ReadonlyMap<string, tf.Variable>;
  /** state that is not trained but kept in checkpoints (an EMA teacher, a centre) */
  readonly buffers: ReadonlyMap<string, tf.Variable>;
  /**
   * One micro batch from prepared samples; `step` is the optimizer step it belongs to (0-based),
   * `dropoutSeed` seeds its dropout masks (LoRA's).
   */
  prepare(samples: readonly TrainingSample[], step: number, dropoutSeed?: number): B;
  /** the mean loss of a micro batch (runs under the gradient tape) */
  loss(batch: B): tf.Scalar;
  /** after the optimizer step `step` (1-based) with these micro batches */
  afterStep?(batches: readonly B[], step: number): void;
  dispose(): void;
}

export interface ObjectiveContext {
  readonly model: PretrainedModel;
  /** seeds the objective's own parameters and its random views */
  readonly seed: number;
  /** optimizer steps of the stage (schedules inside the objective, e.g. the EMA momentum) */
  readonly steps: number;
  /** the id padding is written with */
  readonly padId: number;
  /** the tokenizer's beginning-of-sequence id, put in front of texts a text tower reads */
  readonly bosId: number;
  /** the image token's id: never a label */
  readonly imageTokenId: number;
  /** the processed image size, for batches whose samples have none */
  readonly imageSize: { readonly height: number; readonly width: number };
}

export function createObjective(name: ObjectiveName, ctx: ObjectiveContext): Objective {
  switch (name) {
    case "llava":
      return llavaObjective(ctx, false);
    case "lm":
      return llavaObjective(ctx, true);
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
 * `llava` (labels from the chat template) and `lm` (every token of the sequence a label, except
 * padding and image positions: the loss of a language model's pretraining).
 */
function llavaObjective(ctx: ObjectiveContext, everyToken: boolean): Objective<SequenceBatch> {
  return {
    name: everyToken ? "lm" : "llava",
    parameters: new Map(),
    buffers: new Map(),
    prepare(samples, _step, dropoutSeed) {
      const b = collate(samples, { padId: ctx.padId, imageSize: ctx.imageSize });
      if (everyToken) languageModelLabels(b, ctx.imageTokenId);
      return { ...sequenceTensors(b), dropoutSeed };
    },
    loss: (b) =>
      ctx.model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, pixelValues: b.pixelValues, dropoutSeed: b.dropoutSeed }).loss as tf.Scalar,
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

/** The shape of the LLaVA model an objective trains a backbone of. */
export function llavaShapeOf(model: PretrainedModel): LlavaShape {
  const { shape } = shapeFromConfig(model.config as HfConfig);
  if (shape.family !== "llava") throw new Error(`a backbone's pretraining objective trains a part of a LLaVA model, not a ${shape.family} model`);
  return shape;
}

/** Variables for an objective's own parameters, seeded by (seed, name) as the model's are. */
export function objectiveVariables(specs: readonly ParamSpec[], seed: number, trainable: boolean): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const spec of specs) {
    const initial = tf.tensor(initValues(seed, spec.name, spec.shape, spec.init), [...spec.shape], "float32");
    out.set(spec.name, tf.variable(initial, trainable, `mmfm.objective${serial++}/${spec.name}`));
    initial.dispose();
  }
  return out;
}

let serial = 0;

/** The model's parameters and an objective's, read through one view. */
export function joinedView(...maps: ReadonlyMap<string, tf.Tensor>[]): ParamView {
  const all = new Map<string, tf.Tensor>();
  for (const m of maps) for (const [k, v] of m) all.set(k, v);
  return new ParamView(all);
}

/** The images of a batch, all required: [N, 3, H, W] as one array. */
export function imagesOf(
  samples: readonly TrainingSample[],
  what: string,
  size: { readonly height: number; readonly width: number },
): { pixels: Float32Array; count: number; height: number; width: number } {
  const missing = samples.find((s) => s.pixelValues === null);
  if (missing) {
    throw new Error(`the ${what} objective needs an image in every sample, but sample ${missing.index}${missing.id ? ` (\`${missing.id}\`)` : ""} has none`);
  }
  const per = 3 * size.height * size.width;
  const pixels = new Float32Array(samples.length * per);
  samples.forEach((s, i) => pixels.set(s.pixelValues as Float32Array, i * per));
  return { pixels, count: samples.length, height: size.height, width: size.width };
}
