/**
 * The models train: a tiny LLaVA overfits one batch, frozen components stay bit-for-bit unchanged,
 * and the number of live tensors is stable across steps. The optimizer here is a plain Adam written
 * for the test (the real AdamW lives in runtime/train).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { registerGradients } from "../../runtime/backend/gradients.js";
import { createModel, trainableParameters, type ModelInputs, type PretrainedModel } from "../../runtime/models/index.js";
import { TINY_LLAVA, tinyPixels } from "./tiny.js";

beforeAll(async () => {
  await registerGradients();
  await tf.setBackend("cpu");
});

/** Adam (no weight decay) over `vars`; moments kept as tensors owned here. */
function adam(vars: Map<string, tf.Variable>, lr: number) {
  const m = new Map<string, tf.Tensor>();
  const v = new Map<string, tf.Tensor>();
  let t = 0;
  return (grads: tf.NamedTensorMap) => {
    t++;
    for (const [name, variable] of vars) {
      const g = grads[variable.name];
      if (!g) continue;
      const [m1, v1] = tf.tidy(() => {
        const m1 = tf.add(tf.mul(m.get(name) ?? tf.zerosLike(g), 0.9), tf.mul(g, 0.1));
        const v1 = tf.add(tf.mul(v.get(name) ?? tf.zerosLike(g), 0.999), tf.mul(tf.square(g), 0.001));
        const update = tf.div(tf.div(m1, 1 - 0.9 ** t), tf.add(tf.sqrt(tf.div(v1, 1 - 0.999 ** t)), 1e-8));
        variable.assign(tf.sub(variable, tf.mul(update, lr)));
        return [m1, v1];
      });
      m.get(name)?.dispose();
      v.get(name)?.dispose();
      m.set(name, m1);
      v.set(name, v1);
    }
  };
}

function trainer(model: PretrainedModel, vars: Map<string, tf.Variable>, batch: ModelInputs, lr: number) {
  const update = adam(vars, lr);
  return () => {
    const { value, grads } = tf.variableGrads(() => model.forward(batch).loss!, [...vars.values()]);
    update(grads);
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };
}

/**
 * Two samples "s a <image> b c d" with one 16×16 image each; every text token after the first is a
 * target. The rows start differently so that every target has a distinct context (else the loss
 * has an irreducible floor).
 */
function batch(): ModelInputs {
  const ids = [
    [2, 7, 31, 9, 12, 5, 17],
    [4, 3, 31, 22, 6, 14, 0],
  ];
  const mask = ids.map((r) => r.map((t) => (t === 0 ? 0 : 1)));
  const labels = ids.map((r) => r.map((t, i) => (t === 0 || t === 31 || i === 0 ? -100 : t)));
  return {
    inputIds: tf.tensor2d(ids, undefined, "int32"),
    attentionMask: tf.tensor2d(mask, undefined, "int32"),
    labels: tf.tensor2d(labels, undefined, "int32"),
    pixelValues: tinyPixels(2),
  };
}

describe("training", () => {
  it("a tiny LLaVA overfits one batch", () => {
    const model = createModel(TINY_LLAVA, { seed: 0 });
    const step = trainer(model, model.parameters, batch(), 2e-2);
    const first = step();
    let last = first;
    for (let i = 0; i < 60; i++) last = step();
    expect(first).toBeGreaterThan(3); // about ln(32) at initialisation
    expect(last).toBeLessThan(0.05);
    model.dispose();
  });

  it("frozen components are unchanged bit for bit; trained ones move; tensors do not leak", () => {
    const model = createModel(TINY_LLAVA, { seed: 1 });
    const trained = trainableParameters(model, ["connector"]);
    expect([...trained.keys()].every((k) => k.startsWith("multi_modal_projector."))).toBe(true);
    expect(trained.size).toBe(4);
    const snapshot = new Map([...model.parameters].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    const step = trainer(model, trained, batch(), 1e-2);
    const counts: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      losses.push(step());
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1); // step 1 creates the Adam moments
    expect(losses[4]).toBeLessThan(losses[0]);
    for (const [k, v] of model.parameters) {
      const same = v.dataSync().every((x, i) => Object.is(x, snapshot.get(k)![i]));
      expect(same, k).toBe(!trained.has(k));
    }
    model.dispose();
  });
});
