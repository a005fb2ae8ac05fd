/**
 * The WebGPU path on a software adapter (Dawn's OpenGL ES backend on Mesa llvmpipe, as CI has no
 * GPU): a tiny LLaVA's forward pass and one training step (AdamW over connector + language, vision
 * frozen; the loss from the labelled positions alone, as `mmfmc run` trains) give the wasm backend's
 * results to 1e-4.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import { createModel, trainableParameters } from "../../runtime/models/index.js";
import { createOptimizer, readStep, trainStep } from "../../runtime/train/index.js";
import { TINY_LLAVA, tinyPixels } from "../models/tiny.js";
import { maxRelError } from "./reference.js";

beforeAll(async () => {
  await initBackend({ backend: "wasm", env: {} });
  await initBackend({ backend: "webgpu", webgpuSoftware: true, env: {} });
}, 120_000);

/** Forward logits, loss, and the parameters after one step, on the current backend. */
async function llavaStep(): Promise<{ logits: Float32Array; loss: number; after: Map<string, Float32Array>; frozen: boolean }> {
  const model = createModel(TINY_LLAVA, { seed: 5 });
  const ids = [[2, 7, 31, 9, 12, 5], [4, 31, 22, 6, 8, 0]];
  const batch = {
    inputIds: tf.tensor2d(ids, undefined, "int32"),
    attentionMask: tf.tensor2d(ids.map((r) => r.map((t) => (t === 0 ? 0 : 1))), undefined, "int32"),
    labels: tf.tensor2d(ids.map((r) => r.map((t) => (t === 0 || t === 31 ? -100 : t))), undefined, "int32"),
    pixelValues: tinyPixels(2),
  };
  const out = model.forward(batch);
  const logits = (await out.logits!.data()) as Float32Array;
  tf.dispose([out.logits!, out.loss!]);
  const visionBefore = await Promise.all([...model.parameters].filter(([k]) => k.startsWith("vision_tower")).map(async ([, v]) => (await v.data()) as Float32Array));
  const trainable = new Set(trainableParameters(model, ["connector", "language"]).keys());
  const optimizer = createOptimizer({ lr: 1e-2, weightDecay: 0.01 }, model.parameters);
  // as `mmfmc run` trains: the logits of the labelled positions alone (`lossOnly`), whose positions
  // are read on the host before the decoder runs (on WebGPU values leave the host once used)
  const { loss } = await readStep(trainStep({ params: model.parameters, trainable, microBatches: [batch], loss: (b) => model.forward({ ...b, lossOnly: true }).loss as tf.Scalar, optimizer, lr: 1e-2, clip: 1 }));
  const after = new Map<string, Float32Array>();
  for (const [k, v] of model.parameters) after.set(k, (await v.data()) as Float32Array);
  const visionAfter = [...after].filter(([k]) => k.startsWith("vision_tower")).map(([, v]) => v);
  const frozen = visionAfter.every((v, i) => v.every((x, j) => Object.is(x, visionBefore[i][j])));
  optimizer.dispose();
  model.dispose();
  tf.dispose(Object.values(batch));
  return { logits, loss, after, frozen };
}

describe("webgpu (software adapter) against wasm", () => {
  it("tiny LLaVA: forward logits, loss and the weights after a training step agree to 1e-4", async () => {
    await tf.setBackend("wasm");
    const wasm = await llavaStep();
    await tf.setBackend("webgpu");
    const gpu = await llavaStep();
    expect(maxRelError(gpu.logits, wasm.logits)).toBeLessThan(1e-4);
    expect(Math.abs(gpu.loss - wasm.loss)).toBeLessThan(1e-4);
    for (const [k, v] of wasm.after) expect(maxRelError(gpu.after.get(k)!, v), k).toBeLessThan(1e-4);
    expect(gpu.frozen && wasm.frozen).toBe(true);
  }, 300_000);
});
