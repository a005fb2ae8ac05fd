import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import { crossEntropy, geglu, geluTanh, rmsNorm, rotateHalf } from "../../runtime/backend/fused/index.js";
import { maxRelError } from "./reference.js";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

/** Value and gradients of sum(op(inputs) * w) on the active backend. */
async function valueAndGrads(op: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], w: tf.Tensor) {
  const f = (...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), w));
  const y = op(...inputs);
  const grads = tf.grads(f)(inputs);
  const out = { y: (await y.data()) as Float32Array, grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)) };
  tf.dispose([y, ...grads]);
  return out;
}

/** The same computation on wasm (fused kernels) and on cpu (plain tfjs ops). */
async function fusedVsComposed(op: (...xs: tf.Tensor[]) => tf.Tensor, shapes: number[][], outShape: number[], scale = 1) {
  const values = await Promise.all(shapes.map(async (s, i) => tf.mul(tf.randomNormal(s, 0, 1, "float32", 10 + i), scale).data()));
  const wv = await tf.randomNormal(outShape, 0, 1, "float32", 99).data();
  const run = async () => {
    const xs = shapes.map((s, i) => tf.tensor(values[i], s));
    const w = tf.tensor(wv, outShape);
    const r = await valueAndGrads(op, xs, w);
    tf.dispose([...xs, w]);
    return r;
  };
  await tf.setBackend("wasm");
  const fused = await run();
  await tf.setBackend("cpu");
  const composed = await run();
  await tf.setBackend("wasm");
  return { fused, composed };
}

describe("geglu", () => {
  for (const shape of [[4, 8], [3, 7], [1, 1], [2, 1025]]) {
    it(`fused equals gelu_tanh(gate) * up from tfjs ops, value and gradients ([${shape}])`, async () => {
      const { fused, composed } = await fusedVsComposed((g, u) => geglu(g, u), [shape, shape], shape, 3);
      expect(maxRelError(fused.y, composed.y)).toBeLessThan(2e-6);
      // gelu' has (1 - tanh^2) times up to ~40 at |x| ~ 9: float32 tanh's ~6e-8 becomes ~5e-6 in both.
      fused.grads.forEach((g, i) => expect(maxRelError(g, composed.grads[i])).toBeLessThan(2e-5));
    });
  }

  it("gelu_tanh matches its formula in float64", async () => {
    const xs = [-6, -3, -1, -1e-3, 0, 1e-3, 0.5, 2, 7];
    const y = await geluTanh(tf.tensor1d(xs)).data();
    xs.forEach((x, i) => {
      const ref = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      expect(Math.abs(y[i] - ref)).toBeLessThan(1e-6 * (1 + Math.abs(ref)));
    });
  });

  it("rejects gate and up of different shapes", () => {
    expect(() => geglu(tf.zeros([2, 3]), tf.zeros([3, 2]))).toThrow(/gate \[2,3\] and up \[3,2\] must have the same shape/);
  });
});

describe("rmsNorm", () => {
  for (const [shape, offset] of [[[5, 8], 1], [[2, 3, 6], 1], [[4, 7], 0], [[1, 1], 1]] as [number[], number][]) {
    it(`fused equals x * rsqrt(mean(x^2) + eps) * (${offset} + w) from tfjs ops ([${shape}])`, async () => {
      const d = shape[shape.length - 1];
      const { fused, composed } = await fusedVsComposed((x, w) => rmsNorm(x, w, { eps: 1e-6, offset }), [shape, [d]], shape);
      expect(maxRelError(fused.y, composed.y)).toBeLessThan(2e-6);
      fused.grads.forEach((g, i) => expect(maxRelError(g, composed.grads[i])).toBeLessThan(5e-6));
    });
  }

  it("says when the weight does not fit", () => {
    expect(() => rmsNorm(tf.zeros([2, 4]), tf.zeros([3]), { eps: 1e-6, offset: 1 })).toThrow(/weight has shape \[3\], expected \[4\]/);
  });
});

describe("crossEntropy", () => {
  /** Loss and d loss / d logits on the active backend, from the same values. */
  async function lossAndGrad(logits: Float32Array, shape: [number, number], labels: number[]) {
    const x = tf.tensor2d(logits, shape);
    const y = tf.tensor1d(labels, "int32");
    const loss = crossEntropy(x, y);
    const g = tf.grad((t: tf.Tensor) => crossEntropy(t, y))(x);
    const out = { loss: (await loss.data())[0], grad: (await g.data()) as Float32Array };
    tf.dispose([x, y, loss, g]);
    return out;
  }

  for (const [M, V] of [[6, 8], [5, 1024], [3, 6]] as [number, number][]) {
    it(`fused equals the mean of -log softmax at the labels, -100 ignored ([${M}, ${V}])`, async () => {
      const logits = (await tf.mul(tf.randomNormal([M, V], 0, 1, "float32", 21), 4).data()) as Float32Array;
      const labels = Array.from({ length: M }, (_, r) => (r === 1 ? -100 : (r * 7 + 3) % V));
      const fused = await lossAndGrad(logits, [M, V], labels);
      // float64 reference
      let total = 0;
      let count = 0;
      const grad = new Float64Array(M * V);
      for (let r = 0; r < M; r++) {
        if (labels[r] === -100) continue;
        count++;
        const row = Array.from(logits.subarray(r * V, (r + 1) * V));
        const max = Math.max(...row);
        const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
        total += max + Math.log(sum) - row[labels[r]];
      }
      for (let r = 0; r < M; r++) {
        if (labels[r] === -100) continue;
        const row = Array.from(logits.subarray(r * V, (r + 1) * V));
        const max = Math.max(...row);
        const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
        row.forEach((v, j) => (grad[r * V + j] = (Math.exp(v - max) / sum - (j === labels[r] ? 1 : 0)) / count));
      }
      expect(Math.abs(fused.loss - total / count)).toBeLessThan(1e-5 * (1 + total / count));
      expect(maxRelError(fused.grad, grad)).toBeLessThan(1e-6);
      await tf.setBackend("cpu");
      const composed = await lossAndGrad(logits, [M, V], labels);
      await tf.setBackend("wasm");
      expect(Math.abs(composed.loss - total / count)).toBeLessThan(1e-5 * (1 + total / count));
      expect(maxRelError(composed.grad, grad)).toBeLessThan(1e-6);
    });
  }

  it("is NaN when every label is ignored, as in PyTorch", async () => {
    const loss = crossEntropy(tf.zeros([2, 4]), tf.tensor1d([-100, -100], "int32"));
    expect(Number.isNaN((await loss.data())[0])).toBe(true);
  });
});

describe("rotateHalf", () => {
  it("gives [-x2, x1] and its gradient, as from tfjs ops", async () => {
    const y = await rotateHalf(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4])).data();
    expect(Array.from(y)).toEqual([-3, -4, 1, 2, -7, -8, 5, 6]);
    const { fused, composed } = await fusedVsComposed((x) => rotateHalf(x), [[2, 3, 5, 8]], [2, 3, 5, 8]);
    expect(Array.from(fused.y)).toEqual(Array.from(composed.y));
    expect(Array.from(fused.grads[0])).toEqual(Array.from(composed.grads[0]));
  });

  it("needs an even last dimension", () => {
    expect(() => rotateHalf(tf.zeros([2, 3]))).toThrow(/last dimension must be even, got \[2,3\]/);
  });
});
