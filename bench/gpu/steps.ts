/**
 * The measured pieces of the GPU check: the tiny LLaVA parity step (webgpu against wasm), timed
 * decoder training steps with their readbacks counted, and one profiled step's kernel times.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tf } from "../../runtime/tf.js";
import { countReadbacks } from "../../runtime/backend/readbacks.js";
import { createModel, trainableParameters } from "../../runtime/models/index.js";
import { createOptimizer, readStep, trainStep } from "../../runtime/train/index.js";
import { createDecoder, stepFlops, syntheticBatch, type DecoderConfig } from "../runtime/decoder.js";
import { writeSafetensors, type NamedArray } from "../runtime/safetensors_out.js";
import { TINY_LLAVA, tinyPixels } from "./configs.js";

// As decoder_step.ts and decoder_step.py.
const LR = 1e-3;
const WEIGHT_DECAY = 0.01;
const MAX_GRAD_NORM = 1.0;
const SEED = 1234;

/** Largest |x - y| / (1 + |y|). */
export function maxRelError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
  return worst;
}

interface LlavaStep {
  logits: Float32Array;
  loss: number;
  after: Map<string, Float32Array>;
  frozen: boolean;
}

/** The tiny LLaVA's forward logits and loss, and its weights after one AdamW step (vision frozen). */
async function llavaStep(): Promise<LlavaStep> {
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
  const vision = [...model.parameters].filter(([k]) => k.startsWith("vision_tower"));
  const visionBefore = await Promise.all(vision.map(async ([, v]) => (await v.data()) as Float32Array));
  const trainable = new Set(trainableParameters(model, ["connector", "language"]).keys());
  const optimizer = createOptimizer({ lr: 1e-2, weightDecay: 0.01 }, model.parameters);
  const { loss } = await readStep(trainStep({ params: model.parameters, trainable, microBatches: [batch], loss: (b) => model.forward(b).loss as tf.Scalar, optimizer, lr: 1e-2, clip: 1 }));
  const after = new Map<string, Float32Array>();
  for (const [k, v] of model.parameters) after.set(k, (await v.data()) as Float32Array);
  const frozen = vision.every(([k], i) => (after.get(k) as Float32Array).every((x, j) => Object.is(x, visionBefore[i][j])));
  optimizer.dispose();
  model.dispose();
  tf.dispose(Object.values(batch));
  return { logits, loss, after, frozen };
}

export interface ParityResult {
  ok: boolean;
  tolerance: number;
  logitsMaxRel: number;
  lossAbs: number;
  paramsMaxRel: number;
  worstParam: string;
  visionFrozen: boolean;
  wasmLoss: number;
  webgpuLoss: number;
}

/** (a) The tiny LLaVA on webgpu against wasm: logits, loss and every weight after a step, to 1e-4. */
export async function llavaParity(tolerance = 1e-4): Promise<ParityResult> {
  await tf.setBackend("wasm");
  const wasm = await llavaStep();
  await tf.setBackend("webgpu");
  const gpu = await llavaStep();
  let paramsMaxRel = 0;
  let worstParam = "";
  for (const [k, v] of wasm.after) {
    const e = maxRelError(gpu.after.get(k) ?? new Float32Array(0), v);
    if (e >= paramsMaxRel) [paramsMaxRel, worstParam] = [e, k];
  }
  const logitsMaxRel = maxRelError(gpu.logits, wasm.logits);
  const lossAbs = Math.abs(gpu.loss - wasm.loss);
  const visionFrozen = gpu.frozen && wasm.frozen;
  const ok = logitsMaxRel < tolerance && lossAbs < tolerance && paramsMaxRel < tolerance && visionFrozen;
  return { ok, tolerance, logitsMaxRel, lossAbs, paramsMaxRel, worstParam, visionFrozen, wasmLoss: wasm.loss, webgpuLoss: gpu.loss };
}

export interface StepTimes {
  backend: string;
  fused: boolean;
  stepMs: number[];
  medianMs: number;
  bestMs: number;
  warmupMs: number;
  gflops: number;
  flopsPerStep: number;
  losses: number[];
  /** GPU readbacks per timed step (1: the loss each step reads), and host reads. */
  readbacksPerStep: { gpu: number; host: number };
  /** Tensors alive after the steps, and whether the count stayed the same from step to step. */
  numTensors: number;
  tensorsStable: boolean;
  profile?: KernelProfile;
}

