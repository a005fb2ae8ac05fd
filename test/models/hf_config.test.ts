/**
 * Hugging Face config.json <-> model shapes (runtime/models/hf_config.ts): a model built from a graph
 * description is saved with a config.json that loads back to the same shape, for every family;
 * DINOv2's feed-forward width survives transformers' `mlp_ratio` rounding; and a config read into a
 * shape, written and read again gives the same shape.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { clipVit, dinov2, gemma, identity, linear, llama, llava, mlp, siglip } from "../../runtime/graph.js";
import { languageShape, llavaShape, visionShape } from "../../runtime/models/from_graph.js";
import { configFromShape, shapeFromConfig } from "../../runtime/models/hf_config.js";
import { buildModel, loadPretrained, saveModel, type PretrainedModel } from "../../runtime/models/index.js";
import { Model } from "../../runtime/models/model.js";
import type { ModelShape, VitShape } from "../../runtime/models/shapes.js";
import { maxAbsDiff } from "./helpers.js";
import { TINY_CLIP, TINY_DINO, TINY_GEMMA, TINY_LLAMA, TINY_LLAVA, TINY_LLAVA_LLAMA, TINY_SIGLIP } from "./tiny.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const pre = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 16, aspect: "pad", weights: null, hub_id: null } as const;
const vision = { select_layer: -2, feature: "patch", norm_eps: 1e-5, act: "quick_gelu", image: 16, patch: 8, depth: 2, ...pre } as const;
const dino = { ...vision, act: "gelu", norm_eps: 1e-6, image: 14, position_image: 16, layer_scale: 0.5, mask_token: true } as const;

const shapeOf = (m: PretrainedModel) => (m as Model).family.shape;

/** transformers' DINOv2 arithmetic on a config.json: int(width · mlp_ratio), then SwiGLU's rounding. */
function transformersMlp(config: Record<string, unknown>): number {
  const h = Math.trunc((config.hidden_size as number) * (config.mlp_ratio as number));
  return config.use_swiglu_ffn ? Math.floor((Math.trunc((h * 2) / 3) + 7) / 8) * 8 : h;
}

