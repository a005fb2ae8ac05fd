/**
 * The fused ops' WGSL kernels (runtime/backend/fused/webgpu.ts) on WebGPU, on the software adapter
 * CI has (Dawn's OpenGL ES backend on Mesa llvmpipe): values and gradients equal the same functions
 * composed from tfjs ops on `cpu` to 1e-4, and the fused kernels are what ran.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import { crossEntropy, geglu, rmsNorm, rotateHalf, WEBGPU_FUSED_KERNELS } from "../../runtime/backend/fused/index.js";
import { maxRelError } from "./reference.js";

beforeAll(async () => {
  const info = await initBackend({ backend: "webgpu", webgpuSoftware: true, env: {} });
  expect(info.patches).toEqual(WEBGPU_FUSED_KERNELS);
}, 120_000);

/** Value and gradients of sum(op(inputs) * w) on the active backend, and the kernels that ran. */
async function valueAndGrads(op: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], w: tf.Tensor) {
  const f = (...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), w));
  let y: tf.Tensor | null = null;
  let grads: tf.Tensor[] = [];
  const profile = await tf.profile(() => {
    y = op(...inputs);
    grads = tf.grads(f)(inputs);
  });
  const out = {
    y: (await (y as unknown as tf.Tensor).data()) as Float32Array,
    grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)),
    kernels: new Set(profile.kernelNames),
  };
  tf.dispose([y as unknown as tf.Tensor, ...grads]);
  return out;
}

/** The same computation on webgpu (fused WGSL kernels) and on cpu (plain tfjs ops). */
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
  await tf.setBackend("webgpu");
  const fused = await run();
  await tf.setBackend("cpu");
  const composed = await run();
  await tf.setBackend("webgpu");
  return { fused, composed };
}

function expectClose(fused: { y: Float32Array; grads: Float32Array[] }, composed: { y: Float32Array; grads: Float32Array[] }) {
  expect(maxRelError(fused.y, composed.y)).toBeLessThan(1e-4);
  expect(fused.grads.length).toBe(composed.grads.length);
  fused.grads.forEach((g, i) => expect(maxRelError(g, composed.grads[i]), `gradient ${i}`).toBeLessThan(1e-4));
}

describe("fused ops on webgpu", () => {
  it("geglu: gelu_tanh(gate) * up and both gradients, including large |gate| (tanh saturates)", async () => {
    for (const shape of [[4, 8], [3, 7], [2, 1025]]) {
      const { fused, composed } = await fusedVsComposed((g, u) => geglu(g, u), [shape, shape], shape, 4);
      expectClose(fused, composed);
      expect(fused.kernels).toContain("MmfmGeGLU");
      expect(fused.kernels).toContain("MmfmGeGLUGrad");
    }
  });

  it("rmsNorm: Gemma (1 + w) and Llama (w) scaling; rows over 64 (the weight gradient in chunks); rows wider than 2048", async () => {
    const cases: [number[], number][] = [[[5, 8], 1], [[2, 3, 6], 1], [[4, 7], 0], [[130, 16], 1], [[3, 2050], 1]];
    for (const [shape, offset] of cases) {
      const d = shape[shape.length - 1];
      const { fused, composed } = await fusedVsComposed((x, w) => rmsNorm(x, w, { eps: 1e-6, offset }), [shape, [d]], shape);
      expectClose(fused, composed);
      expect(fused.kernels).toContain("MmfmRMSNorm");
      expect(fused.kernels).toContain("MmfmRMSNormGrad");
    }
  });

  it("crossEntropy: mean over labelled rows, -100 ignored, any vocabulary size, and its gradient", async () => {
    for (const [M, V] of [[6, 8], [5, 1024], [3, 6], [4, 2501]] as [number, number][]) {
      const labels = Array.from({ length: M }, (_, r) => (r === 1 ? -100 : (r * 7 + 3) % V));
      const op = (x: tf.Tensor) => tf.mul(crossEntropy(x, tf.tensor1d(labels, "int32")), 1);
      const { fused, composed } = await fusedVsComposed(op, [[M, V]], [], 4);
      expectClose(fused, composed);
      expect(fused.kernels).toContain("MmfmCrossEntropy");
      expect(fused.kernels).toContain("MmfmCrossEntropyGrad");
      // the ignored row gets no gradient
      expect(fused.grads[0].subarray(V, 2 * V).every((v) => v === 0)).toBe(true);
    }
  });

  it("crossEntropy: NaN when every label is ignored (as PyTorch) or a label is outside the vocabulary", async () => {
    const allIgnored = crossEntropy(tf.zeros([2, 4]), tf.tensor1d([-100, -100], "int32"));
    expect(Number.isNaN((await allIgnored.data())[0])).toBe(true);
    const outside = crossEntropy(tf.zeros([2, 4]), tf.tensor1d([1, 4], "int32"));
    expect(Number.isNaN((await outside.data())[0])).toBe(true);
    const fine = crossEntropy(tf.zeros([2, 4]), tf.tensor1d([1, 3], "int32"));
    expect((await fine.data())[0]).toBeCloseTo(Math.log(4), 6);
  });

  it("rotateHalf: [-x2, x1] and its gradient, exactly", async () => {
    const y = await rotateHalf(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4])).data();
    expect(Array.from(y)).toEqual([-3, -4, 1, 2, -7, -8, 5, 6]);
    const { fused, composed } = await fusedVsComposed((x) => rotateHalf(x), [[2, 3, 5, 8]], [2, 3, 5, 8]);
    expect(Array.from(fused.y)).toEqual(Array.from(composed.y));
    expect(Array.from(fused.grads[0])).toEqual(Array.from(composed.grads[0]));
    expect(fused.kernels).toContain("MmfmRotateHalf");
    expect(fused.kernels).toContain("MmfmRotateHalfGrad");
  });
});
