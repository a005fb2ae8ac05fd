/** loadPretrained / saveModel: round trips, error reports, tied weights, key layouts, coexisting models. */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { createModel, loadPretrained, saveModel } from "../../runtime/models/index.js";
import { readCheckpoint, writeCheckpoint } from "../../runtime/weights/checkpoint.js";
import type { HostTensor } from "../../runtime/weights/safetensors.js";
import { fixture, maxAbsDiff, readIo, toTensor } from "./helpers.js";
import { TINY_LLAVA, tinyPixels } from "./tiny.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), "mmfm-pre-"));
}

/** Copies a fixture's config, with its tensors passed through `edit`, to a new folder. */
async function edited(name: string, edit: (t: Map<string, HostTensor>) => void, config?: (c: Record<string, unknown>) => void) {
  const dir = await tmp();
  const tensors = await readCheckpoint(fixture(name));
  edit(tensors);
  await writeCheckpoint(dir, [...tensors].map(([n, t]) => ({ name: n, shape: t.shape, data: t.data })));
  const cfg = JSON.parse(await readFile(join(fixture(name), "config.json"), "utf8"));
  config?.(cfg);
  await writeFile(join(dir, "config.json"), JSON.stringify(cfg));
  return dir;
}

describe("saveModel then loadPretrained", () => {
  it("gives back the same parameters and outputs (single file and shards)", async () => {
    const model = createModel(TINY_LLAVA, { seed: 3 });
    const inputs = { inputIds: tf.tensor2d([[1, 4, 31, 5, 6]], undefined, "int32"), pixelValues: tinyPixels(1) };
    const before = model.forward(inputs).logits!;
    for (const maxShardBytes of [undefined, 20_000]) {
      const dir = await tmp();
      await saveModel(model, dir, { maxShardBytes });
      const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
      expect(config.architectures).toEqual(["LlavaForConditionalGeneration"]);
      expect(config.text_config.model_type).toBe("gemma");
      const back = await loadPretrained(dir);
      expect([...back.parameters.keys()].sort()).toEqual([...model.parameters.keys()].sort());
      expect(maxAbsDiff(back.forward(inputs).logits!, before)).toBe(0);
      back.dispose();
    }
    model.dispose();
  });
});