export interface KernelProfile {
  /** Sum of the kernels' GPU times (0 where the device has no timestamp queries). */
  kernelMs: number;
  wallMs: number;
  kernels: number;
  top: { name: string; ms: number; calls: number; share: number }[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Writes a decoder's initial weights, batch and shape for decoder_step.py. */
export async function writeDecoderInputs(dir: string, c: DecoderConfig): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const model = createDecoder(c, SEED, true);
  const { ids, targets } = syntheticBatch(c, SEED);
  const weights = new Map<string, NamedArray>();
  for (const [name, v] of model.params) weights.set(name, { data: (await v.data()) as Float32Array, shape: v.shape });
  writeSafetensors(path.join(dir, "weights.safetensors"), weights);
  writeSafetensors(
    path.join(dir, "batch.safetensors"),
    new Map([
      ["ids", { data: (await ids.data()) as Int32Array, shape: ids.shape }],
      ["targets", { data: (await targets.data()) as Int32Array, shape: targets.shape }],
    ]),
  );
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(c, null, 2));
  model.dispose();
  tf.dispose([ids, targets]);
}

/**
 * (b) `steps` timed training steps (forward, backward, clipping, AdamW) of a decoder on the active
 * backend after one warm-up step (shader compilation), each ended by reading its loss; optionally
 * one more step under tfjs's profiler.
 */
export async function timeDecoderSteps(c: DecoderConfig, o: { fused: boolean; steps: number; profile: boolean; log: (line: string) => void }): Promise<StepTimes> {
  const model = createDecoder(c, SEED, o.fused);
  const { ids, targets } = syntheticBatch(c, SEED);
  const optimizer = createOptimizer({ lr: LR, weightDecay: WEIGHT_DECAY }, model.params);
  const trainable = new Set(model.params.keys());
  const step = async (): Promise<number> => {
    const r = trainStep({ params: model.params, trainable, microBatches: [{ ids, targets }], loss: (b) => model.loss(b.ids, b.targets), optimizer, lr: LR, clip: MAX_GRAD_NORM });
    tf.dispose(r.gradNorm as tf.Tensor); // only the loss is read
    const loss = (await r.loss.data())[0];
    r.loss.dispose();
    return loss;
  };
  const losses: number[] = [];
  const times: number[] = [];
  const tensorCounts: number[] = [];
  let warmupMs = NaN;
  const counter = { gpu: 0, host: 0 };
  for (let i = 0; i <= o.steps; i++) {
    const watch = i > 0 ? countReadbacks() : null;
    const t0 = performance.now();
    losses.push(await step());
    const ms = performance.now() - t0;
    if (watch != null) {
      counter.gpu += watch.gpu;
      counter.host += watch.host;
      watch.stop();
    }
    tensorCounts.push(tf.memory().numTensors);
    if (i === 0) warmupMs = ms;
    else times.push(ms);
    o.log(`  step ${i}: loss ${losses[i].toFixed(6)} ${ms.toFixed(0)} ms${i === 0 ? " (warm-up)" : ""}`);
  }
  let profile: KernelProfile | undefined;
  if (o.profile) profile = await profileStep(step);
  const flops = stepFlops(c);
  const med = median(times);
  const result: StepTimes = {
    backend: tf.getBackend(),
    fused: o.fused,
    stepMs: times.map((t) => +t.toFixed(1)),
    medianMs: +med.toFixed(1),
    bestMs: +Math.min(...times).toFixed(1),
    warmupMs: +warmupMs.toFixed(1),
    gflops: +(flops / (med * 1e6)).toFixed(2),
    flopsPerStep: flops,
    losses,
    readbacksPerStep: { gpu: counter.gpu / o.steps, host: counter.host / o.steps },
    numTensors: tf.memory().numTensors,
    tensorsStable: tensorCounts.every((n) => n === tensorCounts[0]),
    profile,
  };
  optimizer.dispose();
  model.dispose();
  tf.dispose([ids, targets]);
  return result;
}

/** One step under tf.profile: GPU time per kernel name (timestamp queries), largest first. */
async function profileStep(step: () => Promise<number>): Promise<KernelProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await step();
  });
  const wallMs = performance.now() - t0;
  const totals = new Map<string, { ms: number; calls: number }>();
  let sum = 0;
  for (const k of info.kernels) {
    const raw = await k.kernelTimeMs;
    const ms = typeof raw === "number" ? raw : 0;
    const t = totals.get(k.name) ?? { ms: 0, calls: 0 };
    t.ms += ms;
    t.calls += 1;
    totals.set(k.name, t);
    sum += ms;
  }
  const top = [...totals]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 20)
    .map(([name, t]) => ({ name, ms: +t.ms.toFixed(3), calls: t.calls, share: sum > 0 ? +(t.ms / sum).toFixed(4) : 0 }));
  return { kernelMs: +sum.toFixed(3), wallMs: +wallMs.toFixed(1), kernels: info.kernels.length, top };
}
