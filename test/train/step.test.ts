import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import { rmsNorm } from "../../runtime/backend/fused/index.js";
import { createOptimizer, readStep, trainStep } from "../../runtime/train/index.js";
import { bitsEqual } from "./helpers.js";

const V = 11;
const D = 6;

interface Batch {
  ids: tf.Tensor1D;
  targets: tf.Tensor1D;
}

/** A tiny next-token model: embedding -> RMSNorm (1 + w) -> tied-free output projection. */
function tinyModel(seed: number) {
  const params = new Map<string, tf.Variable>([
    ["embed.weight", tf.variable(tf.randomNormal([V, D], 0, 0.5, "float32", seed))],
    ["norm.weight", tf.variable(tf.randomNormal([D], 0, 0.1, "float32", seed + 1))],
    ["proj.weight", tf.variable(tf.randomNormal([V, D], 0, 0.5, "float32", seed + 2))],
  ]);
  const loss = (b: Batch): tf.Scalar => {
    const x = tf.gather(params.get("embed.weight") as tf.Variable, b.ids); // [T, D]
    const h = rmsNorm(x, params.get("norm.weight") as tf.Variable, { eps: 1e-6, offset: 1 });
    const logits = tf.matMul(h, params.get("proj.weight") as tf.Variable, false, true); // [T, V]
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(b.targets, V)), -1))) as tf.Scalar;
  };
  return { params, loss };
}

function batch(ids: number[], targets: number[]): Batch {
  return { ids: tf.tensor1d(ids, "int32"), targets: tf.tensor1d(targets, "int32") };
}

const A = () => batch([1, 2, 3, 4], [2, 3, 4, 5]);
const B = () => batch([5, 6, 7, 8], [6, 7, 8, 9]);
const AB = () => batch([1, 2, 3, 4, 5, 6, 7, 8], [2, 3, 4, 5, 6, 7, 8, 9]);

async function snapshot(params: Map<string, tf.Variable>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of params) out.set(k, (await v.data()) as Float32Array);
  return out;
}

