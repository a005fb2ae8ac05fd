/**
 * What a forward call takes and gives: one input type and one output type for every family (a
 * family reads the inputs it has a use for and says which one it lacks).
 */
import type { tf } from "../tf.js";

export interface ModelInputs {
  /** int32 [B, T] token ids. */
  inputIds?: tf.Tensor;
  /** [B, T], 1 = attend, 0 = padding. */
  attentionMask?: tf.Tensor;
  /** int32 [B, T]; -100 is ignored. Shifted inside, as transformers does. */
  labels?: tf.Tensor;
  /** float32 [B, C, H, W], channels first. */
  pixelValues?: tf.Tensor;
  /** int32 [B, T] positions (default: 0..T-1; LLaVA "expand": from the merged mask). */
  positionIds?: tf.Tensor;
  outputHiddenStates?: boolean;
  /** training with LoRA adapters: the seed of this pass's dropout masks (absent: no dropout) */
  dropoutSeed?: number;
  /**
   * training: with `labels`, make the logits of the labelled positions only and return the loss
   * without `logits` (the same loss; common.ts `labelledLmLoss`)
   */
  lossOnly?: boolean;
}

export interface ModelOutputs {
  logits?: tf.Tensor;
  lastHiddenState?: tf.Tensor;
  poolerOutput?: tf.Tensor;
  hiddenStates?: tf.Tensor[];
  loss?: tf.Scalar;
}
