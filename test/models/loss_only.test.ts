/**
 * `lossOnly` (training): the loss from the logits of the labelled positions alone equals the loss
 * from every position's logits, and so do its gradients, for a causal LM and a LLaVA model, with
 * padding, ignored labels and a sequence whose labels are all ignored.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { createModel, type PretrainedModel } from "../../runtime/models/index.js";
import type { ModelInputs } from "../../runtime/models/forward.js";
import { tf } from "../../runtime/tf.js";
import { TINY_GEMMA, TINY_LLAVA, TINY_LLAVA_LLAMA, tinyIds, tinyPixels } from "./tiny.js";

beforeAll(async () => {
  await initBackend({ backend: "wasm", threads: 1 });
});

/** loss and the gradient of every parameter, with and without `lossOnly` */
async function both(model: PretrainedModel, inputs: ModelInputs) {
  const vars = [...model.parameters.values()];
  const run = async (lossOnly: boolean) => {
    const out = model.forward({ ...inputs, lossOnly });
    if (lossOnly) expect(out.logits).toBeUndefined();
    out.logits?.dispose();
    out.loss?.dispose();
    const { value, grads } = tf.variableGrads(() => model.forward({ ...inputs, lossOnly }).loss as tf.Scalar, vars);
    const loss = (await value.data())[0];
    const g = new Map<string, Float32Array>();
    for (const [name, t] of Object.entries(grads)) g.set(name, (await t.data()) as Float32Array);
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, g };
  };
  return { full: await run(false), labelled: await run(true) };
}

function expectSame(a: { loss: number; g: Map<string, Float32Array> }, b: { loss: number; g: Map<string, Float32Array> }) {
  expect(Number.isFinite(a.loss)).toBe(true);
  expect(Math.abs(b.loss - a.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(a.loss)));
  expect([...b.g.keys()].sort()).toEqual([...a.g.keys()].sort());
  for (const [name, ga] of a.g) {
    const gb = b.g.get(name) as Float32Array;
    const scale = Math.max(1e-3, ...Array.from(ga, Math.abs));
    let worst = 0;
    for (let i = 0; i < ga.length; i++) worst = Math.max(worst, Math.abs(gb[i] - ga[i]));
    expect(worst / scale, name).toBeLessThan(1e-4);
  }
}

describe("lossOnly", () => {
  it("gives a causal LM the loss and gradients of every position's logits", async () => {
    const model = createModel({ ...TINY_GEMMA, pad_token_id: 0 }, { seed: 4 });
    const ids = tinyIds(3, 9, 32, 7);
    const rows = (await ids.array()) as number[][];
    // ignored labels in places, one row with its tail padded
    const labels = tf.tensor2d(rows.map((r, b) => r.map((v, t) => ((t + b) % 3 === 0 || (b === 2 && t > 5) ? -100 : v))), [3, 9], "int32");
    const { full, labelled } = await both(model, { inputIds: ids, labels });
    expectSame(full, labelled);
    model.dispose();
  });

  it("gives a LLaVA model (image tokens, padding, the merged mask) the same loss and gradients", async () => {
    for (const config of [TINY_LLAVA, TINY_LLAVA_LLAMA]) {
      const model = createModel(config, { seed: 5 });
      const ids = tf.tensor2d(
        [
          [2, 31, 5, 6, 7, 8, 9, 10],
          [2, 4, 31, 11, 12, 0, 0, 0],
        ],
        [2, 8],
        "int32",
      );
      const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0, 0]], [2, 8], "int32");
      const labels = tf.tensor2d([[-100, -100, -100, 6, 7, -100, 9, 10], [-100, -100, -100, 11, 12, -100, -100, -100]], [2, 8], "int32");
      const { full, labelled } = await both(model, { inputIds: ids, attentionMask: mask, labels, pixelValues: tinyPixels(2) });
      expectSame(full, labelled);
      model.dispose();
    }
  });

  it("is NaN where no label counts, as the mean over no rows", async () => {
    const model = createModel(TINY_GEMMA, { seed: 4 });
    const ids = tinyIds(2, 5, 32, 3);
    const labels = tf.fill([2, 5], -100, "int32");
    const full = model.forward({ inputIds: ids, labels });
    const labelled = model.forward({ inputIds: ids, labels, lossOnly: true });
    expect(Number.isNaN((await full.loss!.data())[0])).toBe(true);
    expect(Number.isNaN((await labelled.loss!.data())[0])).toBe(true);
    model.dispose();
  });
});
