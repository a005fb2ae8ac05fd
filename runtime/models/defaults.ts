/**
 * Hugging Face `config.json` defaults. transformers saves only the fields that differ from a config
 * class's defaults, so every absent field takes the default of its class (transformers 4.40:
 * GemmaConfig, CLIPVisionConfig, SiglipVisionConfig, Dinov2Config, LlavaConfig).
 */

export type Json = Record<string, unknown>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** The families the runtime implements, by `model_type`. */
export const MODEL_TYPES = ["gemma", "clip_vision_model", "clip", "siglip_vision_model", "siglip", "dinov2", "llava"] as const;

const GEMMA_DEFAULTS: Json = {
  vocab_size: 256000,
  hidden_size: 3072,
  intermediate_size: 24576,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 16,
  head_dim: 256,
  hidden_act: "gelu_pytorch_tanh",
  hidden_activation: null,
  max_position_embeddings: 8192,
  initializer_range: 0.02,
  rms_norm_eps: 1e-6,
  pad_token_id: 0,
  eos_token_id: 1,
  bos_token_id: 2,
  tie_word_embeddings: true,
  rope_theta: 10000.0,
  attention_bias: false,
};

const CLIP_VISION_DEFAULTS: Json = {
  hidden_size: 768,
  intermediate_size: 3072,
  projection_dim: 512,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 32,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  initializer_range: 0.02,
  initializer_factor: 1.0,
};

const SIGLIP_VISION_DEFAULTS: Json = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 16,
  hidden_act: "gelu_pytorch_tanh",
  layer_norm_eps: 1e-6,
  vision_use_head: true,
};

const DINOV2_DEFAULTS: Json = {
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  mlp_ratio: 4,
  hidden_act: "gelu",
  initializer_range: 0.02,
  layer_norm_eps: 1e-6,
  image_size: 224,
  patch_size: 16,
  num_channels: 3,
  qkv_bias: true,
  layerscale_value: 1.0,
  use_swiglu_ffn: false,
  use_mask_token: true,
};

/** LlavaConfig's default vision tower (CLIP ViT-L/14-336). */
const LLAVA_DEFAULT_VISION: Json = {
  model_type: "clip_vision_model",
  intermediate_size: 4096,
  hidden_size: 1024,
  patch_size: 14,
  image_size: 336,
  num_hidden_layers: 24,
  num_attention_heads: 16,
  projection_dim: 768,
};

/**
 * LlavaConfig's defaults, plus the connector fields mmfm adds (docs/runtime-models.md):
 * `projector_type` "identity" | "linear" | "mlp" and `projector_depth` (mlp only, >= 2). The defaults
 * give transformers' two-layer `multi_modal_projector.linear_1/linear_2`, so HF configs need neither.
 * `multimodal_projector_bias` is transformers' own (newer versions).
 */
const LLAVA_DEFAULTS: Json = {
  ignore_index: -100,
  image_token_index: 32000,
  projector_hidden_act: "gelu",
  vision_feature_select_strategy: "default",
  vision_feature_layer: -2,
  pad_token_id: null,
  multimodal_projector_bias: true,
  projector_type: "mlp",
  projector_depth: 2,
};

const NESTED_TYPES = ["gemma", "clip_vision_model", "siglip_vision_model", "dinov2"];

/** Returns the config with the class defaults filled in; the raw object is not changed. */
export function withDefaults(raw: Json): Json {
  const type = raw.model_type;
  switch (type) {
    case "gemma":
      return { ...GEMMA_DEFAULTS, ...raw };
    case "clip_vision_model":
      return { ...CLIP_VISION_DEFAULTS, ...raw };
    case "siglip_vision_model":
      return { ...SIGLIP_VISION_DEFAULTS, ...raw };
    case "dinov2":
      return { ...DINOV2_DEFAULTS, ...raw };
    case "clip":
      return withDefaults({ ...(raw.vision_config as Json | undefined), model_type: "clip_vision_model" });
    case "siglip":
      return withDefaults({ ...(raw.vision_config as Json | undefined), model_type: "siglip_vision_model" });
    case "llava": {
      const vision = (raw.vision_config as Json | undefined) ?? LLAVA_DEFAULT_VISION;
      const text = raw.text_config as Json | undefined;
      const out: Json = { ...LLAVA_DEFAULTS, ...raw };
      if (raw.image_token_index === undefined && typeof raw.image_token_id === "number") {
        out.image_token_index = raw.image_token_id;
      }
      // Nested configs of a family we lack keep their fields; llavaShape then says what is wrong.
      const nested = (c: Json) => (NESTED_TYPES.includes(String(c.model_type)) ? withDefaults(c) : c);
      out.vision_config = nested({ model_type: "clip_vision_model", ...vision });
      out.text_config = nested({ model_type: "llama", ...text });
      return out;
    }
    default:
      throw new ConfigError(
        `model_type ${JSON.stringify(type)} is not supported (supported: ${MODEL_TYPES.join(", ")})`,
      );
  }
}

