/**
 * One training stage: its data in a seeded order, AdamW with the stage's schedule, gradient
 * accumulation to the global batch, clipping, only the `train` components updated, and a resumable
 * checkpoint every `checkpoint_every` steps. A stage resumed from a checkpoint ends with exactly the
 * weights of an uninterrupted run: the checkpoint holds the weights, the optimizer state and the log,
 * and the data order is a pure function of the seed and the step.
 */
import {
  BatchSampler,
  collate,
  hash32,
  prepareSample,
  type Batch,
  type SamplePipeline,
  type TextTokenizer,
  type TrainingSample,
} from "../data/index.js";
import { trainableParameters, type PretrainedModel } from "../models/index.js";
import type { Plan, TrainStagePlan } from "../../plan/plan.js";
import { tf } from "../tf.js";
import { createOptimizer, readStep, schedule, trainStep, type ScheduleKind } from "../train/index.js";
import { processorFor, trainingData, type DataContext } from "./data.js";
import type { RunEvent } from "./events.js";
import type { LogLine, RunStore, StageRecord } from "./store.js";
import { assignFrom, readTensors, writeTensors } from "./tensors.js";

export interface TrainStageArgs {
  readonly model: PretrainedModel;
  readonly plan: Plan;
  readonly index: number;
  readonly stage: TrainStagePlan;
  readonly store: RunStore;
  readonly data: DataContext;
  readonly tokenizer: TextTokenizer;
  readonly variant: string;
  readonly emit: (event: RunEvent) => void;
  /** stop (as if killed) after this many steps of this call; for tests of resuming */
  readonly stopAfter?: number;
}

export class StageStopped extends Error {}

/** Datasets whose prepared samples fit in this many bytes are kept in memory during a stage. */
const CACHE_BYTES = 256 * 1024 ** 2;

/** Optimizer steps of a stage over N samples, as the Hugging Face Trainer counts them on one device. */
export function stageSteps(stage: TrainStagePlan, samples: number): number {
  if (stage.steps !== null) return stage.steps;
  const accumulation = stage.batch / stage.micro_batch;
  const perEpoch = Math.max(1, Math.floor(Math.ceil(samples / stage.micro_batch) / accumulation));
  return Math.ceil((stage.epochs ?? 1) * perEpoch);
}

function scheduleKind(stage: TrainStagePlan): ScheduleKind {
  const s = stage.schedule;
  // transformers' "constant" ignores warmup; mmfm's `constant { warmup }` means constant after warmup
  if (s.family === "constant") return s.warmup > 0 ? "constant_with_warmup" : "constant";
  return s.family;
}

interface BatchTensors {
  inputIds: tf.Tensor;
  attentionMask: tf.Tensor;
  labels: tf.Tensor;
  pixelValues?: tf.Tensor;
}

function toTensors(b: Batch): BatchTensors {
  const shape: [number, number] = [b.batchSize, b.length];
  const out: BatchTensors = {
    inputIds: tf.tensor2d(b.inputIds, shape, "int32"),
    attentionMask: tf.tensor2d(b.attentionMask, shape, "int32"),
    labels: tf.tensor2d(b.labels, shape, "int32"),
  };
  // the model takes the images of the samples that have one, in batch order
  if (b.imageCount > 0) out.pixelValues = tf.tensor4d(b.imagePixelValues, [b.imageCount, 3, b.imageHeight, b.imageWidth]);
  return out;
}

function disposeBatch(t: BatchTensors): void {
  tf.dispose([t.inputIds, t.attentionMask, t.labels, ...(t.pixelValues ? [t.pixelValues] : [])]);
}

