import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import {
  adam,
  chain,
  createOptimizer,
  decoupledWeightDecay,
  globalNormScale,
  optimizerFromUpdate,
  type Optimizer,
} from "../../runtime/train/index.js";
import { bitsEqual, torchReference, worstRatio, type AdamWCase } from "./helpers.js";

const reference = torchReference();

function makeParams(c: AdamWCase): Map<string, tf.Variable> {
  return new Map(c.initial.map((values, i) => [`p${i}`, tf.variable(tf.tensor(values, c.shapes[i]), true, `adamw.${c.name}.${i}.${Math.random()}`)]));
}

/** Runs the torch case on our optimizer; returns parameters after every step. */
async function replay(c: AdamWCase, make: (params: Map<string, tf.Variable>) => Optimizer): Promise<Float32Array[][]> {
  const params = makeParams(c);
  const optimizer = make(params);
  const history: Float32Array[][] = [];
  for (const step of c.steps) {
    const grads = new Map(step.grads.map((g, i) => [`p${i}`, tf.tensor(g, c.shapes[i])]));
    const scale = c.clip == null ? undefined : globalNormScale([...grads.values()], c.clip);
    optimizer.apply(grads, step.lr, scale?.coef);
    tf.dispose([...grads.values(), scale?.coef as tf.Tensor, scale?.norm as tf.Tensor]);
    history.push(await Promise.all([...params.values()].map(async (p) => (await p.data()) as Float32Array)));
  }
  optimizer.dispose();
  tf.dispose([...params.values()]);
  return history;
}

const torchAdamW = (c: AdamWCase) => (params: Map<string, tf.Variable>) =>
  createOptimizer({ lr: 1, betas: c.betas, eps: c.eps, weightDecay: c.weight_decay }, params);

const composedAdamW = (c: AdamWCase) => (params: Map<string, tf.Variable>) =>
  optimizerFromUpdate(chain(decoupledWeightDecay(c.weight_decay), adam({ betas: c.betas, eps: c.eps })), params);

for (const backend of ["cpu", "wasm"] as const) {
  describe(`AdamW on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const c of reference.adamw) {
      it(`matches torch.optim.AdamW step by step (${c.name})`, async () => {
        const ours = await replay(c, torchAdamW(c));
        c.steps.forEach((step, s) => {
          step.params.forEach((expected, i) => {
            // torch's vectorised kernels use fused multiply-adds; a few float32 ulps apart at most
            expect(worstRatio(ours[s][i], expected, 2e-6, 1e-7)).toBeLessThanOrEqual(1);
          });
        });
      });

      it(`fused kernel equals the composed pieces bit for bit (${c.name})`, async () => {
        const fused = await replay(c, torchAdamW(c));
        const composed = await replay(c, composedAdamW(c));
        fused.forEach((step, s) => step.forEach((p, i) => expect(bitsEqual(p, composed[s][i])).toBe(true)));
      });
    }

    it("clip coefficients match torch.nn.utils.clip_grad_norm_", () => {
      const c = reference.adamw.find((x) => x.name === "custom_clipped") as AdamWCase;
      for (const step of c.steps) {
        const grads = step.grads.map((g, i) => tf.tensor(g, c.shapes[i]));
        const { norm, coef } = globalNormScale(grads, c.clip as number);
        expect(Math.abs(norm.dataSync()[0] - (step.norm as number))).toBeLessThan(1e-6 * (step.norm as number));
        expect(coef.dataSync()[0]).toBeCloseTo(Math.min(1, (c.clip as number) / ((step.norm as number) + 1e-6)), 6);
        tf.dispose([...grads, norm, coef]);
      }
    });

    it("state export and import resume exactly", async () => {
      const c = reference.adamw[1];
      const straight = await replay(c, torchAdamW(c));
      // Three steps, export, a fresh optimizer on fresh variables imports, three more steps.
      const params = makeParams(c);
      const first = torchAdamW(c)(params);
      const apply = (opt: Optimizer, s: number) => {
        const step = c.steps[s];
        const grads = new Map(step.grads.map((g, i) => [`p${i}`, tf.tensor(g, c.shapes[i])]));
        const scale = globalNormScale([...grads.values()], c.clip as number);
        opt.apply(grads, step.lr, scale.coef);
        tf.dispose([...grads.values(), scale.coef, scale.norm]);
      };
      for (let s = 0; s < 3; s++) apply(first, s);
      const state = first.exportState();
      expect(state.step).toBe(3);
      expect([...state.tensors.keys()].sort()).toEqual(
        ["exp_avg/p0", "exp_avg/p1", "exp_avg_sq/p0", "exp_avg_sq/p1", "step/p0", "step/p1"].sort(),
      );
      const saved = await Promise.all([...params.values()].map((p) => p.data()));
      first.dispose();
      tf.dispose([...params.values()]);

      const again = new Map([...params.keys()].map((k, i) => [k, tf.variable(tf.tensor(saved[i] as Float32Array, c.shapes[i]))]));
      const second = torchAdamW(c)(again);
      await second.importState(state);
      tf.dispose([...state.tensors.values()]);
      expect(second.step).toBe(3);
      for (let s = 3; s < c.steps.length; s++) apply(second, s);
      const resumed = await Promise.all([...again.values()].map(async (p) => (await p.data()) as Float32Array));
      resumed.forEach((p, i) => expect(bitsEqual(p, straight[c.steps.length - 1][i])).toBe(true));
      second.dispose();
      tf.dispose([...again.values()]);
    });

    it("importState reports every problem at once", async () => {
      const params = new Map([["w", tf.variable(tf.zeros([2, 2]))]]);
      const opt = createOptimizer({}, params);
      const bad = new Map<string, tf.Tensor>([
        ["step/w", tf.scalar(1)],
        ["exp_avg/w", tf.zeros([3])],
        ["step/ghost", tf.scalar(1)],
        ["junk", tf.zeros([1])],
      ]);
      await expect(opt.importState({ step: 1, tensors: bad })).rejects.toThrow(
        /exp_avg\/w` has shape \[3\].*missing `exp_avg_sq\/w`|missing `exp_avg_sq\/w`.*exp_avg\/w` has shape \[3\]/,
      );
      await expect(opt.importState({ step: 1, tensors: bad })).rejects.toThrow(/unknown parameter `ghost`.*unexpected `junk`/);
      tf.dispose([...bad.values(), ...params.values()]);
      opt.dispose();
    });

    it("rejects a gradient whose shape differs from its parameter", () => {
      const params = new Map([["w", tf.variable(tf.zeros([2, 2]))]]);
      const opt = createOptimizer({}, params);
      const g = tf.zeros([4]);
      expect(() => opt.apply(new Map([["w", g]]), 1e-3)).toThrow(/gradient of `w` has shape \[4\], the parameter \[2,2\]/);
      tf.dispose([g, ...params.values()]);
      opt.dispose();
    });
  });
}
