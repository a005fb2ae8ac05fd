/**
 * The models the GPU check runs (bench/gpu/check.ts), in its two sizes:
 *
 *   full   the device run: the tiny decoder of decoder_step.ts, a ~113M-parameter decoder, and a
 *          ladder of sizes for the largest model that trains
 *   small  stand-ins of the same shape family that finish in seconds on Mesa's software adapter,
 *          so CI runs the same script end to end (numbers from it mean nothing)
 *
 * The tiny LLaVA of the parity step is the tests' (test/models/tiny.ts; a test keeps them equal).
 */
import { tf } from "../../runtime/tf.js";
import { Rng } from "../../runtime/models/init.js";
import { decoderShapes, TINY_DECODER, type DecoderConfig } from "../runtime/decoder.js";

export type CheckSize = "full" | "small";

const GEMMA_LIKE = { kvHeads: 1 as const, ropeTheta: 10000, rmsEps: 1e-6 };

/**
 * ~113M parameters: 12 layers of width 768 (12 heads of 64, one key/value head), GeGLU 3072, a tied
 * vocabulary of 16,384; batch 8 x 512 tokens (its logits, 268 MB, exceed WebGPU's default 128 MiB
 * binding, so the run also proves the adapter's limits were requested).
 */
export const DECODER_100M: DecoderConfig = { ...GEMMA_LIKE, layers: 12, width: 768, heads: 12, headDim: 64, mlp: 3072, vocab: 16384, seq: 512, batch: 8 };

/** Small mode's stand-ins for the tiny and the ~100M decoder. */
export const SMALL_TINY: DecoderConfig = { ...GEMMA_LIKE, layers: 2, width: 64, heads: 2, headDim: 32, mlp: 256, vocab: 256, seq: 32, batch: 2 };
export const SMALL_100M: DecoderConfig = { ...GEMMA_LIKE, layers: 2, width: 128, heads: 2, headDim: 64, mlp: 512, vocab: 512, seq: 64, batch: 2 };

/** The decoders timed against PyTorch, by size. */
export function decodersFor(size: CheckSize): { name: string; config: DecoderConfig }[] {
  return size === "full"
    ? [{ name: "tiny", config: TINY_DECODER }, { name: "100M", config: DECODER_100M }]
    : [{ name: "tiny (small stand-in)", config: SMALL_TINY }, { name: "100M (small stand-in)", config: SMALL_100M }];
}

/** A Gemma-like decoder of `layers` x `width` (heads of 64, GeGLU 4x, vocabulary 32,000), batch 1 x 512. */
function ladderStep(layers: number, width: number): DecoderConfig {
  return { ...GEMMA_LIKE, layers, width, heads: width / 64, headDim: 64, mlp: 4 * width, vocab: 32000, seq: 512, batch: 1 };
}

/** Sizes tried in turn for the largest model that trains (one step, AdamW), smallest first. */
export function limitLadder(size: CheckSize): DecoderConfig[] {
  if (size === "small") return [{ ...SMALL_TINY, batch: 1 }, { ...SMALL_100M, batch: 1 }];
  // 1.48B, 4.34B, 7.66B, 14.87B parameters: AdamW training needs 16 bytes each (22, 65, 114, 222
  // GiB), so an 80 GB card should stop at the second, a 141 GB one at the third; then the check bisects.
  return [ladderStep(24, 2048), ladderStep(32, 3072), ladderStep(32, 4096), ladderStep(40, 5120)];
}

/** 113.0M, 4.31B, 0.12M. */
export function formatParams(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`;
}

export function parameterCount(c: DecoderConfig): number {
  let n = 0;
  for (const shape of decoderShapes(c).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * The largest single tensor of a training step, in bytes (float32): a weight, the logits [B T, V],
 * the attention scores [B, H T, T] or the MLP activations [B T, F]. One WebGPU binding holds it.
 */
export function largestTensorBytes(c: DecoderConfig): number {
  let largest = 0;
  for (const shape of decoderShapes(c).values()) largest = Math.max(largest, shape.reduce((a, b) => a * b, 1));
  const tokens = c.batch * c.seq;
  largest = Math.max(largest, tokens * c.vocab, c.batch * c.heads * c.seq * c.seq, tokens * c.mlp);
  return 4 * largest;
}

/** The tests' tiny LLaVA (test/models/tiny.ts): CLIP (4 patches per 16x16 image) + Gemma (MQA); image token 31. */
export const TINY_LLAVA = {
  model_type: "llava",
  image_token_index: 31,
  vision_feature_layer: -2,
  vision_feature_select_strategy: "default",
  vision_config: {
    model_type: "clip_vision_model",
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    image_size: 16,
    patch_size: 8,
  },
  text_config: {
    model_type: "gemma",
    vocab_size: 32,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    head_dim: 8,
  },
};

/** Deterministic pixel values [n, 3, size, size] in [-1, 1) (test/models/tiny.ts's tinyPixels). */
export function tinyPixels(n: number, size = 16, seed = 1): tf.Tensor {
  const rng = new Rng(seed, "pixels");
  const data = Float32Array.from({ length: n * 3 * size * size }, () => 2 * rng.uniform() - 1);
  return tf.tensor4d(data, [n, 3, size, size]);
}
