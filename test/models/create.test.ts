/** createModel: seeded initialisation, Hugging Face defaults, parameter counts, components. */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import {
  configParameterCount,
  createModel,
  parameterCount,
  trainableParameters,
  type PretrainedModel,
} from "../../runtime/models/index.js";
import { TINY_CLIP, TINY_DINO, TINY_GEMMA, TINY_LLAMA, TINY_LLAVA, TINY_LLAVA_LLAMA, TINY_SIGLIP } from "./tiny.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const values = (m: PretrainedModel, key: string) => Array.from(m.parameters.get(key)!.dataSync());

function stats(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
}

describe("seeded initialisation", () => {
  it("is deterministic per seed and per parameter name (independent of the rest of the model)", () => {
    const a = createModel(TINY_GEMMA, { seed: 5 });
    const b = createModel(TINY_GEMMA, { seed: 5 });
    const c = createModel(TINY_GEMMA, { seed: 6 });
    const deeper = createModel({ ...TINY_GEMMA, num_hidden_layers: 3 }, { seed: 5 });
    const key = "model.layers.0.self_attn.q_proj.weight";
    expect(values(a, key)).toEqual(values(b, key));
    expect(values(a, key)).not.toEqual(values(c, key));
    expect(values(deeper, key)).toEqual(values(a, key));
    [a, b, c, deeper].forEach((m) => m.dispose());
  });

  it("follows transformers' init: Gemma N(0, initializer_range), norms zero (1 + w), padding row zero", () => {
    const m = createModel({ ...TINY_GEMMA, hidden_size: 64, intermediate_size: 128, initializer_range: 0.05 }, { seed: 0 });
    const up = stats(values(m, "model.layers.0.mlp.up_proj.weight"));
    expect(Math.abs(up.mean)).toBeLessThan(0.005);
    expect(up.std).toBeGreaterThan(0.047);
    expect(up.std).toBeLessThan(0.053);
    expect(values(m, "model.norm.weight").every((x) => x === 0)).toBe(true);
    expect(values(m, "model.layers.1.input_layernorm.weight").every((x) => x === 0)).toBe(true);
    const embed = values(m, "model.embed_tokens.weight");
    expect(embed.slice(0, 64).every((x) => x === 0)).toBe(true); // pad_token_id 0
    expect(embed.slice(64, 128).some((x) => x !== 0)).toBe(true);
    m.dispose();
  });

  it("Llama: norms one (w, not 1 + w), its own lm_head (untied by default), no padding row unless pad_token_id says", () => {
    const m = createModel({ ...TINY_LLAMA, hidden_size: 64, intermediate_size: 128 }, { seed: 0 });
    expect(values(m, "model.norm.weight").every((x) => x === 1)).toBe(true);
    expect(values(m, "model.layers.1.post_attention_layernorm.weight").every((x) => x === 1)).toBe(true);
    expect(m.parameters.get("lm_head.weight")!.shape).toEqual([32, 64]);
    expect(values(m, "model.embed_tokens.weight").slice(0, 64).some((x) => x !== 0)).toBe(true);
    const padded = createModel({ ...TINY_LLAMA, pad_token_id: -1, tie_word_embeddings: true, mlp_bias: true }, { seed: 0 });
    expect(values(padded, "model.embed_tokens.weight").slice(31 * 16).every((x) => x === 0)).toBe(true); // -1: the last row, as torch
    expect(padded.parameters.has("lm_head.weight")).toBe(false);
    expect(values(padded, "model.layers.0.mlp.down_proj.bias").every((x) => x === 0)).toBe(true);
    [m, padded].forEach((x) => x.dispose());
  });

  it("vision families: LayerNorm ones/zeros, CLIP class embedding N(0, 1/D), DINOv2 layer scale and zero mask token", () => {
    const clip = createModel(TINY_CLIP, { seed: 0 });
    expect(values(clip, "vision_model.pre_layrnorm.weight").every((x) => x === 1)).toBe(true);
    expect(values(clip, "vision_model.encoder.layers.0.mlp.fc1.bias").every((x) => x === 0)).toBe(true);
    expect(clip.parameters.has("vision_model.embeddings.patch_embedding.bias")).toBe(false); // CLIP's conv has no bias
    const dino = createModel({ ...TINY_DINO, layerscale_value: 0.25 }, { seed: 0 });
    expect(values(dino, "encoder.layer.1.layer_scale2.lambda1").every((x) => x === 0.25)).toBe(true);
    expect(values(dino, "embeddings.mask_token").every((x) => x === 0)).toBe(true);
    const siglip = createModel(TINY_SIGLIP, { seed: 0 });
    expect(siglip.parameters.get("vision_model.head.attention.in_proj_weight")!.shape).toEqual([48, 16]);
    expect(siglip.parameters.get("vision_model.embeddings.position_embedding.weight")!.shape).toEqual([4, 16]);
    [clip, dino, siglip].forEach((m) => m.dispose());
  });

  it("fills absent fields with the config class defaults (as transformers saves only the differences)", () => {
    const clip = createModel(TINY_CLIP, { seed: 0 });
    expect(clip.config.hidden_act).toBe("quick_gelu");
    expect(clip.config.layer_norm_eps).toBe(1e-5);
    const llava = createModel(TINY_LLAVA, { seed: 0 });
    expect((llava.config.text_config as Record<string, unknown>).rope_theta).toBe(10000);
    expect(llava.config.projector_hidden_act).toBe("gelu");
    [clip, llava].forEach((m) => m.dispose());
  });
});