describe("checkpoint checks", () => {
  it("reports all missing, unexpected and mis-shaped tensors at once, with shapes", async () => {
    const dir = await edited("gemma_tiny", (t) => {
      t.delete("model.norm.weight");
      t.delete("model.layers.1.mlp.up_proj.weight");
      t.set("model.layers.9.extra", { dtype: "float32", shape: [3, 2], data: new Float32Array(6) });
      t.set("model.layers.0.self_attn.q_proj.weight", { dtype: "float32", shape: [16, 32], data: new Float32Array(512) });
    });
    let message = "";
    await loadPretrained(dir).catch((e: Error) => (message = e.message));
    expect(message).toMatch(/does not fit GemmaForCausalLM/);
    expect(message).toMatch(/missing \(2\):[\s\S]*`model.layers.1.mlp.up_proj.weight` \[48, 32\][\s\S]*`model.norm.weight` \[32\]/);
    expect(message).toMatch(/unexpected \(1\):[\s\S]*`model.layers.9.extra` \[3, 2\]/);
    expect(message).toMatch(/mis-shaped \(1\):[\s\S]*`model.layers.0.self_attn.q_proj.weight`: checkpoint \[16, 32\], model expects \[32, 32\]/);
  });

  it("reports every config problem at once", async () => {
    const dir = await edited("gemma_gqa", () => {}, (c) => {
      c.num_key_value_heads = 3;
      c.hidden_activation = "swiglu";
      c.vocab_size = 0;
    });
    const message = await loadPretrained(dir).then(() => "", (e: Error) => e.message);
    expect(message).toMatch(/^invalid gemma config:/);
    expect(message).toMatch(/`vocab_size` must be an integer >= 1, got 0/);
    expect(message).toMatch(/`num_attention_heads` \(4\) must be a multiple of `num_key_value_heads` \(3\)/);
    expect(message).toMatch(/`hidden_activation` "swiglu" is not a supported activation/);
  });

  it("rejects an unknown model_type or an architecture the folder's type cannot be", async () => {
    const unknown = await edited("clip_vision", () => {}, (c) => (c.model_type = "mamba"));
    await expect(loadPretrained(unknown)).rejects.toThrow(/model_type "mamba" is not supported \(supported: gemma, llama, clip_vision_model/);
    const wrongArch = await edited("clip_vision", () => {}, (c) => (c.architectures = ["CLIPTextModel"]));
    await expect(loadPretrained(wrongArch)).rejects.toThrow(/architectures \["CLIPTextModel"\] are not supported for model_type "clip_vision_model"/);
  });
});

describe("tied weights", () => {
  it("loads once, under the embedding's key, whichever of the two the checkpoint kept", async () => {
    const io = await readIo("gemma_tiny");
    const inputIds = toTensor(io.get("input_ids"));
    const reference = io.get("logits_no_mask")!;
    const both = await edited("gemma_tiny", (t) => t.set("lm_head.weight", t.get("model.embed_tokens.weight")!));
    const headOnly = await edited("gemma_tiny", (t) => {
      t.set("lm_head.weight", t.get("model.embed_tokens.weight")!);
      t.delete("model.embed_tokens.weight");
    });
    for (const dir of [fixture("gemma_tiny"), both, headOnly]) {
      const model = await loadPretrained(dir);
      expect(model.parameters.has("lm_head.weight")).toBe(false);
      expect(model.parameters.has("model.embed_tokens.weight")).toBe(true);
      expect(maxAbsDiff(model.forward({ inputIds }).logits!, reference)).toBeLessThan(1e-4);
      model.dispose();
    }
  });

  it("an untied model has its own lm_head", async () => {
    const model = await loadPretrained(fixture("gemma_gqa"));
    expect(model.parameters.get("lm_head.weight")!.shape).toEqual([80, 24]);
    model.dispose();
  });
});

describe("other checkpoint layouts", () => {
  it("a full CLIP checkpoint gives its vision model; the text tower is skipped", async () => {
    const dir = await edited(
      "clip_vision",
      (t) => {
        t.set("text_model.embeddings.token_embedding.weight", { dtype: "float32", shape: [10, 8], data: new Float32Array(80) });
        t.set("visual_projection.weight", { dtype: "float32", shape: [16, 32], data: new Float32Array(512) });
        t.set("logit_scale", { dtype: "float32", shape: [], data: Float32Array.of(2.6) });
      },
      (c) => {
        const vision = { ...c };
        delete vision.architectures;
        Object.assign(c, { model_type: "clip", architectures: ["CLIPModel"], vision_config: vision, text_config: { hidden_size: 8 } });
      },
    );
    const model = await loadPretrained(dir);
    expect(model.modelType).toBe("clip_vision_model");
    const io = await readIo("clip_vision");
    const out = model.forward({ pixelValues: toTensor(io.get("pixel_values")) });
    expect(maxAbsDiff(out.poolerOutput!, io.get("pooler_output")!)).toBeLessThan(1e-4);
    model.dispose();
  });

  it("LLaVA saved by newer transformers (model.language_model..., lm_head) loads the same", async () => {
    const move = (k: string) =>
      k.startsWith("language_model.model.") ? "model.language_model." + k.slice("language_model.model.".length)
      : k.startsWith("vision_tower.") || k.startsWith("multi_modal_projector.") ? "model." + k
      : k;
    const dir = await edited("llava_clip_gemma", (t) => {
      for (const [k, v] of [...t]) {
        t.delete(k);
        t.set(move(k), v);
      }
    });
    const model = await loadPretrained(dir);
    expect(model.parameters.has("language_model.model.embed_tokens.weight")).toBe(true);
    const io = await readIo("llava_clip_gemma");
    const out = model.forward({
      inputIds: toTensor(io.get("inplace.input_ids")),
      attentionMask: toTensor(io.get("inplace.attention_mask")),
      pixelValues: toTensor(io.get("inplace.pixel_values")),
    });
    expect(maxAbsDiff(out.logits!, io.get("inplace.logits")!)).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe("coexisting models", () => {
  it("two loads of the same folder have separate variables; disposing one leaves the other working", async () => {
    const a = await loadPretrained(fixture("siglip_vision"));
    const b = await loadPretrained(fixture("siglip_vision"));
    const key = "vision_model.post_layernorm.weight";
    expect(a.parameters.get(key)!.name).not.toBe(b.parameters.get(key)!.name);
    const io = await readIo("siglip_vision");
    const pixelValues = toTensor(io.get("pixel_values"));
    a.dispose();
    expect(() => a.forward({ pixelValues })).toThrow(/disposed/);
    expect(maxAbsDiff(b.forward({ pixelValues }).poolerOutput!, io.get("pooler_output")!)).toBeLessThan(1e-4);
    b.dispose();
  });
});
