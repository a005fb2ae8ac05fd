/**
 * LLaVA (transformers `LlavaForConditionalGeneration`, 4.40 layout): keys `vision_tower.*` (a CLIP,
 * SigLIP or DINOv2 encoder with its own keys), `multi_modal_projector.*`, `language_model.*` (Gemma or
 * Llama).
 *
 *   image -> vision hidden_states[select_layer]                   (no final norm: a middle layer)
 *         -> drop the class token (feature "patch") or keep all ("cls_patch"); SigLIP has none,
 *            so nothing drops
 *         -> connector -> image embeddings placed at the image tokens (llava_merge.ts)
 *         -> the language model on the merged embeddings (Gemma's √D scales the image features too)
 *         -> loss: mean next-token cross-entropy over labels != -100 at positions whose shifted
 *            merged attention mask is 1 (4.40)
 *
 * Shapes: see the legend in common.ts.
 */
import { tf } from "../tf.js";
import { causalLmLoss, labelledLmLoss, labelledRows, readRows, ParamView, Specs, dims } from "./common.js";
import type { ModelInputs } from "./forward.js";
import { selectedLayers, type LlavaShape, type VitShape } from "./shapes.js";
import { connect, connectorSpecs } from "./connector.js";
import { arangePositions, decoderSpecs, embedTokens, headLogits, lmLogits, runDecoder } from "./decoder.js";
import { planMerge } from "./llava_merge.js";
import { clipVision } from "./clip_vit.js";
import { dinov2Vision } from "./dinov2.js";
import { siglipVision } from "./siglip.js";
import type { VisionEncoder } from "./vision.js";

export const VISION_PREFIX = "vision_tower";
export const CONNECTOR_PREFIX = "multi_modal_projector";
export const LANGUAGE_PREFIX = "language_model";

export function visionEncoder(v: VitShape): VisionEncoder {
  switch (v.family) {
    case "clip_vit":
      return clipVision(v);
    case "siglip":
      return siglipVision(v);
    case "dinov2":
      return dinov2Vision(v);
  }
}

export function llavaSpecs(s: Specs, l: LlavaShape): void {
  visionEncoder(l.vision).specs(s.scope(VISION_PREFIX));
  connectorSpecs(s.scope(CONNECTOR_PREFIX), l);
  decoderSpecs(s.scope(LANGUAGE_PREFIX), l.language);
}

/** Features per image after selection: patches, plus the class token when it is kept. */
export function featuresPerImage(l: LlavaShape, h: number, w: number): number {
  const dropCls = l.feature === "patch" && l.vision.classToken;
  return h * w + (l.vision.classToken && !dropCls ? 1 : 0);
}

/**
 * Vision features of the selected layer(s), projected to the language width.
 * pixels [images, C, H, W] -> [images, P, D]
 */
export function imageFeatures(p: ParamView, l: LlavaShape, pixels: tf.Tensor): tf.Tensor {
  const encoder = visionEncoder(l.vision);
  const count = l.vision.depth + 1;
  const indices = selectedLayers(l).map((i) => (i < 0 ? count + i : i));
  const states = encoder.hiddenStates(p.scope(VISION_PREFIX), pixels, Math.max(...indices));
  let selected = indices.length === 1 ? states[indices[0]] : tf.concat(indices.map((i) => states[i]), -1); // [images, tokens, F]
  if (l.feature === "patch" && l.vision.classToken) {
    const [n, tokens, F] = dims(selected);
    selected = tf.slice(selected, [0, 1, 0], [n, tokens - 1, F]); // [images, N, F] (class token dropped)
  }
  return connect(p.scope(CONNECTOR_PREFIX), l, selected); // [images, P, D]
}

/**
 * The sequence the language model runs on, made from a forward call's inputs: merged embeddings
 * (before Gemma's √D), mask, labels and positions.
 */
export interface DecoderSequence {
  embeds: tf.Tensor; // [B, L, D]
  attentionMask?: tf.Tensor; // [B, L]
  labels?: tf.Tensor; // [B, L]
  positions: tf.Tensor; // [B or 1, L]
}