describe("a model built from a graph saves a config.json that loads back to the same shape", () => {
  const text = gemma({
    vocab: 40, width: 22, depth: 1, heads: 2, kv_heads: 1, head_dim: 6, mlp: 30, act: "gelu",
    rope_theta: 500, norm_eps: 1e-5, max_positions: 96, init_std: 0.05, tokenizer: null, weights: null, hub_id: null,
  });
  const lm = { vocab: 40, depth: 1, mlp: 30, rope_theta: 500, norm_eps: 1e-5, max_positions: 96, init_std: 0.02, tokenizer: null, weights: null, hub_id: null } as const;
  const vicunaLike = llama({ ...lm, width: 24, heads: 4, kv_heads: 4, head_dim: 6, act: "silu", rope_scaling: null, tied: false });
  // grouped, head_dim != width / heads (newer transformers' `head_dim`), linear RoPE scaling, tied head
  const llamaOdd = llama({ ...lm, init_std: 0.125, width: 22, heads: 4, kv_heads: 2, head_dim: 4, act: "gelu", rope_scaling: 2.5, tied: true });
  // widths whose mlp_ratio transformers cannot take as mlp / width: int(width · (h / width)) != h
  const swiglu = dinov2({ ...dino, width: 14, heads: 2, mlp: 88, ffn: "swiglu" });
  const dinoMlp = dinov2({ ...dino, width: 22, heads: 2, mlp: 30, ffn: "mlp", mask_token: false });
  const clip = clipVit({ ...vision, width: 16, heads: 2, mlp: 24 });
  const sig = { ...vision, act: "gelu_tanh", width: 16, heads: 2, mlp: 24 } as const;
  const siglipHead = siglip({ ...sig, head: true });
  const siglipBare = siglip({ ...sig, head: false, feature: "cls_patch", select_layer: 1 });
  const wideClip = clipVit({ ...vision, width: 22, heads: 2, mlp: 24, select_layer: -1 });
  type Options = Parameters<typeof buildModel>[1];
  const ids = { imageTokenId: 39, padTokenId: 2 };
  const cases: [string, Parameters<typeof buildModel>[0], Options, ModelShape][] = [
    ["clip_vit", clip, { seed: 1 }, visionShape(clip)],
    ["siglip (head)", siglipHead, { seed: 1 }, visionShape(siglipHead)],
    ["siglip (no head)", siglipBare, { seed: 1 }, visionShape(siglipBare)],
    ["dinov2 (mlp 30 on width 22)", dinoMlp, { seed: 1 }, visionShape(dinoMlp)],
    ["dinov2 swiglu (mlp 88 on width 14)", swiglu, { seed: 1 }, visionShape(swiglu)],
    ["gemma", text, { seed: 1, padTokenId: 3 }, languageShape(text, 3)],
    ["llama", vicunaLike, { seed: 1 }, languageShape(vicunaLike)],
    ["llama (gqa, own head_dim, rope_scaling, tied, pad)", llamaOdd, { seed: 1, padTokenId: 0 }, languageShape(llamaOdd, 0)],
    ...[
      [llava({ vision: swiglu, connector: mlp({ in: 14, out: 22, depth: 3, act: "gelu" }), language: text }), { imageTokenId: 39 }] as const,
      [llava({ vision: siglipBare, connector: linear({ in: 16, out: 22 }), language: text }), ids] as const,
      [llava({ vision: wideClip, connector: identity({ in: 22, out: 22 }), language: text }), ids] as const,
      [llava({ vision: clip, connector: mlp({ in: 16, out: 24, depth: 2, act: "gelu" }), language: vicunaLike }), { imageTokenId: 39, padTokenId: 0 }] as const,
    ].map(([m, given]): [string, typeof m, Options, ModelShape] => [
      `llava (${m.vision.family}, ${m.connector.family})`,
      m,
      { seed: 1, ...given },
      llavaShape(m, given),
    ]),
  ];

  it.each(cases)("%s", async (_, graph, options, expected) => {
    const built = await buildModel(graph, options);
    expect(shapeOf(built)).toEqual(expected);
    const dir = await mkdtemp(join(tmpdir(), "mmfm-hf-config-"));
    await saveModel(built, dir);
    const loaded = await loadPretrained(dir);
    expect(shapeOf(loaded)).toEqual(expected);
    expect([...loaded.parameters.keys()]).toEqual([...built.parameters.keys()]);
    for (const [k, v] of built.parameters) expect(maxAbsDiff(loaded.parameters.get(k)!, v), k).toBe(0);
    [built, loaded].forEach((m) => m.dispose());
  });

  it("those widths are tricky: mlp / width is not a ratio transformers gives them back from", () => {
    // SwiGLU 88 needs int(width · ratio) = 122 (the first h with (int(h·2/3) + 7) // 8 · 8 = 88); MLP 30 needs 30
    expect(Math.trunc(14 * (122 / 14))).not.toBe(122);
    expect(Math.trunc(22 * (30 / 22))).not.toBe(30);
    expect(transformersMlp(configFromShape(visionShape(swiglu)))).toBe(88);
    expect(transformersMlp(configFromShape(visionShape(dinoMlp)))).toBe(30);
  });
});

describe("DINOv2's mlp through mlp_ratio", () => {
  it("every SwiGLU width that is a multiple of 8 and every MLP width come back, on many model widths", () => {
    const widths = [1, 2, 3, 7, 11, 13, 14, 22, 46, 49, 100, 768, 1024, 1536];
    let tricky = 0;
    for (const width of widths) {
      const base: VitShape = { ...(shapeFromConfig({ ...TINY_DINO }).shape as VitShape), width, heads: 1 };
      for (let m = 1; m <= 300; m++) {
        for (const ffn of ["mlp", "swiglu"] as const) {
          if (ffn === "swiglu" && m % 8 !== 0) continue;
          const shape: VitShape = { ...base, mlp: m, ffn };
          const config = configFromShape(shape);
          expect(transformersMlp(config), `${ffn} width ${width} mlp ${m}`).toBe(m);
          expect(shapeFromConfig(config).shape).toEqual(shape);
          if (Math.trunc(width * (m / width)) !== m) tricky++;
        }
      }
    }
    expect(tricky).toBeGreaterThan(0);
    // ViT-g: 4096 from mlp_ratio 4 on width 1536, as the published config says
    expect(transformersMlp({ hidden_size: 1536, mlp_ratio: 4, use_swiglu_ffn: true })).toBe(4096);
  });

  it("refuses a SwiGLU width transformers cannot produce", () => {
    const shape: VitShape = { ...(shapeFromConfig({ ...TINY_DINO }).shape as VitShape), ffn: "swiglu", mlp: 30 };
    expect(() => configFromShape(shape)).toThrow(/multiple of 8.*mlp 30/);
  });
});

