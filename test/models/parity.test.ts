/**
 * Parity with the PyTorch reference (test/fixtures/make_fixtures.py, written to compute what
 * transformers 4.40 computes): tiny random-weight checkpoints in the Hugging Face layout are loaded
 * with loadPretrained and run with forward; outputs must match to 1e-4, Gemma and Llama loss gradients
 * to 1e-5 (the embedding's padding row, torch's padding_idx, included: it gets no gradient from the
 * lookup).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { registerGradients } from "../../runtime/backend/gradients.js";
import { loadPretrained } from "../../runtime/models/index.js";
import type { HostTensor } from "../../runtime/weights/safetensors.js";
import { fixture, maxAbsDiff, readIo, toTensor } from "./helpers.js";

const TOL = 1e-4;
const GRAD_TOL = 1e-5;

beforeAll(async () => {
  await registerGradients();
  await tf.setBackend("cpu");
});

function expectClose(actual: tf.Tensor | undefined, expected: HostTensor | undefined, tol: number, what: string) {
  expect(actual, `${what} missing`).toBeDefined();
  expect(expected, `reference ${what} missing`).toBeDefined();
  const diff = maxAbsDiff(actual!, expected!);
  expect(diff, `${what}: max |diff| ${diff}`).toBeLessThanOrEqual(tol);
}

/** How many hidden states the reference stored under `prefix`. */
function referenceStates(io: Map<string, HostTensor>, prefix: string): number {
  return [...io.keys()].filter((k) => k.startsWith(`${prefix}hidden_states.`)).length;
}

describe.each(["gemma_tiny", "gemma_gqa", "llama_tiny", "llama_gqa"])("%s", (name) => {
  it("logits, hidden states and loss match; gradients of the loss match", async () => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const inputIds = toTensor(io.get("input_ids"));
    const attentionMask = toTensor(io.get("attention_mask"));
    const labels = toTensor(io.get("labels"));
    const out = model.forward({ inputIds, attentionMask, labels, outputHiddenStates: true });
    expectClose(out.logits, io.get("logits"), TOL, "logits");
    expectClose(out.loss, io.get("loss"), TOL, "loss");
    const L = (model.config.num_hidden_layers as number) + 1;
    expect(out.hiddenStates).toHaveLength(L);
    out.hiddenStates!.forEach((h, i) => expectClose(h, io.get(`hidden_states.${i}`), TOL, `hidden_states[${i}]`));
    const noMask = model.forward({ inputIds });
    expectClose(noMask.logits, io.get("logits_no_mask"), TOL, "logits without mask");

    const vars = [...model.parameters.values()];
    const { value, grads } = tf.variableGrads(() => model.forward({ inputIds, attentionMask, labels }).loss!, vars);
    expectClose(value, io.get("loss"), TOL, "loss under variableGrads");
    for (const [key, v] of model.parameters) {
      expectClose(grads[v.name], io.get(`grad.${key}`), GRAD_TOL, `gradient of ${key}`);
    }
    model.dispose();
  });
});

describe.each(["clip_vision", "siglip_vision"])("%s", (name) => {
  it("last_hidden_state, pooler_output and hidden states match", async () => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const out = model.forward({ pixelValues: toTensor(io.get("pixel_values")), outputHiddenStates: true });
    expectClose(out.lastHiddenState, io.get("last_hidden_state"), TOL, "last_hidden_state");
    expectClose(out.poolerOutput, io.get("pooler_output"), TOL, "pooler_output");
    expect(out.hiddenStates).toHaveLength((model.config.num_hidden_layers as number) + 1);
    out.hiddenStates!.forEach((h, i) => expectClose(h, io.get(`hidden_states.${i}`), TOL, `hidden_states[${i}]`));
    model.dispose();
  });
});

describe.each(["dinov2_mlp", "dinov2_swiglu"])("%s", (name) => {
  it.each(["square", "wide", "large"])("%s input: outputs match (positions interpolated when needed)", async (input) => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const out = model.forward({ pixelValues: toTensor(io.get(`${input}.pixel_values`)), outputHiddenStates: true });
    expectClose(out.lastHiddenState, io.get(`${input}.last_hidden_state`), TOL, "last_hidden_state");
    expectClose(out.poolerOutput, io.get(`${input}.pooler_output`), TOL, "pooler_output");
    expect(referenceStates(io, `${input}.`)).toBe((model.config.num_hidden_layers as number) + 1);
    expect(out.hiddenStates).toHaveLength((model.config.num_hidden_layers as number) + 1);
    out.hiddenStates!.forEach((h, i) => expectClose(h, io.get(`${input}.hidden_states.${i}`), TOL, `hidden_states[${i}]`));
    model.dispose();
  });
});

describe.each(["llava_clip_gemma", "llava_clip_llama"])("%s", (name) => {
  it.each(["expand_right", "expand_left", "inplace"])("%s: logits, loss and hidden states match", async (c) => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const out = model.forward({
      inputIds: toTensor(io.get(`${c}.input_ids`)),
      attentionMask: toTensor(io.get(`${c}.attention_mask`)),
      labels: toTensor(io.get(`${c}.labels`)),
      pixelValues: toTensor(io.get(`${c}.pixel_values`)),
      outputHiddenStates: true,
    });
    expectClose(out.logits, io.get(`${c}.logits`), TOL, "logits");
    expectClose(out.loss, io.get(`${c}.loss`), TOL, "loss");
    // the language model's: embeddings and one per decoder layer
    const layers = (model.config.text_config as { num_hidden_layers: number }).num_hidden_layers;
    expect(referenceStates(io, `${c}.`)).toBe(layers + 1);
    expect(out.hiddenStates).toHaveLength(layers + 1);
    out.hiddenStates!.forEach((h, i) => expectClose(h, io.get(`${c}.hidden_states.${i}`), TOL, `hidden_states[${i}]`));
    model.dispose();
  });
});
