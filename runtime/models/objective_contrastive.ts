/**
 * `contrastive`: CLIP's pretraining of a vision tower (Radford et al. 2021). Each image of a batch is
 * paired with its text (the sample's assistant reply: a caption); both are embedded, L2-normalised
 * and compared by cosine similarity times a learned temperature, and the loss is the mean of the
 * cross-entropies of picking the right text for each image and the right image for each text:
 *
 *   I = normalise(visual_projection · pooled image)     [B, E]
 *   T = normalise(text_projection · text_model(caption) at its last token)     [B, E]
 *   logits = exp(logit_scale) · I Tᵀ                     [B, B]   (the scale capped at 100, as CLIP)
 *   loss = (CE(logits, diagonal) + CE(logitsᵀ, diagonal)) / 2
 *
 * The image is pooled as the vision family pools it (CLIP: post_layernorm of the class token). The
 * text tower is a small causal transformer of its own (Gemma-like blocks, pooled at the last token
 * as CLIP pools at its end-of-text token); it and the two projections are trained with the vision
 * tower and dropped at the end of the stage: what the stage leaves is the vision tower.
 * The other pairs of the micro batch are the negatives.
 */
import type { TrainingSample } from "../data/index.js";
import { dims, Specs, type ParamView } from "./common.js";
import { arangePositions, decoderSpecs, embedTokens, runDecoder } from "./decoder.js";
import { normal } from "./init.js";
import { VISION_PREFIX, visionEncoder } from "./llava.js";
import type { GemmaShape } from "./shapes.js";
import { tf } from "../tf.js";
import { imagesOf, joinedView, llavaShapeOf, objectiveVariables, type Objective, type ObjectiveBatch, type ObjectiveContext } from "./objective_common.js";

/** Width of the shared embedding space and of the text tower. */
const EMBED = 64;
const TEXT_PREFIX = "objective.text_model";

export interface ContrastiveBatch extends ObjectiveBatch {
  readonly pixels: tf.Tensor; // [B, 3, H, W]
  readonly ids: tf.Tensor; // [B, T]
  readonly mask: tf.Tensor; // [B, T]
  readonly last: tf.Tensor; // [B] flat index b·T + (length_b - 1)
}

/** The text tower: Gemma-like blocks (CLIP's text transformer is causal too), 2 layers of width 64. */
function textTower(vocab: number): GemmaShape {
  return {
    family: "gemma",
    vocab,
    width: EMBED,
    mlp: 4 * EMBED,
    depth: 2,
    heads: 4,
    kv_heads: 4,
    head_dim: EMBED / 4,
    act: "gelu_pytorch_tanh",
    norm_eps: 1e-6,
    rope_theta: 10000,
    max_positions: 512,
    bias: false,
    tied: true,
    padTokenId: null,
    initStd: 0.02,
  };
}

export function contrastiveObjective(ctx: ObjectiveContext): Objective<ContrastiveBatch> {
  const shape = llavaShapeOf(ctx.model);
  const encoder = visionEncoder(shape.vision);
  const text = textTower(shape.language.vocab);
  const specs = new Specs();
  decoderSpecs(specs.scope(TEXT_PREFIX), text);
  specs.add("objective.visual_projection.weight", [EMBED, shape.vision.width], normal(shape.vision.width ** -0.5));
  specs.add("objective.text_projection.weight", [EMBED, EMBED], normal(EMBED ** -0.5));
  specs.add("objective.logit_scale", [], { kind: "constant", value: Math.log(1 / 0.07) });
  const parameters = objectiveVariables(specs.list, ctx.seed, true);

  return {
    name: "contrastive",
    parameters,
    buffers: new Map(),
    prepare(samples: readonly TrainingSample[]): ContrastiveBatch {
      const images = imagesOf(samples, "contrastive", ctx.imageSize);
      const captions = samples.map((s) => [ctx.bosId, ...Array.from(s.labels).filter((_, t) => s.labels[t] !== -100)]);
      const T = Math.max(...captions.map((c) => c.length));
      const ids = new Int32Array(samples.length * T).fill(ctx.padId);
      const mask = new Int32Array(samples.length * T);
      const last = new Int32Array(samples.length);
      captions.forEach((c, b) => {
        ids.set(c, b * T);
        mask.fill(1, b * T, b * T + c.length);
        last[b] = b * T + c.length - 1;
      });
      const t = {
        pixels: tf.tensor4d(images.pixels, [images.count, 3, images.height, images.width]),
        ids: tf.tensor2d(ids, [samples.length, T], "int32"),
        mask: tf.tensor2d(mask, [samples.length, T], "int32"),
        last: tf.tensor1d(last, "int32"),
      };
      return { ...t, tensors: Object.values(t) };
    },
    loss(b) {
      const view = joinedView(ctx.model.parameters, parameters);
      const image = encoder.forward(view.scope(VISION_PREFIX), b.pixels, false).poolerOutput;
      if (!image) throw new Error(`the contrastive objective needs a pooled image embedding, and a ${shape.vision.family} tower without a head has none`);
      const I = normalise(project(image, view, "objective.visual_projection.weight")); // [B, E]
      const T = normalise(project(textEmbedding(view.scope(TEXT_PREFIX), text, b), view, "objective.text_projection.weight")); // [B, E]
      const scale = tf.minimum(tf.exp(view.get("objective.logit_scale")), 100);
      const logits = tf.mul(tf.matMul(I, T, false, true), scale); // [B, B]
      return tf.div(tf.add(diagonalCrossEntropy(logits), diagonalCrossEntropy(tf.transpose(logits))), 2) as tf.Scalar;
    },
    dispose() {
      for (const v of parameters.values()) v.dispose();
    },
  };
}

/** The text tower's final hidden state at each caption's last token: [B, E]. */
function textEmbedding(p: ParamView, g: GemmaShape, b: ContrastiveBatch): tf.Tensor {
  const [B, T] = dims(b.ids);
  const { hidden } = runDecoder(p, g, embedTokens(p, g, b.ids), { positions: arangePositions(T), attentionMask: b.mask });
  return tf.gather(tf.reshape(hidden, [B * T, g.width]), b.last); // [B, E]
}

/** x [B, D] · Wᵀ, W [E, D] -> [B, E] */
function project(x: tf.Tensor, p: ParamView, name: string): tf.Tensor {
  return tf.matMul(x, p.get(name), false, true);
}

/** Rows scaled to unit length: x [B, E] -> [B, E]. */
function normalise(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-12)));
}

/** Mean over rows of -log softmax(row)[row index]: logits [B, B] -> scalar. */
function diagonalCrossEntropy(logits: tf.Tensor): tf.Scalar {
  const B = dims(logits)[0];
  const logp = tf.logSoftmax(logits, -1);
  return tf.neg(tf.div(tf.sum(tf.mul(logp, tf.eye(B))), B)) as tf.Scalar;
}
