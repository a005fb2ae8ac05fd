import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend, type BackendInfo } from "../../runtime/backend/index.js";
import { probeWebGpu } from "../../runtime/backend/webgpu.js";
import { geglu, rmsNorm } from "../../runtime/backend/fused/index.js";
import { createOptimizer, readStep, trainStep } from "../../runtime/train/index.js";
import { maxRelError } from "./reference.js";

// CI has no GPU: Dawn's OpenGL ES backend on Mesa's llvmpipe (software) stands in for one.
let info: BackendInfo;
beforeAll(async () => {
  info = await initBackend({ backend: "webgpu", webgpuSoftware: true, env: {} });
}, 120_000);

/** A tiny model with the ops the runtime's models use, and one AdamW step; returns loss and params. */
async function stepOnce(): Promise<{ loss: number; params: Float32Array[] }> {
  const params = new Map<string, tf.Variable>([
    ["embed", tf.variable(tf.tensor(Array.from({ length: 40 }, (_, i) => Math.sin(i) * 0.5), [10, 4]))],
    ["norm", tf.variable(tf.tensor([0.1, -0.2, 0.05, 0], [4]))],
    ["gate", tf.variable(tf.tensor(Array.from({ length: 24 }, (_, i) => Math.cos(i * 1.3) * 0.4), [6, 4]))],
    ["up", tf.variable(tf.tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.7) * 0.4), [6, 4]))],
    ["down", tf.variable(tf.tensor(Array.from({ length: 24 }, (_, i) => Math.cos(i * 0.3) * 0.4), [4, 6]))],
  ]);
  const ids = tf.tensor1d([1, 4, 7, 2, 9], "int32");
  const targets = tf.tensor1d([4, 7, 2, 9, 0], "int32");
  const p = (n: string) => params.get(n) as tf.Variable;
  const loss = () => {
    const x = rmsNorm(tf.gather(p("embed"), ids), p("norm"), { eps: 1e-6, offset: 1 }); // [5, 4]
    const h = geglu(tf.matMul(x, p("gate"), false, true), tf.matMul(x, p("up"), false, true)); // [5, 6]
    const y = tf.add(x, tf.matMul(h, p("down"), false, true)); // [5, 4]
    const logits = tf.matMul(y, p("embed"), false, true); // [5, 10], tied
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, 10)), -1))) as tf.Scalar;
  };
  const optimizer = createOptimizer({ lr: 1e-2 }, params);
  const r = await readStep(trainStep({ params, trainable: new Set(params.keys()), microBatches: [0], loss, optimizer, lr: 1e-2, clip: 1 }));
  const values = await Promise.all([...params.values()].map(async (v) => (await v.data()) as Float32Array));
  optimizer.dispose();
  tf.dispose([...params.values(), ids, targets]);
  return { loss: r.loss, params: values };
}

describe("webgpu on a software adapter", () => {
  it("starts on Mesa llvmpipe and says it is not a GPU", () => {
    expect(info).toMatchObject({ name: "webgpu", tfName: "webgpu", gpu: false });
    expect(info.device).toMatch(/llvmpipe/);
  });

  it("runs on the device with the adapter's buffer limits, not WebGPU's defaults (128 MiB bindings, 256 MiB buffers)", async () => {
    const probe = await probeWebGpu(true); // the adapter chosen at start
    expect(probe.ok).toBe(true);
    const adapterLimits = (probe.ok ? probe.adapter.limits : {}) as Record<string, number>;
    expect(info.limits).toMatchObject({
      maxBufferSize: adapterLimits.maxBufferSize,
      maxStorageBufferBindingSize: adapterLimits.maxStorageBufferBindingSize,
    });
    expect(info.limits!.maxBufferSize).toBeGreaterThan(256 * 2 ** 20); // llvmpipe offers more than the default
    const device = (tf.backend() as unknown as { device: { limits: Record<string, number> } }).device;
    expect(device.limits.maxBufferSize).toBe(adapterLimits.maxBufferSize);
  });

  it("a training step matches cpu to 1e-4", async () => {
    const gpu = await stepOnce();
    await tf.setBackend("cpu");
    const cpu = await stepOnce();
    await tf.setBackend("webgpu");
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-4);
    gpu.params.forEach((p, i) => expect(maxRelError(p, cpu.params[i])).toBeLessThan(1e-4));
  }, 120_000);
});
