/**
 * The shapes of the models: everything a family needs to know to build its parameters and run its
 * forward pass, checked. A shape comes from a graph description (from_graph.ts) or from a Hugging
 * Face `config.json` (hf_config.ts), and goes back to a `config.json` for saving (hf_config.ts).
 *
 * The name rule: a field the spec has keeps the spec's name, as the plan (plan/plan.ts) and the
 * typed graph API (runtime/graph.ts) spell it: `width`, `depth`, `heads`, `kv_heads`, `head_dim`,
 * `mlp`, `act`, `rope_theta`, `rope_scaling`, `norm_eps`, `max_positions`, `vocab`, `patch`, `position_image`,
 * `head`, `ffn`, `layer_scale`, `mask_token`, `select_layer`, `feature`, and a LLaVA's `vision`,
 * `connector`, `language` with the connector's `family` and `depth`. A field the spec does not have
 * is camelCase (`tied`, `bias`, `mlpBias`, `initStd`, `padTokenId`, `classToken`, `channels`...). Hugging
 * Face's names (`hidden_size`, `num_hidden_layers`, `rms_norm_eps`, `intermediate_size`,
 * `mlp_ratio`, `vision_feature_layer`, `projector_type`...) are written in hf_config.ts only.
 */
import type { Activation } from "./common.js";

/** What the decoder-only language models share (decoder.ts): Gemma and Llama. */
interface DecoderShapeCommon {
  readonly vocab: number;
  readonly width: number;
  /** the feed-forward width of the gated MLP */
  readonly mlp: number;
  readonly depth: number;
  readonly heads: number;
  readonly kv_heads: number;
  /** Gemma: independent of width / heads; Llama: width / heads unless its config says otherwise */
  readonly head_dim: number;
  readonly act: Activation;
  readonly norm_eps: number;
  readonly rope_theta: number;
  /** carried into config.json; the forward pass does not use it (null when a config says no number) */
  readonly max_positions: number | null;
  /** biases on the attention projections */
  readonly bias: boolean;
  /** the LM head is the embedding */
  readonly tied: boolean;
  /** its embedding row starts at zero and gets no gradient (torch's padding_idx); null: none */
  readonly padTokenId: number | null;
  readonly initStd: number;
}

/** Gemma (GemmaForCausalLM). */
export interface GemmaShape extends DecoderShapeCommon {
  readonly family: "gemma";
}

/** Llama (LlamaForCausalLM; Vicuna is a Llama). */
export interface LlamaShape extends DecoderShapeCommon {
  readonly family: "llama";
  /** linear RoPE scaling: positions are divided by this factor; null: none */
  readonly rope_scaling: number | null;
  /** biases on the MLP projections */
  readonly mlpBias: boolean;
}

/** A decoder-only language model. */
export type LanguageShape = GemmaShape | LlamaShape;

/** A vision transformer: CLIP (CLIPVisionModel), SigLIP (SiglipVisionModel) or DINOv2 (Dinov2Model). */
export interface VitShape {
  /** the plan's vision families */
  readonly family: "clip_vit" | "siglip" | "dinov2";
  readonly width: number;
  /** the feed-forward width (DINOv2 SwiGLU: the width of each half, 4096 for ViT-g) */
  readonly mlp: number;
  readonly depth: number;
  readonly heads: number;
  readonly channels: number;
  /** the image size the position table was made for (CLIP and SigLIP: their only image size) */
  readonly position_image: number;
  readonly patch: number;
  readonly act: Activation;
  readonly norm_eps: number;
  /** DINOv2's feed-forward: `mlp` (fc1, act, fc2) or `swiglu`; CLIP and SigLIP: always `mlp` */
  readonly ffn: "mlp" | "swiglu";
  /** CLIP and DINOv2 prepend a class token; SigLIP has none. */
  readonly classToken: boolean;
  // CLIP
  readonly initStd: number;
  readonly initFactor: number;
  // SigLIP
  /** the attention-pooling head */
  readonly head: boolean;
  // DINOv2
  readonly qkvBias: boolean;
  /** LayerScale's initial value */
  readonly layer_scale: number;
  readonly mask_token: boolean;
  /** DINOv2 position interpolation: "size" (current transformers) or "scale_factor" (<= 4.44). */
  readonly interpolation: "size" | "scale_factor";
}

/** LLaVA's connector (its projector). */
export interface ConnectorShape {
  readonly family: "identity" | "linear" | "mlp";
  /** linear layers: identity 0, linear 1, mlp >= 2 */
  readonly depth: number;
  /** between the layers */
  readonly act: Activation;
  readonly bias: boolean;
}

/** LLaVA (LlavaForConditionalGeneration): a vision transformer, a connector and a language model. */
export interface LlavaShape {
  readonly family: "llava";
  readonly vision: VitShape;
  readonly connector: ConnectorShape;
  readonly language: LanguageShape;
  /** the vision hidden state(s) the features come from (negative counts from the end); several are concatenated */
  readonly select_layer: number | readonly number[];
  /** `patch` drops the class token, `cls_patch` keeps it (SigLIP has none: nothing drops) */
  readonly feature: "patch" | "cls_patch";
  readonly imageTokenId: number;
  /** the label that is not a target (-100) */
  readonly ignoreIndex: number;
  /** LLaVA 4.40 compares the last token with this to detect left padding; -1 when unset. */
  readonly padTokenId: number;
}

export type ModelShape = LanguageShape | VitShape | LlavaShape;

/** The vision hidden states a LLaVA takes its features from, as a list. */
export function selectedLayers(l: LlavaShape): readonly number[] {
  return typeof l.select_layer === "number" ? [l.select_layer] : l.select_layer;
}