export async function trainStage(args: TrainStageArgs): Promise<StageRecord> {
  const { model, plan, stage, store, tokenizer, emit, variant } = args;
  const key = stage.cache_key;
  const started = performance.now();
  const { dataset, length, description } = await trainingData(stage.data, args.data);
  if (length === 0) throw new Error(`stage \`${stage.name}\`: its dataset has no samples (${description})`);
  const steps = stageSteps(stage, length);
  const pipeline: SamplePipeline = {
    tokenizer,
    template: stage.template,
    maxLength: stage.max_length,
    imageTokens: plan.model.image_tokens,
    processor: processorFor(plan.model.vision),
    aspect: stage.aspect,
  };
  const sampler = new BatchSampler({
    size: length,
    batchSize: stage.batch,
    seed: hash32(plan.seed, parseInt(key.slice(0, 8), 16)),
    hasImage: stage.group_by_modality ? (i) => dataset.hasImage(i) : undefined,
  });
  const trainable = new Set(trainableParameters(model, stage.train).keys());
  const optimizer = createOptimizer(
    { lr: stage.lr, betas: [stage.optimizer.beta1, stage.optimizer.beta2], eps: stage.optimizer.eps, weightDecay: stage.weight_decay },
    model.parameters,
  );
  const lrAt = schedule(scheduleKind(stage), { totalSteps: steps, warmupRatio: stage.schedule.warmup });
  const padId = tokenizer.unkId ?? tokenizer.padId ?? 0; // LLaVA-Gemma pads with <unk>
  const image = { height: plan.model.vision.image, width: plan.model.vision.image };

  // a small dataset is prepared once and kept (decoding and resizing every epoch again costs ~10%)
  const keep = length * (3 * image.height * image.width * 4 + 8 * stage.max_length) <= CACHE_BYTES;
  const cache = new Map<number, Promise<TrainingSample>>();
  const prepared = (i: number): Promise<TrainingSample> => {
    if (!keep) return prepareSample(dataset, i, pipeline);
    let p = cache.get(i);
    if (!p) cache.set(i, (p = prepareSample(dataset, i, pipeline)));
    return p;
  };

  // resume
  let first = 0;
  let log: LogLine[] = [];
  const pointer = store.checkpoint(key);
  if (pointer) {
    const dir = store.checkpointDir(key, pointer.step);
    assignFrom(`${dir}/params.safetensors`, model.parameters);
    const state = readTensors(`${dir}/optimizer.safetensors`);
    const tensors = new Map<string, tf.Tensor>();
    for (const [name, t] of state) tensors.set(name, tf.tensor(t.data, t.shape as number[], t.dtype));
    await optimizer.importState({ step: pointer.step, tensors });
    tf.dispose([...tensors.values()]);
    first = pointer.step;
    log = (JSON.parse(store.readFile(key, `checkpoint-${pointer.step}/log.json`) ?? "[]") as LogLine[]).slice(0, first);
  }
  emit({ type: "stage-start", variant, stage: stage.name, kind: "stage", steps, resumedFrom: pointer ? first : undefined, description, trainable: stage.train.join(" + ") });

  const checkpoint = async (step: number) => {
    const dir = store.checkpointDir(key, step);
    await writeTensors(`${dir}/params.safetensors`, model.parameters);
    const state = optimizer.exportState();
    try {
      await writeTensors(`${dir}/optimizer.safetensors`, state.tensors, { step: String(state.step) });
    } finally {
      tf.dispose([...state.tensors.values()]);
    }
    store.writeFile(key, `checkpoint-${step}/log.json`, JSON.stringify(log));
    store.commitCheckpoint(key, step);
    emit({ type: "checkpoint", variant, stage: stage.name, step });
  };

  let step = first;
  let ranThisCall = 0;
  const clock = performance.now();
  for (const sampled of sampler.iterate(sampler.positionAfter(first))) {
    if (step >= steps) break;
    if (args.stopAfter !== undefined && ranThisCall >= args.stopAfter) throw new StageStopped(`stopped after ${ranThisCall} steps`);
    const samples: TrainingSample[] = await Promise.all(sampled.indices.map((i) => prepared(i)));
    const micro: BatchTensors[] = [];
    for (let k = 0; k < samples.length; k += stage.micro_batch) {
      micro.push(toTensors(collate(samples.slice(k, k + stage.micro_batch), { padId, imageSize: image })));
    }
    const lr = stage.lr * lrAt(step);
    let result;
    try {
      result = trainStep({
        params: model.parameters,
        trainable,
        microBatches: micro,
        loss: (b) => model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, pixelValues: b.pixelValues }).loss as tf.Scalar,
        optimizer,
        lr,
        clip: stage.grad_clip,
      });
    } finally {
      micro.forEach(disposeBatch);
    }
    const { loss, gradNorm } = await readStep(result);
    if (!Number.isFinite(loss)) throw new Error(`stage \`${stage.name}\` of ${variant}: the loss became ${loss} at step ${step + 1}; lower \`lr\` or check the data`);
    step++;
    ranThisCall++;
    const seconds = (performance.now() - clock) / 1000;
    log.push({ step, loss, lr, gradNorm, seconds });
    emit({ type: "step", variant, stage: stage.name, step, steps, loss, samplesPerSecond: (ranThisCall * stage.batch) / Math.max(seconds, 1e-9), seconds });
    if (stage.checkpoint_every > 0 && step % stage.checkpoint_every === 0 && step < steps) await checkpoint(step);
  }
  optimizer.dispose();
  await writeTensors(store.weightsPath(key), model.parameters, { format: "pt", stage: stage.name });
  store.writeFile(key, "log.jsonl", log.map((l) => JSON.stringify(l)).join("\n") + "\n");
  const record: StageRecord = {
    key,
    name: stage.name,
    kind: "stage",
    variant,
    seconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
    steps,
    finalLoss: log.length ? log[log.length - 1].loss : undefined,
    resumedFrom: pointer ? first : undefined,
    weightsFrom: key,
  };
  store.finish(record);
  emit({ type: "stage-end", variant, stage: stage.name, seconds: record.seconds, finalLoss: record.finalLoss });
  return record;
}
