/**
 * One training stage: its data in a seeded order, AdamW with the stage's schedule, gradient
 * accumulation to the global batch, clipping, only the `train` components updated, and a resumable
 * checkpoint every `checkpoint_every` steps. A stage resumed from a checkpoint ends with exactly the
 * weights of an uninterrupted run: the checkpoint holds the weights, the optimizer state and the log,
 * and the data order is a pure function of the seed and the step.
 *
 * The knobs of issue 12 (docs/run.md): several datasets are numbered one after the other and drawn
 * per epoch by `mixture` (data/mixture.ts); `group_by_modality` orders batches as LLaVA's
 * LengthGroupedSampler (data/sampler.ts); `connector_lr` and `vision_lr` are parameter groups of the
 * optimizer; with `lora` the language model gets adapters (models/lora.ts) that are the only language
 * parameters trained, written to `adapters.safetensors` and merged into the weights at the end, so the
 * stage's `model.safetensors` is the plain architecture the next stage and evaluations load.
 */
import { join } from "node:path";
import { BatchSampler, hash32, Mixture, prepareSample, type SamplePipeline, type TextTokenizer, type TrainingSample } from "../data/index.js";
import { addAdapters, componentPrefixes, mergeAdapters, trainableParameters, type PretrainedModel } from "../models/index.js";
import type { Component, Plan, TrainStagePlan } from "../../plan/plan.js";
import { tf } from "../tf.js";
import { createOptimizer, readStep, schedule, trainStep, type ParamGroup, type ScheduleKind } from "../train/index.js";
import { createObjective, type ObjectiveBatch } from "../models/objectives.js";
import type { LlavaModel } from "../graph.js";
import { pretrainedComponent, writeBackbone } from "./backbone.js";
import { processorFor, RunDataError, trainingData, type DataContext, type TrainingData } from "./data.js";
import type { RunEvent } from "./events.js";
import type { LogLine, RunStore, StageRecord } from "./store.js";
import { resumeCheckpoint, saveCheckpoint } from "./resume.js";
import { RunInterrupted, TrainingDiverged } from "./stop.js";
import { writeTensors } from "./tensors.js";

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
  /** aborted (by SIGINT/SIGTERM): stop at the next step boundary with a checkpoint, then `RunInterrupted` */
  readonly stop?: AbortSignal;
  /** the model's description and its tokenizer's folder: a pretraining stage writes its backbone with them (backbone.ts) */
  readonly graph?: LlavaModel<number, number>;
  readonly tokenizerDir?: string;
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

/** The stage's datasets, numbered one after the other, and how an epoch draws from them. */
async function stageData(stage: TrainStagePlan, ctx: DataContext): Promise<{ parts: TrainingData[]; mixture: Mixture; description: string }> {
  const parts: TrainingData[] = [];
  for (const d of stage.data) parts.push(await trainingData(d, ctx));
  const description = parts.map((p) => p.description).join(" + ") + (stage.mixture ? ` mixed ${stage.mixture.join(":")}` : "");
  if (parts.every((p) => p.length === 0)) throw new Error(`stage \`${stage.name}\`: its dataset has no samples (${description})`);
  const empty = stage.mixture ? parts.findIndex((p) => p.length === 0) : -1;
  if (empty >= 0) {
    const name = stage.data[empty].name ?? stage.data[empty].family;
    throw new RunDataError(`stage \`${stage.name}\`: dataset \`${name}\` of its mixture has no samples (${parts[empty].description})`);
  }
  return { parts, mixture: new Mixture(parts.map((p) => p.length), stage.mixture), description };
}

/**
 * LLaVA's `modality_lengths` over the numbering: a sample's words, negative without an image (a
 * sample of no words counts one, where LLaVA's sampler would stop on its assertion).
 */
async function modalityLengths(parts: readonly TrainingData[]): Promise<Float64Array> {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    const words = await p.dataset.wordCounts();
    for (let j = 0; j < p.length; j++) out[offset + j] = Math.max(1, words[j]) * (p.dataset.hasImage(j) ? 1 : -1);
    offset += p.length;
  }
  return out;
}

/** The optimizer's parameter groups: the connector's and the vision backbone's own learning rates. */
function parameterGroups(stage: TrainStagePlan, model: PretrainedModel, trainable: ReadonlySet<string>): ParamGroup[] {
  const prefixes = componentPrefixes(model);
  const group = (component: Component, lr: number | null): ParamGroup[] => {
    const prefix = prefixes[component];
    if (lr === null || prefix === undefined) return [];
    return [{ name: component, lr, params: new Set([...trainable].filter((n) => n.startsWith(prefix))) }];
  };
  return [...group("connector", stage.connector_lr), ...group("vision", stage.vision_lr)];
}