describe("parameter counts of the real architectures", () => {
  const gemma2b = { model_type: "gemma", vocab_size: 256000, hidden_size: 2048, intermediate_size: 16384, num_hidden_layers: 18, num_attention_heads: 8, num_key_value_heads: 1, head_dim: 256 };
  const clipL336 = { model_type: "clip_vision_model", hidden_size: 1024, intermediate_size: 4096, num_hidden_layers: 24, num_attention_heads: 16, image_size: 336, patch_size: 14 };
  const vicuna7b = { model_type: "llama", hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, rms_norm_eps: 1e-5, max_position_embeddings: 4096 };
  it.each([
    ["gemma-2b", gemma2b, 2_506_172_416],
    ["vicuna-7b-v1.5 / Llama-2-7b", vicuna7b, 6_738_415_616],
    ["vicuna-13b-v1.5", { ...vicuna7b, hidden_size: 5120, intermediate_size: 13824, num_hidden_layers: 40, num_attention_heads: 40 }, 13_015_864_320],
    ["llava-1.5-7b (HF, 32064 rows)", { model_type: "llava", vision_config: clipL336, text_config: { ...vicuna7b, vocab_size: 32064 } }, 7_063_427_072],
    ["gemma-7b", { model_type: "gemma", vocab_size: 256000, hidden_size: 3072, intermediate_size: 24576, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 16, head_dim: 256 }, 8_537_680_896],
    ["clip-vit-large-patch14-336 (vision)", clipL336, 303_507_456],
    ["dinov2-large", { model_type: "dinov2", hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, image_size: 518, patch_size: 14 }, 304_368_640],
    ["dinov2-giant", { model_type: "dinov2", hidden_size: 1536, num_hidden_layers: 40, num_attention_heads: 24, image_size: 518, patch_size: 14, use_swiglu_ffn: true }, 1_136_480_768],
    ["siglip-so400m-patch14-384 (vision)", { model_type: "siglip_vision_model", hidden_size: 1152, intermediate_size: 4304, num_hidden_layers: 27, num_attention_heads: 16, image_size: 384, patch_size: 14 }, 428_225_600],
    ["llava-gemma-2b (HF, 256064 rows)", { model_type: "llava", image_token_index: 256000, vision_config: clipL336, text_config: { ...gemma2b, vocab_size: 256064 } }, 2_815_975_424 + 64 * 2048],
  ])("%s", (_, config, expected) => {
    expect(configParameterCount(config)).toBe(expected);
  });

  it("parameterCount of a built model equals the config's count", () => {
    for (const config of [TINY_LLAVA, TINY_LLAVA_LLAMA]) {
      const m = createModel(config, { seed: 0 });
      expect(parameterCount(m)).toBe(configParameterCount(config));
      m.dispose();
    }
  });
});

describe("components", () => {
  it("LLaVA's vision, connector and language parameters partition the model", () => {
    const m = createModel(TINY_LLAVA, { seed: 0 });
    const parts = (["vision", "connector", "language"] as const).map((c) => trainableParameters(m, [c]));
    expect(parts.reduce((n, p) => n + p.size, 0)).toBe(m.parameters.size);
    expect([...parts[0].keys()].every((k) => k.startsWith("vision_tower."))).toBe(true);
    expect([...parts[1].keys()].sort()).toEqual([
      "multi_modal_projector.linear_1.bias",
      "multi_modal_projector.linear_1.weight",
      "multi_modal_projector.linear_2.bias",
      "multi_modal_projector.linear_2.weight",
    ]);
    expect([...parts[2].keys()].every((k) => k.startsWith("language_model."))).toBe(true);
    expect(trainableParameters(m, ["connector", "language"]).size).toBe(parts[1].size + parts[2].size);
    m.dispose();
  });

  it("single-family models have one component", () => {
    const g = createModel(TINY_GEMMA, { seed: 0 });
    expect(trainableParameters(g, ["language"]).size).toBe(g.parameters.size);
    expect(() => trainableParameters(g, ["vision"])).toThrow(/a gemma model has no `vision` component \(it has: language\)/);
    g.dispose();
  });

  it("rejects a non-integer seed and an unknown family", () => {
    expect(() => createModel(TINY_GEMMA, { seed: 0.5 })).toThrow(/integer seed/);
    expect(() => createModel({ model_type: "mistral" }, { seed: 0 })).toThrow(/model_type "mistral" is not supported/);
    expect(() => createModel({ ...TINY_LLAVA, text_config: { model_type: "mistral" } }, { seed: 0 })).toThrow(
      /text_config.model_type must be "gemma" or "llama"/,
    );
  });
});