for (const backend of ["wasm", "cpu"] as const) {
  describe(`trainStep on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    it("changes only the trainable parameters; frozen ones stay bit for bit", async () => {
      const m = tinyModel(1);
      const before = await snapshot(m.params);
      const optimizer = createOptimizer({ lr: 1e-2 }, m.params);
      const trainable = new Set(["proj.weight", "norm.weight"]);
      for (let s = 0; s < 3; s++) {
        const b = A();
        await readStep(trainStep({ params: m.params, trainable, microBatches: [b], loss: m.loss, optimizer, lr: 1e-2, clip: 1 }));
        tf.dispose([b.ids, b.targets]);
      }
      const after = await snapshot(m.params);
      expect(bitsEqual(after.get("embed.weight") as Float32Array, before.get("embed.weight") as Float32Array)).toBe(true);
      expect(bitsEqual(after.get("proj.weight") as Float32Array, before.get("proj.weight") as Float32Array)).toBe(false);
      expect(bitsEqual(after.get("norm.weight") as Float32Array, before.get("norm.weight") as Float32Array)).toBe(false);
      expect([...optimizer.exportState().tensors.keys()].some((k) => k.endsWith("embed.weight"))).toBe(false);
      optimizer.dispose();
      tf.dispose([...m.params.values()]);
    });

    it("keeps tf.memory().numTensors stable across steps", async () => {
      const m = tinyModel(2);
      const optimizer = createOptimizer({ lr: 1e-2 }, m.params);
      const trainable = new Set(m.params.keys());
      const a = A();
      const b = B();
      const counts: number[] = [];
      for (let s = 0; s < 5; s++) {
        const r = trainStep({ params: m.params, trainable, microBatches: [a, b], loss: m.loss, optimizer, lr: 1e-2, clip: 1 });
        await readStep(r);
        counts.push(tf.memory().numTensors);
      }
      // Step 1 creates the optimizer state; from then on nothing accumulates.
      expect(new Set(counts.slice(1)).size).toBe(1);
      optimizer.dispose();
      tf.dispose([...m.params.values(), a.ids, a.targets, b.ids, b.targets]);
    });

    it("accumulating two equal micro-batches equals one step on their union", async () => {
      const run = async (micro: Batch[]) => {
        const m = tinyModel(3);
        const optimizer = createOptimizer({ lr: 1e-2 }, m.params);
        const r = await readStep(
          trainStep({ params: m.params, trainable: new Set(m.params.keys()), microBatches: micro, loss: m.loss, optimizer, lr: 1e-2, clip: 0.5 }),
        );
        const p = await snapshot(m.params);
        optimizer.dispose();
        tf.dispose([...m.params.values(), ...micro.flatMap((b) => [b.ids, b.targets])]);
        return { r, p };
      };
      const split = await run([A(), B()]);
      const whole = await run([AB()]);
      expect(split.r.loss).toBeCloseTo(whole.r.loss, 5);
      expect(split.r.gradNorm as number).toBeCloseTo(whole.r.gradNorm as number, 5);
      for (const [k, v] of split.p) {
        const w = whole.p.get(k) as Float32Array;
        v.forEach((x, i) => expect(Math.abs(x - w[i])).toBeLessThan(1e-6));
      }
    });

    it("reports the mean micro-batch loss and the global gradient norm before clipping", async () => {
      const m = tinyModel(4);
      const a = A();
      const b = B();
      const la = (await m.loss(a).data())[0];
      const lb = (await m.loss(b).data())[0];
      const names = [...m.params.keys()];
      const { grads: g } = tf.variableGrads(() => tf.div(tf.add(m.loss(a), m.loss(b)), 2) as tf.Scalar, names.map((n) => m.params.get(n) as tf.Variable));
      let sq = 0;
      for (const t of Object.values(g)) sq += (await tf.sum(tf.square(t)).data())[0];
      tf.dispose(Object.values(g));
      const optimizer = createOptimizer({ lr: 1e-2 }, m.params);
      const r = await readStep(trainStep({ params: m.params, trainable: new Set(names), microBatches: [a, b], loss: m.loss, optimizer, lr: 1e-2, clip: 1e-3 }));
      expect(r.loss).toBeCloseTo((la + lb) / 2, 5);
      expect(r.gradNorm as number).toBeCloseTo(Math.sqrt(sq), 4);
      optimizer.dispose();
      tf.dispose([...m.params.values(), a.ids, a.targets, b.ids, b.targets]);
    });

    it("is deterministic and overfits one batch", async () => {
      const run = async () => {
        const m = tinyModel(5);
        const optimizer = createOptimizer({ lr: 5e-2, weightDecay: 0 }, m.params);
        const a = A();
        const losses: number[] = [];
        for (let s = 0; s < 40; s++) {
          const r = await readStep(trainStep({ params: m.params, trainable: new Set(m.params.keys()), microBatches: [a], loss: m.loss, optimizer, lr: 5e-2, clip: 1 }));
          losses.push(r.loss);
        }
        const p = await snapshot(m.params);
        optimizer.dispose();
        tf.dispose([...m.params.values(), a.ids, a.targets]);
        return { losses, p };
      };
      const first = await run();
      const second = await run();
      expect(first.losses).toEqual(second.losses);
      for (const [k, v] of first.p) expect(bitsEqual(v, second.p.get(k) as Float32Array)).toBe(true);
      expect(first.losses[39]).toBeLessThan(0.1 * first.losses[0]);
    });

    it("says what is wrong with its arguments", () => {
      const m = tinyModel(6);
      const optimizer = createOptimizer({}, m.params);
      const base = { params: m.params, loss: m.loss, optimizer, lr: 1e-3 };
      expect(() => trainStep({ ...base, trainable: new Set(["nope"]), microBatches: [A()] })).toThrow(/not parameters: nope/);
      expect(() => trainStep({ ...base, trainable: new Set(["proj.weight"]), microBatches: [] })).toThrow(/no micro-batches/);
      optimizer.dispose();
      tf.dispose([...m.params.values()]);
    });
  });
}
