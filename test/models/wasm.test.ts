/**
 * The models on the WebAssembly backend (runtime/backend/wasm.ts, which adds the missing
 * UnsortedSegmentSum kernel and routes matmuls through XNNPACK): forward and backward give the
 * reference results, as on `cpu`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { registerGradients } from "../../runtime/backend/gradients.js";
import { startWasm } from "../../runtime/backend/wasm.js";
import { createModel, loadPretrained } from "../../runtime/models/index.js";
import { fixture, maxAbsDiff, readIo, toTensor } from "./helpers.js";
import { TINY_LLAVA, tinyPixels } from "./tiny.js";

beforeAll(async () => {
  await registerGradients();
});

/** Loss and gradients of a seeded tiny LLaVA on the current backend, read back to the host. */
function tinyLlavaStep(): { loss: number; grads: Map<string, Float32Array> } {
  const model = createModel(TINY_LLAVA, { seed: 11 });
  const ids = [[2, 7, 31, 9, 12], [4, 31, 22, 6, 0]];
  const inputs = {
    inputIds: tf.tensor2d(ids, undefined, "int32"),
    attentionMask: tf.tensor2d(ids.map((r) => r.map((t) => (t === 0 ? 0 : 1))), undefined, "int32"),
    labels: tf.tensor2d(ids.map((r) => r.map((t) => (t === 0 || t === 31 ? -100 : t))), undefined, "int32"),
    pixelValues: tinyPixels(2),
  };
  const { value, grads } = tf.variableGrads(() => model.forward(inputs).loss!, [...model.parameters.values()]);
  const out = new Map<string, Float32Array>();
  for (const [k, v] of model.parameters) if (grads[v.name]) out.set(k, grads[v.name].dataSync() as Float32Array);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads), ...Object.values(inputs)]);
  model.dispose();
  return { loss, grads: out };
}

describe("wasm backend", () => {
  it("tiny LLaVA: loss and every gradient equal the cpu backend's; fixtures match the reference", async () => {
    await tf.setBackend("cpu");
    const cpu = tinyLlavaStep();
    await startWasm(1);
    expect(tf.getBackend()).toBe("wasm");
    const wasm = tinyLlavaStep();
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5);
    expect([...wasm.grads.keys()].sort()).toEqual([...cpu.grads.keys()].sort());
    for (const [k, g] of cpu.grads) {
      const w = wasm.grads.get(k)!;
      const worst = g.reduce((m, x, i) => Math.max(m, Math.abs(x - w[i])), 0);
      expect(worst, k).toBeLessThan(1e-5);
    }

    const model = await loadPretrained(fixture("llava_clip_gemma"));
    const io = await readIo("llava_clip_gemma");
    const out = model.forward({
      inputIds: toTensor(io.get("expand_left.input_ids")),
      attentionMask: toTensor(io.get("expand_left.attention_mask")),
      labels: toTensor(io.get("expand_left.labels")),
      pixelValues: toTensor(io.get("expand_left.pixel_values")),
    });
    expect(maxAbsDiff(out.logits!, io.get("expand_left.logits")!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(out.loss!, io.get("expand_left.loss")!)).toBeLessThan(1e-4);
    model.dispose();

    // gemma_gqa; llama_gqa (SwiGLU composed, rope_scaling, the padding row without gradient)
    for (const name of ["gemma_gqa", "llama_gqa"]) {
      const lm = await loadPretrained(fixture(name));
      const gio = await readIo(name);
      const inputs = { inputIds: toTensor(gio.get("input_ids")), attentionMask: toTensor(gio.get("attention_mask")), labels: toTensor(gio.get("labels")) };
      const { grads } = tf.variableGrads(() => lm.forward(inputs).loss!, [...lm.parameters.values()]);
      for (const [k, v] of lm.parameters) expect(maxAbsDiff(grads[v.name], gio.get(`grad.${k}`)!), `${name} ${k}`).toBeLessThan(1e-5);
      lm.dispose();
    }
  });
});
