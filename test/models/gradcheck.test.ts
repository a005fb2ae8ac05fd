/**
 * Gradient checks.
 *
 * Vision encoders and LLaVA: every parameter's gradient is compared entry by entry with PyTorch's
 * (test/fixtures/make_fixtures.py computes them with autograd through its re-implementation of the
 * transformers models): a fixed random projection of last_hidden_state and pooler_output for the
 * encoders, the language-model loss for LLaVA. A parameter without a reference gradient (unused by
 * the output) must get none here either.
 *
 * Gemma: finite differences (its gradients are matched with PyTorch's in parity.test.ts). For every
 * parameter tensor θ_k with gradient g_k, the central difference of f along u = g_k / |g_k| must equal
 * |g_k|; this shows ⟨true gradient, g_k⟩ = |g_k|², a check of the gradient's size along itself that
 * complements the entry-by-entry comparisons. Tolerances suit float32.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { registerGradients } from "../../runtime/backend/gradients.js";
import { loadPretrained, type PretrainedModel } from "../../runtime/models/index.js";
import type { HostTensor } from "../../runtime/weights/safetensors.js";
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

});

/** float32 against float32: 5e-5 of the tensor's largest entry, and 1e-6 for those that are zero but for rounding (key biases) */
const GRAD_TOL = { relative: 5e-5, absolute: 1e-6 };

/** Largest |a - b| over all entries, and the largest |b|: shapes must agree. */
function compare(actual: tf.Tensor, expected: HostTensor): { diff: number; scale: number } {
  expect(actual.shape, "shape").toEqual([...expected.shape]);
  const a = actual.dataSync();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - expected.data[i]);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(expected.data[i]));
  }
  return { diff, scale };
}

/**
 * The gradients of `f` with respect to every parameter against the references `grad.NAME` under
 * `prefix` in the fixture's io: every entry within GRAD_TOL of the reference (relative to the largest
 * reference entry of that tensor), and no gradient where the reference has none.
 */
function matchGradients(model: PretrainedModel, io: Map<string, HostTensor>, prefix: string, f: () => tf.Scalar, value: HostTensor | undefined): void {
  const entries = [...model.parameters.entries()];
  const { value: v, grads } = tf.variableGrads(f, entries.map(([, p]) => p));
  if (value) expect(Math.abs(v.dataSync()[0] - value.data[0])).toBeLessThan(1e-4);
  v.dispose();
  let compared = 0;
  for (const [name, p] of entries) {
    const reference = io.get(`${prefix}grad.${name}`);
    const g = grads[p.name];
    if (!reference) {
      // unused by the output: no gradient, or an all-zero one
      if (g) expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]), `${name} has a gradient, the reference none`).toBe(0);
      continue;
    }
    expect(g, `no gradient for ${name}`).toBeDefined();
    const { diff, scale } = compare(g!, reference);
    expect(diff, `${name}: max |gradient - reference| ${diff} (largest reference entry ${scale})`).toBeLessThanOrEqual(GRAD_TOL.relative * scale + GRAD_TOL.absolute);
    compared++;
  }
  tf.dispose(Object.values(grads));
  expect(compared).toBe([...io.keys()].filter((k) => k.startsWith(`${prefix}grad.`)).length);
}

describe("gradients entry by entry against PyTorch", () => {
  it.each([
    ["clip_vision", "pixel_values"],
    ["siglip_vision", "pixel_values"],
    ["dinov2_mlp", "wide.pixel_values"],
    ["dinov2_swiglu", "wide.pixel_values"],
  ])("%s: projected last_hidden_state + pooler_output", async (name, input) => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const pixelValues = toTensor(io.get(input));
    const probe = { last: toTensor(io.get("gradcheck.probe.last")), pool: toTensor(io.get("gradcheck.probe.pool")) };
    const f = () => {
      const out = model.forward({ pixelValues });
      return tf.add(tf.sum(tf.mul(out.lastHiddenState!, probe.last)), tf.sum(tf.mul(out.poolerOutput!, probe.pool))) as tf.Scalar;
    };
    matchGradients(model, io, "gradcheck.", f, io.get("gradcheck.value"));
    tf.dispose([pixelValues, probe.last, probe.pool]);
    model.dispose();
  });

  it.each(["expand_right", "expand_left", "inplace"])("llava (%s): loss through projector and vision tower", async (c) => {
    const model = await loadPretrained(fixture("llava_clip_gemma"));
    const io = await readIo("llava_clip_gemma");
    const inputs = {
      inputIds: toTensor(io.get(`${c}.input_ids`)),
      attentionMask: toTensor(io.get(`${c}.attention_mask`)),
      labels: toTensor(io.get(`${c}.labels`)),
      pixelValues: toTensor(io.get(`${c}.pixel_values`)),
    };
    matchGradients(model, io, `${c}.`, () => model.forward(inputs).loss!, io.get(`${c}.loss`));
    model.dispose();
  });
});
