/**
 * Audit: a training step on WebGPU does not wait for the GPU. Over several steps of a tiny LLaVA
 * (software adapter), `trainStep` reads nothing back from the GPU; the only readbacks are the loss
 * and gradient norm that `readStep` reads, together in one readback, at the log interval.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import { countReadbacks } from "../../runtime/backend/readbacks.js";
import { createModel, trainableParameters } from "../../runtime/models/index.js";
import { createOptimizer, readStep, trainStep } from "../../runtime/train/index.js";
import { TINY_LLAVA, tinyPixels } from "../models/tiny.js";

beforeAll(async () => {
  await initBackend({ backend: "webgpu", webgpuSoftware: true, env: {} });
}, 120_000);

function batch(step: number) {
  const ids = [[2, 31, 9, 12 + step, 5, 7], [4, 31, 22, 6, 8 + step, 0]];
  return {
    inputIds: tf.tensor2d(ids, undefined, "int32"),
    attentionMask: tf.tensor2d(ids.map((r) => r.map((t) => (t === 0 ? 0 : 1))), undefined, "int32"),
    labels: tf.tensor2d(ids.map((r) => r.map((t) => (t === 0 || t === 31 ? -100 : t))), undefined, "int32"),
    pixelValues: tinyPixels(2, 16, step),
  };
}

describe("webgpu training step: GPU -> CPU synchronisation", () => {
  it("no readback inside trainStep; the loss and gradient norm only at log intervals", async () => {
    const model = createModel(TINY_LLAVA, { seed: 3 });
    const trainable = new Set(trainableParameters(model, ["connector", "language"]).keys());
    const optimizer = createOptimizer({ lr: 1e-2, weightDecay: 0.01 }, model.parameters);
    const steps = 6;
    const logEvery = 3;
    const losses: number[] = [];
    let inStep = { gpu: 0, host: 0 };
    let atLog = { gpu: 0, host: 0 };
    for (let step = 1; step <= steps; step++) {
      const b = batch(step);
      const counter = countReadbacks();
      const result = trainStep({ params: model.parameters, trainable, microBatches: [b], loss: (x) => model.forward(x).loss as tf.Scalar, optimizer, lr: 1e-2, clip: 1 });
      inStep = { gpu: inStep.gpu + counter.gpu, host: inStep.host + counter.host };
      counter.stop();
      tf.dispose(Object.values(b));
      if (step % logEvery === 0) {
        const logCounter = countReadbacks();
        losses.push((await readStep(result)).loss);
        atLog = { gpu: atLog.gpu + logCounter.gpu, host: atLog.host + logCounter.host };
        logCounter.stop();
      } else {
        tf.dispose([result.loss, result.gradNorm as tf.Scalar]);
      }
    }
    expect(inStep.gpu).toBe(0);
    // Host reads only: the model reads its batch's ids, mask and labels (to place image tokens), and
    // tfjs-backend-webgpu computes small ops on host tensors on the CPU (Tile, Concat).
    expect(inStep.host).toBeGreaterThanOrEqual(3 * steps);
    // one readback per logged step: loss and gradient norm read together
    expect(atLog).toEqual({ gpu: steps / logEvery, host: 0 });
    expect(losses.every(Number.isFinite)).toBe(true);
    optimizer.dispose();
    model.dispose();
  }, 300_000);

  it("the counter sees a GPU readback, and a read of host data as host", async () => {
    const counter = countReadbacks();
    // 2048 elements: tfjs-backend-webgpu computes small ops on host data on the CPU
    const onHost = tf.tensor1d(Float32Array.from({ length: 2048 }, (_, i) => i));
    await onHost.data();
    const computed = tf.add(onHost, onHost); // runs a WGSL program: its result lives on the GPU
    expect(Array.from((await computed.data()).subarray(0, 3))).toEqual([0, 2, 4]);
    counter.stop();
    expect({ gpu: counter.gpu, host: counter.host }).toEqual({ gpu: 1, host: 1 });
    tf.dispose([onHost, computed]);
  });
});
