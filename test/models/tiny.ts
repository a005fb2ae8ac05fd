/** Tiny configs (Hugging Face config.json shape) and inputs shared by the model tests. */
import { tf } from "../../runtime/tf.js";
import { Rng } from "../../runtime/models/init.js";

export const TINY_GEMMA = {
  model_type: "gemma",
  vocab_size: 32,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 6,
};

/** LlamaForCausalLM: grouped-query, head_dim = 16 / 4, untied head (LlamaConfig's defaults otherwise). */
export const TINY_LLAMA = {
  model_type: "llama",
  vocab_size: 32,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
};

export const TINY_CLIP = {
  model_type: "clip_vision_model",
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  image_size: 16,
  patch_size: 8,
};

export const TINY_SIGLIP = { ...TINY_CLIP, model_type: "siglip_vision_model" };

export const TINY_DINO = {
  model_type: "dinov2",
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  mlp_ratio: 2,
  image_size: 16,
  patch_size: 8,
};

/** CLIP (4 patches per 16×16 image) + Gemma (MQA); image token 31. */
export const TINY_LLAVA = {
  model_type: "llava",
  image_token_index: 31,
  vision_feature_layer: -2,
  vision_feature_select_strategy: "default",
  vision_config: TINY_CLIP,
  text_config: { ...TINY_GEMMA, num_key_value_heads: 1, head_dim: 8 },
};

/** CLIP + Llama (LLaVA-1.5's layout); image token 31. */
export const TINY_LLAVA_LLAMA = { ...TINY_LLAVA, text_config: TINY_LLAMA };

/** Deterministic pixel values [n, 3, size, size] in [-1, 1). */
export function tinyPixels(n: number, size = 16, seed = 1): tf.Tensor {
  const rng = new Rng(seed, "pixels");
  const data = Float32Array.from({ length: n * 3 * size * size }, () => 2 * rng.uniform() - 1);
  return tf.tensor4d(data, [n, 3, size, size]);
}

/** Deterministic token ids [rows, length] in [low, high). */
export function tinyIds(rows: number, length: number, high: number, seed = 2, low = 1): tf.Tensor {
  const rng = new Rng(seed, "ids");
  const data = Int32Array.from({ length: rows * length }, () => low + Math.floor(rng.uniform() * (high - low)));
  return tf.tensor2d(data, [rows, length], "int32");
}
