/**
 * What the pretraining objectives share (objectives.ts): their interface, their own variables, and the
 * model's parameters and theirs read through one view.
 */
import { ParamView, type ParamSpec } from "./common.js";
import { shapeFromConfig, type HfConfig } from "./hf_config.js";
import { initValues } from "./init.js";
import type { PretrainedModel } from "./model.js";
import type { LlavaShape } from "./shapes.js";
import type { Normalization, TrainingSample } from "../data/index.js";
import { tf } from "../tf.js";

export const OBJECTIVES = ["llava", "lm", "sft", "contrastive", "self_distill"] as const;
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
  /** the image processor's per-channel normalisation, for objectives that change colours (a crop's jitter) */
  readonly imageNormalization: Normalization;
  /** `self_distill`'s colour jitter: how far it turns a view's hue (a fraction of a turn; DINO's 0.1) */
  readonly hueJitter?: number;
  /** `self_distill`'s crops: the range of a global and of a local crop's area, fractions of the image's (DINO's 0.35-1 and 0.1-0.35) */
  readonly globalCrops?: readonly [number, number];
  readonly localCrops?: readonly [number, number];
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