/**
 * Steps between checkpoints when the spec leaves `checkpoint_every` to the target (the tfjs runtime):
 * a tiny LLaVA step takes about half a second on 2 threads (docs/benchmarks.md), so a crash costs
 * under half a minute of work, and the tiny presets' checkpoints are a few MiB.
 */
export const defaultCheckpointEvery = 50;

export async function trainStage(args: TrainStageArgs): Promise<StageRecord> {
  const { model, plan, stage, store, tokenizer, emit, variant } = args;
  const key = stage.cache_key;
  const started = performance.now();
  const { parts, mixture, description } = await stageData(stage, args.data);
  const length = mixture.length;
  const steps = stageSteps(stage, length);
  const every = stage.checkpoint_every ?? defaultCheckpointEvery;
  const processor = processorFor(plan.model.vision);
  const pipeline: SamplePipeline = {
    tokenizer,
    template: stage.template,
    maxLength: stage.max_length,
    imageTokens: plan.model.image_tokens,
    processor,
    aspect: stage.aspect,
  };
  const seed = hash32(plan.seed, parseInt(key.slice(0, 8), 16));
  const lengths = stage.group_by_modality ? await modalityLengths(parts) : undefined;
  const sampler = new BatchSampler({
    size: length,
    batchSize: stage.batch,
    seed,
    epochSamples: mixture.counts ? (epoch) => mixture.epochSamples(seed, epoch) as number[] : undefined,
    modality: lengths ? { lengths: (i) => lengths[i], microBatch: stage.micro_batch } : undefined,
  });
  // with LoRA the language model trains through its adapters only; they start as peft makes them
  const adapters = stage.lora ? addAdapters(model, { r: stage.lora_r, alpha: stage.lora_alpha, dropout: stage.lora_dropout, seed }) : [];
  const components = stage.lora ? stage.train.filter((c) => c !== "language") : stage.train;
  const padId = tokenizer.unkId ?? tokenizer.padId ?? 0; // LLaVA-Gemma pads with <unk>
  const image = { height: plan.model.vision.image, width: plan.model.vision.image };
  // what the stage minimises (runtime/train/objectives.ts); a pretraining objective may bring
  // parameters of its own (a text tower, a head: trained with the model's, dropped at the end) and
  // buffers (an EMA teacher), both kept in checkpoints
  const objective = createObjective(stage.objective, {
    model,
    seed: hash32(plan.seed, parseInt(key.slice(8, 16), 16)),
    steps,
    padId,
    bosId: tokenizer.bosId ?? padId,
    imageTokenId: tokenizer.imageTokenId,
    imageSize: image,
    imageNormalization: processor,
    hueJitter: stage.hue_jitter,
    globalCrops: stage.global_crops,
    localCrops: stage.local_crops,
  });
  const params = new Map([...model.parameters, ...objective.parameters]);
  const saved = { parameters: new Map([...params, ...objective.buffers]) };
  const trainable = new Set([...trainableParameters(model, components).keys(), ...adapters, ...objective.parameters.keys()]);
  const optimizer = createOptimizer(
    {
      lr: stage.lr,
      betas: [stage.optimizer.beta1, stage.optimizer.beta2],
      eps: stage.optimizer.eps,
      weightDecay: stage.weight_decay,
      groups: parameterGroups(stage, model, trainable),
    },
    params,
  );
  const lrAt = schedule(scheduleKind(stage), { totalSteps: steps, warmupRatio: stage.schedule.warmup });

  // a small dataset is prepared once and kept (decoding and resizing every epoch again costs ~10%)
  const keep = length * (3 * image.height * image.width * 4 + 8 * stage.max_length) <= CACHE_BYTES;
  const cache = new Map<number, Promise<TrainingSample>>();
  const load = (i: number): Promise<TrainingSample> => {
    const { part, index } = mixture.locate(i);
    return prepareSample(parts[part].dataset, index, pipeline);
  };
  const prepared = (i: number): Promise<TrainingSample> => {
    if (!keep) return load(i);
    let p = cache.get(i);
    if (!p) cache.set(i, (p = load(i)));
    return p;
  };

  // resume from the newest checkpoint that loads
  const resumed = await resumeCheckpoint(store, key, { model: saved, optimizer, stage: stage.name }, (message) => emit({ type: "note", message }));
  const first = resumed?.step ?? 0;
  const log: LogLine[] = resumed?.log ?? [];
  emit({ type: "stage-start", variant, stage: stage.name, kind: "stage", steps, resumedFrom: resumed ? first : undefined, description, trainable: stage.train.join(" + ") });

  const checkpoint = async (step: number) => {
    await saveCheckpoint(store, key, step, { model: saved, optimizer, log });
    emit({ type: "checkpoint", variant, stage: stage.name, step });
  };

  let step = first;
  let ranThisCall = 0;
  const clock = performance.now();
  for (const sampled of sampler.iterate(sampler.positionAfter(first))) {
    if (step >= steps) break;
    if (args.stopAfter !== undefined && ranThisCall >= args.stopAfter) throw new StageStopped(`stopped after ${ranThisCall} steps`);
    // a macrotask turn, so a pending SIGINT/SIGTERM is delivered (awaits of settled promises never let it in)
    if (args.stop) await new Promise((resolve) => setImmediate(resolve));
    if (args.stop?.aborted) {
      if (step > first && store.committedStep(key) !== step) await checkpoint(step);
      throw new RunInterrupted(String(args.stop.reason), { variant, stage: stage.name, kind: "stage", step, steps });
    }
    // one sample at a time: a batch never holds more than one decoded image (a large one is ~0.5 GB)
    const samples: TrainingSample[] = [];
    for (const i of sampled.indices) samples.push(await prepared(i));
    const micro: ObjectiveBatch[] = [];
    const lr = stage.lr * lrAt(step);
    let result;
    try {
      for (let k = 0; k < samples.length; k += stage.micro_batch) {
        micro.push(objective.prepare(samples.slice(k, k + stage.micro_batch), step, hash32(seed, step, k)));
      }
      result = trainStep({ params, trainable, microBatches: micro, loss: (b) => objective.loss(b), optimizer, lr, clip: stage.grad_clip });
      objective.afterStep?.(micro, step + 1);
    } finally {
      micro.forEach((b) => tf.dispose([...b.tensors]));
    }
    const { loss, gradNorm } = await readStep(result);
    if (!Number.isFinite(loss) || (gradNorm !== null && !Number.isFinite(gradNorm))) {
      const what = Number.isFinite(loss) ? `the gradient norm became ${gradNorm}` : `the loss became ${loss}`;
      const kept = store.committedStep(key);
      throw new TrainingDiverged(
        `stage \`${stage.name}\` of ${variant}: ${what} at step ${step + 1} of ${steps} (learning rate ${lr.toPrecision(3)} at that step); ` +
          `nothing of that step was written` +
          (kept !== undefined ? `, the checkpoint at step ${kept} is kept in ${store.checkpointDir(key, kept)}` : "") +
          `\n  help: the likely cause is a learning rate too high for this model: lower \`lr\` of stage \`${stage.name}\` (now ${stage.lr}), or check the data`,
      );
    }
    step++;
    ranThisCall++;
    const seconds = (performance.now() - clock) / 1000;
    log.push({ step, loss, lr, gradNorm, seconds });
    emit({ type: "step", variant, stage: stage.name, step, steps, loss, samplesPerSecond: (ranThisCall * stage.batch) / Math.max(seconds, 1e-9), seconds });
    if (every > 0 && step % every === 0 && step < steps) await checkpoint(step);
  }
  optimizer.dispose();
  objective.dispose();
  if (stage.lora) {
    // the trained adapters as they are, then merged: the stage leaves the plain architecture
    const trained = new Map(adapters.map((n) => [n, model.parameters.get(n) as tf.Variable]));
    await writeTensors(join(store.stageDir(key), "adapters.safetensors"), trained, {
      format: "pt",
      stage: stage.name,
      lora_r: String(stage.lora_r),
      lora_alpha: String(stage.lora_alpha),
      lora_dropout: String(stage.lora_dropout),
    });
    mergeAdapters(model);
  }
  await writeTensors(store.weightsPath(key), model.parameters, { format: "pt", stage: stage.name });
  store.writeFile(key, "log.jsonl", log.map((l) => JSON.stringify(l)).join("\n") + "\n");
  // a backbone's pretraining also leaves that backbone as a Hugging Face folder a `weights` field can name
  const component = pretrainedComponent(stage);
  if (component && args.graph) await writeBackbone(store.stageDir(key), component, model, args.graph, { padTokenId: padId, tokenizerDir: args.tokenizerDir });
  const record: StageRecord = {
    key,
    name: stage.name,
    kind: "stage",
    variant,
    seconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
    steps,
    finalLoss: log.length ? log[log.length - 1].loss : undefined,
    resumedFrom: resumed ? first : undefined,
    weightsFrom: key,
  };
  store.finish(record);
  emit({ type: "stage-end", variant, stage: stage.name, seconds: record.seconds, finalLoss: record.finalLoss });
  return record;
}
