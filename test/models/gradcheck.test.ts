/**
 * Finite-difference gradient checks, one per family. For every parameter tensor θ_k with gradient
 * g_k, the central difference of f along u = g_k / |g_k| must equal |g_k|: by Cauchy-Schwarz this
 * holds only when g_k is the true gradient (right direction and size). Tolerances suit float32.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { registerGradients } from "../../runtime/backend/gradients.js";
import { loadPretrained, type PretrainedModel } from "../../runtime/models/index.js";
import { Rng } from "../../runtime/models/init.js";
import { fixture, readIo, toTensor } from "./helpers.js";

beforeAll(async () => {
  await registerGradients();
  await tf.setBackend("cpu");
});

const EPS = 2e-3;

function read(f: () => tf.Scalar): number {
  return tf.tidy(() => f().dataSync()[0]);
}

/** Checks every parameter's gradient; those with none must match `unused`. Returns the worst relative error. */
function gradCheck(model: PretrainedModel, f: () => tf.Scalar, unused: RegExp | null): number {
  const entries = [...model.parameters.entries()];
  const { value, grads } = tf.variableGrads(f, entries.map(([, v]) => v));
  const scale = Math.max(1, Math.abs(value.dataSync()[0]));
  value.dispose();
  let worst = 0;
  let checked = 0;
  for (const [name, v] of entries) {
    const g = grads[v.name];
    if (!g) {
      expect(name, `no gradient for ${name}`).toMatch(unused ?? /$^/);
      continue;
    }
    const norm = tf.tidy(() => tf.norm(g).dataSync()[0]);
    if (norm === 0) continue;
    const original = tf.clone(v);
    const step = tf.tidy(() => tf.mul(g, EPS / norm));
    v.assign(tf.tidy(() => tf.add(original, step)));
    const plus = read(f);
    v.assign(tf.tidy(() => tf.sub(original, step)));
    const minus = read(f);
    v.assign(original);
    tf.dispose([original, step]);
    const fd = (plus - minus) / (2 * EPS);
    const error = Math.abs(fd - norm);
    expect(error, `${name}: finite difference ${fd} vs |gradient| ${norm}`).toBeLessThan(1e-2 * norm + (1e-6 * scale) / EPS);
    worst = Math.max(worst, error / norm);
    checked++;
  }
  tf.dispose(Object.values(grads));
  expect(checked).toBeGreaterThan(5);
  return worst;
}

/** A fixed random projection of the outputs to a scalar. */
function projector(seed: number) {
  const cache = new Map<string, tf.Tensor>();
  return (t: tf.Tensor, key: string) => {
    if (!cache.has(key)) {
      const rng = new Rng(seed, key);
      const values = Float32Array.from({ length: t.size }, () => rng.normal() / Math.sqrt(t.size));
      cache.set(key, tf.keep(tf.tensor(values, t.shape)));
    }
    return tf.sum(tf.mul(t, cache.get(key)!));
  };
}

describe("finite differences", () => {
  // gemma_tiny is checked without its left-padding mask: a fully masked query row attends uniformly
  // because finfo.min absorbs the scores, so the true function ignores them while autograd (torch's
  // and tfjs's alike) still sends them a gradient. gemma_gqa's right padding has no such row.
  // The embedding row of pad_token_id gets no gradient from its lookups (torch's padding_idx), which
  // is not the derivative: the pad token is replaced by another one here, so every gradient is one.
  it.each([["gemma_tiny", false], ["gemma_gqa", true], ["llama_tiny", false], ["llama_gqa", true]])("%s: loss", async (name, withMask) => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const vocab = model.config.vocab_size as number;
    const pad = model.config.pad_token_id as number | null;
    const padRow = pad === null ? -1 : pad < 0 ? vocab + pad : pad;
    const ids = toTensor(io.get("input_ids"));
    const inputs = {
      inputIds: tf.where(tf.equal(ids, padRow), tf.fill(ids.shape, padRow === 1 ? 2 : 1, "int32"), ids),
      attentionMask: withMask ? toTensor(io.get("attention_mask")) : undefined,
      labels: toTensor(io.get("labels")),
    };
    gradCheck(model, () => model.forward(inputs).loss!, null);
    model.dispose();
  });

  it.each([
    ["clip_vision", "pixel_values"],
    ["siglip_vision", "pixel_values"],
    ["dinov2_mlp", "wide.pixel_values"],
    ["dinov2_swiglu", "wide.pixel_values"],
  ])("%s: projected last_hidden_state + pooler_output", async (name, input) => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const pixelValues = tf.slice(toTensor(io.get(input)), 0, 1);
    const project = projector(7);
    const f = () => {
      const out = model.forward({ pixelValues });
      return tf.add(project(out.lastHiddenState!, "last"), project(out.poolerOutput!, "pool")) as tf.Scalar;
    };
    gradCheck(model, f, /mask_token/); // DINOv2's mask token is used only with bool_masked_pos
    model.dispose();
  });

  it.each(["expand_right", "inplace"])("llava (%s): loss through projector and vision tower", async (c) => {
    const model = await loadPretrained(fixture("llava_clip_gemma"));
    const io = await readIo("llava_clip_gemma");
    const inputs = {
      inputIds: toTensor(io.get(`${c}.input_ids`)),
      attentionMask: toTensor(io.get(`${c}.attention_mask`)),
      labels: toTensor(io.get(`${c}.labels`)),
      pixelValues: toTensor(io.get(`${c}.pixel_values`)),
    };
    // Features come from hidden_states[-2]: the last vision layer and post_layernorm do not matter.
    gradCheck(model, () => model.forward(inputs).loss!, /^vision_tower\.vision_model\.(encoder\.layers\.2\.|post_layernorm)/);
    model.dispose();
  });
});