describe("a config.json read into a shape, written and read again, gives the same shape", () => {
  const configs: [string, Record<string, unknown>][] = [
    ["gemma", TINY_GEMMA],
    [
      "gemma, untied, biased, own init and pad",
      { ...TINY_GEMMA, tie_word_embeddings: false, attention_bias: true, initializer_range: 0.05, pad_token_id: null, hidden_activation: "gelu" },
    ],
    ["llama", TINY_LLAMA],
    [
      "llama, tied, biased, rope_scaling, head_dim, pad -1",
      { ...TINY_LLAMA, tie_word_embeddings: true, attention_bias: true, mlp_bias: true, rope_scaling: { type: "linear", factor: 4.0 }, head_dim: 8, pad_token_id: -1, initializer_range: 0.05 },
    ],
    ["llama, newer rope_type spelling", { ...TINY_LLAMA, rope_scaling: { rope_type: "linear", factor: 2 } }],
    ["llava with llama", TINY_LLAVA_LLAMA],
    ["clip", TINY_CLIP],
    ["clip, own channels and init", { ...TINY_CLIP, num_channels: 1, initializer_range: 0.1, initializer_factor: 2 }],
    ["full clip config", { model_type: "clip", vision_config: TINY_CLIP }],
    ["siglip", TINY_SIGLIP],
    ["siglip without head", { ...TINY_SIGLIP, vision_use_head: false }],
    ["dinov2", TINY_DINO],
    [
      "dinov2 swiglu, no qkv bias, transformers 4.40",
      { ...TINY_DINO, mlp_ratio: 2.7, use_swiglu_ffn: true, qkv_bias: false, use_mask_token: false, transformers_version: "4.40.0" },
    ],
    ["llava", TINY_LLAVA],
    [
      "llava, two feature layers, full, no projector bias, own ignore index",
      { ...TINY_LLAVA, vision_feature_layer: [-2, -1], vision_feature_select_strategy: "full", multimodal_projector_bias: false, ignore_index: -1, pad_token_id: 0 },
    ],
    ["llava, linear, LLaVA's strategy name", { ...TINY_LLAVA, projector_type: "linear", vision_feature_select_strategy: "cls_patch", projector_hidden_act: "relu" }],
    ["llava, mlp of 4", { ...TINY_LLAVA, projector_depth: 4, projector_hidden_act: "gelu_pytorch_tanh" }],
  ];

  it.each(configs)("%s", (_, raw) => {
    const { shape } = shapeFromConfig(raw);
    expect(shapeFromConfig(configFromShape(shape)).shape).toEqual(shape);
  });
});

describe("LlamaConfig", () => {
  it("fills LlamaConfig's defaults: silu, untied, eps 1e-6, kv heads = heads, head_dim = width / heads, no pad", () => {
    const { config, shape } = shapeFromConfig({ model_type: "llama", hidden_size: 32, num_attention_heads: 4, num_hidden_layers: 1, intermediate_size: 8, vocab_size: 10 });
    expect(shape).toMatchObject({ family: "llama", act: "silu", tied: false, norm_eps: 1e-6, kv_heads: 4, head_dim: 8, rope_theta: 10000, rope_scaling: null, bias: false, mlpBias: false, padTokenId: null, max_positions: 2048 });
    expect(config.num_key_value_heads).toBe(4);
    // a LLaVA config without text_config is LlavaConfig's default: a Llama
    expect((shapeFromConfig({ model_type: "llava" }).shape as { language: { family: string } }).language.family).toBe("llama");
  });

  it("reads rope_scaling as transformers 4.40 checks it, and reports every problem at once", () => {
    const factor = (rope_scaling: unknown) => (shapeFromConfig({ ...TINY_LLAMA, rope_scaling }).shape as { rope_scaling: number | null }).rope_scaling;
    expect(factor(null)).toBe(null);
    expect(factor({ type: "linear", factor: 2.0 })).toBe(2);
    expect(factor({ rope_type: "default" })).toBe(null);
    expect(() => shapeFromConfig({ ...TINY_LLAMA, rope_scaling: { type: "dynamic", factor: 2.0 }, hidden_size: 18, pad_token_id: 32 })).toThrow(
      new RegExp(
        "invalid llama config:\\n" +
          "  `pad_token_id` 32 must be an embedding row \\(from -32 to 31\\) or null\\n" +
          "  `hidden_size` \\(18\\) must be a multiple of `num_attention_heads` \\(4\\), or `head_dim` given\\n" +
          '  `rope_scaling` type "dynamic" is not supported \\(supported: "linear"\\)$',
      ),
    );
    expect(() => shapeFromConfig({ ...TINY_LLAMA, rope_scaling: { type: "linear", factor: 1 } })).toThrow(/`rope_scaling` factor must be a number > 1/);
  });
});
