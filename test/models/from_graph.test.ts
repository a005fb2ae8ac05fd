/** buildModel: graph descriptions (runtime/graph.ts) become the same architectures, seeded or loaded. */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { clipVit, dinov2, gemma, llama, llava, mlp } from "../../runtime/graph.js";
import { buildModel, configParameterCount, createModel, saveModel, visionConfig, textConfig } from "../../runtime/models/index.js";
import { maxAbsDiff } from "./helpers.js";
import { tinyPixels } from "./tiny.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const pre = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 16, aspect: "pad", weights: null, hub_id: null } as const;
const vision = { select_layer: -2, feature: "patch", norm_eps: 1e-5, act: "quick_gelu", ...pre } as const;

describe("graph -> config", () => {
  it("the standard backbones keep their published parameter counts", () => {
    const clipL = clipVit({ ...vision, image: 336, patch: 14, width: 1024, depth: 24, heads: 16, mlp: 4096 });
    expect(configParameterCount(visionConfig(clipL))).toBe(303_507_456);
    const dinoG = dinov2({
      ...vision, act: "gelu", norm_eps: 1e-6, image: 224, position_image: 518, patch: 14, width: 1536, depth: 40, heads: 24,
      mlp: 4096, ffn: "swiglu", layer_scale: 1, mask_token: true,
    });
    expect(configParameterCount(visionConfig(dinoG))).toBe(1_136_480_768);
    const g2b = gemma({
      vocab: 256000, width: 2048, depth: 18, heads: 8, kv_heads: 1, head_dim: 256, mlp: 16384, act: "gelu_tanh",
      rope_theta: 10000, norm_eps: 1e-6, max_positions: 8192, init_std: 0.02, tokenizer: null, weights: null, hub_id: null,
    });
    expect(configParameterCount(textConfig(g2b))).toBe(2_506_172_416);
    expect(textConfig(g2b).hidden_activation).toBe("gelu_pytorch_tanh");
    const vicuna7b = llama({
      vocab: 32000, width: 4096, depth: 32, heads: 32, kv_heads: 32, head_dim: 128, mlp: 11008, act: "silu", rope_theta: 10000,
      rope_scaling: null, norm_eps: 1e-5, max_positions: 4096, tied: false, init_std: 0.02, tokenizer: null, weights: null, hub_id: null,
    });
    expect(configParameterCount(textConfig(vicuna7b))).toBe(6_738_415_616);
    expect(textConfig(vicuna7b)).toMatchObject({ model_type: "llama", hidden_act: "silu", rms_norm_eps: 1e-5, tie_word_embeddings: false, rope_scaling: null, pad_token_id: null });
    expect(textConfig({ ...vicuna7b, config: { ...vicuna7b.config, rope_scaling: 2, tied: true } }).rope_scaling).toEqual({ type: "linear", factor: 2 });
    // a LLaVA over a Llama takes Vicuna's template unless told otherwise
    expect(llava({ vision: clipVit({ ...vision, image: 336, patch: 14, width: 1024, depth: 24, heads: 16, mlp: 4096 }), connector: mlp({ in: 1024, out: 4096, depth: 2, act: "gelu" }), language: vicuna7b }).template).toBe("vicuna_v1");
  });

  it("a SwiGLU width transformers cannot produce is refused", () => {
    const bad = dinov2({ ...vision, image: 16, position_image: 16, patch: 8, width: 16, depth: 1, heads: 2, mlp: 30, ffn: "swiglu", layer_scale: 1, mask_token: false });
    expect(() => visionConfig(bad)).toThrow(/multiple of 8.*mlp 30/);
  });
});

describe("buildModel", () => {
  const tinyVision = clipVit({ ...vision, image: 16, patch: 8, width: 16, depth: 2, heads: 2, mlp: 24 });
  const tinyText = gemma({
    vocab: 32, width: 16, depth: 1, heads: 2, kv_heads: 1, head_dim: 8, mlp: 24, act: "gelu_tanh",
    rope_theta: 10000, norm_eps: 1e-6, max_positions: 64, init_std: 0.02, tokenizer: null, weights: null, hub_id: null,
  });
  const connector = mlp({ in: 16, out: 16, depth: 2, act: "gelu" });

  it("builds a seeded LLaVA and needs the image token id", async () => {
    const graph = llava({ vision: tinyVision, connector, language: tinyText });
    await expect(buildModel(graph, { seed: 0 })).rejects.toThrow(/needs `imageTokenId`/);
    const model = await buildModel(graph, { seed: 0, imageTokenId: 31 });
    const out = model.forward({ inputIds: tf.tensor2d([[1, 31, 4]], undefined, "int32"), pixelValues: tinyPixels(1) });
    expect(out.logits!.shape).toEqual([1, 6, 32]); // 4 patch features replace the image token
    model.dispose();
  });

  it("draws a random start with the language's init_std (the decoder's weights and the connector's, as transformers' _init_weights)", async () => {
    const rms = (t: tf.Tensor) => Math.sqrt(tf.tidy(() => tf.mean(tf.square(t)).dataSync()[0]));
    const wideText = gemma({ ...tinyText.config, vocab: 512, width: 64, head_dim: 16, heads: 4, mlp: 256, init_std: 0.125 });
    const wide = await buildModel(llava({ vision: tinyVision, connector: mlp({ in: 16, out: 64, depth: 2, act: "gelu" }), language: wideText }), { seed: 0, imageTokenId: 31 });
    const narrow = await buildModel(gemma({ ...wideText.config, init_std: 0.02 }), { seed: 0 });
    for (const key of ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.up_proj.weight"]) {
      expect(rms(wide.parameters.get(`language_model.${key}`)!), key).toBeCloseTo(0.125, 2);
      expect(rms(narrow.parameters.get(key)!), key).toBeCloseTo(0.02, 3);
    }
    expect(rms(wide.parameters.get("multi_modal_projector.linear_1.weight")!)).toBeCloseTo(0.125, 1);
    expect(textConfig(wideText).initializer_range).toBe(0.125);
    [wide, narrow].forEach((m) => m.dispose());
  });

  it("loads a component's weights folder, and reports a checkpoint of another shape", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mmfm-graph-"));
    const pretrained = createModel(visionConfig(tinyVision), { seed: 42 });
    await saveModel(pretrained, dir);
    const graph = llava({ vision: clipVit({ ...tinyVision.config, weights: dir }), connector, language: tinyText });
    const model = await buildModel(graph, { seed: 0, imageTokenId: 31 });
    for (const [k, v] of pretrained.parameters) expect(maxAbsDiff(model.parameters.get(`vision_tower.${k}`)!, v), k).toBe(0);
    const wider = llava({ vision: clipVit({ ...tinyVision.config, mlp: 32, weights: dir }), connector, language: tinyText });
    await expect(buildModel(wider, { seed: 0, imageTokenId: 31 })).rejects.toThrow(
      /do not fit the described clip_vision_model:[\s\S]*`vision_model.encoder.layers.0.mlp.fc1.weight`: checkpoint \[24, 16\], described architecture \[32, 16\]/,
    );
    [pretrained, model].forEach((m) => m.dispose());
  });
});