export function llavaSequence(p: ParamView, l: LlavaShape, inputs: ModelInputs): DecoderSequence {
  const ids = inputs.inputIds;
  if (!ids || ids.rank !== 2) {
    throw new Error(`llava needs inputIds [batch, length], got ${ids ? `[${ids.shape.join(", ")}]` : "none"}`);
  }
  const [B, T] = dims(ids);
  for (const [name, t] of [["attentionMask", inputs.attentionMask], ["labels", inputs.labels]] as const) {
    if (t && (t.rank !== 2 || dims(t)[0] !== B || dims(t)[1] !== T)) {
      throw new Error(`${name} must be [${B}, ${T}] like inputIds, got [${t.shape.join(", ")}]`);
    }
  }
  const lm = p.scope(LANGUAGE_PREFIX);
  // The merge is planned on the host from ids, mask and labels, read before any kernel uses them
  // (on WebGPU a tensor's values stay on the host until then, and only async reads work after).
  const pixels = inputs.pixelValues;
  const rows = pixels && T !== 1
    ? {
        ids: readRows(ids),
        mask: inputs.attentionMask ? readRows(inputs.attentionMask) : null,
        labels: inputs.labels ? readRows(inputs.labels) : null,
      }
    : null;
  // An image token id past the vocabulary (newer checkpoints) is looked up as 0; its row is replaced.
  const lookup = l.imageTokenId >= l.language.vocab ? tf.where(tf.equal(ids, l.imageTokenId), tf.zerosLike(ids), ids) : ids;
  const embeds = embedTokens(lm, l.language, lookup); // [B, T, D]
  if (!pixels || !rows) {
    return {
      embeds,
      attentionMask: inputs.attentionMask,
      labels: inputs.labels,
      positions: inputs.positionIds ?? arangePositions(T),
    };
  }
  const features = imageFeatures(p, l, pixels); // [images, P, D]
  const [images, P, D] = dims(features);
  const plan = planMerge({
    ids: rows.ids,
    mask: rows.mask,
    labels: rows.labels,
    images,
    perImage: P,
    imageTokenId: l.imageTokenId,
    padTokenId: l.padTokenId,
    ignoreIndex: l.ignoreIndex,
  });
  const table = tf.concat([tf.reshape(embeds, [B * T, D]), tf.reshape(features, [images * P, D]), tf.zeros([1, D])], 0); // [B·T + images·P + 1, D]
  const L = plan.length;
  const merged = tf.reshape(tf.gather(table, tf.tensor1d(plan.source, "int32")), [B, L, D]); // [B, L, D]
  if (inputs.positionIds && dims(inputs.positionIds)[1] !== L) {
    throw new Error(`positionIds cover ${dims(inputs.positionIds)[1]} tokens but the merged sequence has ${L}`);
  }
  return {
    embeds: merged,
    attentionMask: tf.tensor2d(plan.mask, [B, L], "int32"),
    labels: plan.labels ? tf.tensor2d(plan.labels, [B, L], "int32") : undefined,
    positions: inputs.positionIds ?? (plan.positions ? tf.tensor2d(plan.positions, [B, L], "int32") : arangePositions(L)),
  };
}

export function llavaForward(p: ParamView, l: LlavaShape, inputs: ModelInputs) {
  const d = llavaSequence(p, l, inputs);
  const lm = p.scope(LANGUAGE_PREFIX);
  // read before any kernel uses labels and mask (lossOnly: the loss from the labelled positions alone)
  const labelled = inputs.lossOnly && d.labels ? labelledRows(d.labels, d.attentionMask) : null;
  const out = runDecoder(lm, l.language, d.embeds, {
    positions: d.positions,
    attentionMask: d.attentionMask,
    outputHiddenStates: inputs.outputHiddenStates,
  });
  if (labelled) {
    const loss = labelledLmLoss(out.hidden, labelled, (rows) => headLogits(lm, l.language, rows));
    return { lastHiddenState: out.hidden, hiddenStates: out.hiddenStates, loss };
  }
  const logits = lmLogits(lm, l.language, out.hidden); // [B, L, V]
  return {
    logits,
    lastHiddenState: out.hidden,
    hiddenStates: out.hiddenStates,
    loss: d.labels ? causalLmLoss(logits, d.labels, d.attentionMask) : undefined,
  };
}
