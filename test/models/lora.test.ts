/**
 * LoRA on the language model (runtime/models/lora.ts), as LLaVA's train.py makes it with peft: the
 * targets are the language model's linear layers only, a fresh adapter changes nothing, a LoRA step
 * trains only the adapters (and what else is listed), dropout is seeded, and merging the adapters gives
 * the logits of the unmerged model to 1e-5. The compiler's count of adapter parameters (what `mmfmc
 * grid` prints) is the runtime's exact count.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loraParameterCount } from "../../compiler/params.js";
import { registerGradients } from "../../runtime/backend/gradients.js";
import { addAdapters, adapterNames, createModel, LORA_A, LORA_B, loraTargets, mergeAdapters, trainableParameters, type ModelInputs, type PretrainedModel } from "../../runtime/models/index.js";
import { tf } from "../../runtime/tf.js";
import { createOptimizer, readStep, trainStep } from "../../runtime/train/index.js";
import { TINY_GEMMA, TINY_LLAVA, tinyPixels } from "./tiny.js";

beforeAll(async () => {
  await registerGradients();
  await tf.setBackend("cpu");
});

function batch(): ModelInputs {
  const ids = [
    [2, 7, 31, 9, 12, 5, 17],
    [4, 3, 31, 22, 6, 14, 0],
  ];
  return {
    inputIds: tf.tensor2d(ids, undefined, "int32"),
    attentionMask: tf.tensor2d(ids.map((r) => r.map((t) => (t === 0 ? 0 : 1))), undefined, "int32"),
    labels: tf.tensor2d(ids.map((r) => r.map((t, i) => (t === 0 || t === 31 || i === 0 ? -100 : t))), undefined, "int32"),
    pixelValues: tinyPixels(2),
  };
}

function snapshot(model: PretrainedModel): Map<string, Float32Array> {
  return new Map([...model.parameters].map(([n, v]) => [n, v.dataSync() as Float32Array]));
}

function logits(model: PretrainedModel, inputs: ModelInputs): Float32Array {
  const out = model.forward({ ...inputs, labels: undefined });
  const values = out.logits!.dataSync() as Float32Array;
  tf.dispose(Object.values(out).flat().filter((t): t is tf.Tensor => t instanceof tf.Tensor));
  return values;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("LoRA", () => {
  it("targets every linear layer of the language model and nothing else, with the compiler's parameter count", () => {
    const model = createModel(TINY_LLAVA, { seed: 0 });
    const targets = loraTargets(model);
    const layers = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];
    expect(targets.map((t) => t.module)).toEqual([0, 1].flatMap((i) => layers.map((l) => `language_model.model.layers.${i}.${l}`)));
    const r = 4;
    const names = addAdapters(model, { r, alpha: 8, dropout: 0.05, seed: 1 });
    expect(names.length).toBe(2 * targets.length);
    expect(adapterNames(model).sort()).toEqual([...names].sort());
    const count = names.reduce((n, name) => n + model.parameters.get(name)!.size, 0);
    const text = TINY_LLAVA.text_config;
    const fields = { width: text.hidden_size, heads: text.num_attention_heads, kv_heads: text.num_key_value_heads, head_dim: text.head_dim, mlp: text.intermediate_size, depth: text.num_hidden_layers };
    expect(count).toBe(loraParameterCount("gemma", fields, r));
    // q_proj: A [r, 16], B [4·8, r]
    expect(model.parameters.get(`language_model.model.layers.0.self_attn.q_proj.${LORA_A}`)!.shape).toEqual([r, 16]);
    expect(model.parameters.get(`language_model.model.layers.0.self_attn.q_proj.${LORA_B}`)!.shape).toEqual([32, r]);
    expect(() => addAdapters(model, { r, alpha: 8, dropout: 0, seed: 1 })).toThrow(/adapters already/);
    model.dispose();
  });

  it("adapts a Llama language model's linear layers too, with the compiler's parameter count", () => {
    const config = {
      model_type: "llama", vocab_size: 40, hidden_size: 24, intermediate_size: 36, num_hidden_layers: 2,
      num_attention_heads: 4, num_key_value_heads: 2, mlp_bias: true,
    };
    const model = createModel(config, { seed: 0 });
    const layers = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];
    expect(loraTargets(model).map((t) => t.module)).toEqual([0, 1].flatMap((i) => layers.map((l) => `model.layers.${i}.${l}`)));
    const r = 3;
    const names = addAdapters(model, { r, alpha: 6, dropout: 0, seed: 2 });
    const count = names.reduce((n, name) => n + model.parameters.get(name)!.size, 0);
    expect(count).toBe(loraParameterCount("llama", { width: 24, heads: 4, kv_heads: 2, head_dim: 6, mlp: 36, depth: 2 }, r));
    model.dispose();
  });

  it("starts as peft: A from U(±1/√in), B zero, so a fresh adapter leaves the logits exactly as they were", () => {
    const model = createModel(TINY_LLAVA, { seed: 0 });
    const inputs = batch();
    const before = logits(model, inputs);
    addAdapters(model, { r: 4, alpha: 16, dropout: 0.5, seed: 3 });
    const a = model.parameters.get(`language_model.model.layers.1.mlp.down_proj.${LORA_A}`)!.dataSync(); // in = 24
    expect(Math.max(...Array.from(a, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(24));
    expect(new Set(a).size).toBe(a.length);
    expect(Array.from(model.parameters.get(`language_model.model.layers.1.mlp.down_proj.${LORA_B}`)!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(logits(model, inputs)).toEqual(before);
    model.dispose();
  });

  it("a LoRA step trains only the adapters and the listed connector; merging gives the unmerged logits to 1e-5", async () => {
    const model = createModel(TINY_LLAVA, { seed: 0 });
    const inputs = batch();
    const base = snapshot(model);
    const adapters = addAdapters(model, { r: 4, alpha: 16, dropout: 0.1, seed: 5 });
    const trainable = new Set([...trainableParameters(model, ["connector"]).keys(), ...adapters]);
    const optimizer = createOptimizer({ lr: 1e-2, weightDecay: 0 }, model.parameters);
    const fresh = snapshot(model);
    for (let step = 0; step < 3; step++) {
      const result = trainStep({
        params: model.parameters,
        trainable,
        microBatches: [inputs],
        loss: (b) => model.forward({ ...b, dropoutSeed: 100 + step }).loss!,
        optimizer,
        lr: 1e-2,
        clip: 1,
      });
      expect(Number.isFinite((await readStep(result)).loss)).toBe(true);
    }
    optimizer.dispose();
    const after = snapshot(model);
    for (const [name, values] of after) {
      const changed = maxDiff(values, fresh.get(name)!) > 0;
      if (trainable.has(name) && name.includes("lora_")) expect(changed, name).toBe(true);
      else if (!trainable.has(name)) expect(changed, name).toBe(false);
    }
    expect([...after.keys()].filter((n) => n.startsWith("multi_modal_projector.")).some((n) => maxDiff(after.get(n)!, base.get(n)!) > 0)).toBe(true);

    const unmerged = logits(model, inputs);
    mergeAdapters(model);
    expect([...model.parameters.keys()]).toEqual([...base.keys()]);
    expect(adapterNames(model)).toEqual([]);
    const merged = logits(model, inputs);
    expect(maxDiff(merged, unmerged)).toBeLessThan(1e-5);
    // the merge changed exactly the adapted weights (and the connector trained beside them)
    const targets = new Set(loraTargets(model).map((t) => `${t.module}.weight`));
    for (const [name, v] of model.parameters) {
      const changed = maxDiff(v.dataSync() as Float32Array, base.get(name)!) > 0;
      expect(changed, name).toBe(targets.has(name) || name.startsWith("multi_modal_projector."));
    }
    model.dispose();
  });

  it("drops the adapters' input with a seeded mask in training only", () => {
    const model = createModel(TINY_GEMMA, { seed: 0 });
    const adapters = addAdapters(model, { r: 2, alpha: 4, dropout: 0.5, seed: 1 });
    // make B non-zero so the adapters count
    for (const n of adapters) if (n.endsWith(LORA_B)) model.parameters.get(n)!.assign(tf.fill(model.parameters.get(n)!.shape, 0.1));
    const inputs: ModelInputs = { inputIds: tf.tensor2d([[1, 5, 9, 3]], undefined, "int32") };
    const evaluation = logits(model, inputs);
    const train = (seed: number) => logits(model, { ...inputs, dropoutSeed: seed });
    expect(maxDiff(train(7), evaluation)).toBeGreaterThan(1e-4);
    expect(train(7)).toEqual(train(7));
    expect(maxDiff(train(7), train(8))).toBeGreaterThan(1e-4);
    // without dropout a training pass is the evaluation pass
    const still = createModel(TINY_GEMMA, { seed: 0 });
    const names = addAdapters(still, { r: 2, alpha: 4, dropout: 0, seed: 1 });
    for (const n of names) if (n.endsWith(LORA_B)) still.parameters.get(n)!.assign(tf.fill(still.parameters.get(n)!.shape, 0.1));
    expect(logits(still, { ...inputs, dropoutSeed: 7 })).toEqual(logits(still, inputs));
    model.dispose();
    still.dispose();
  });
});
