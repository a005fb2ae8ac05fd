/**
 * Memory: how much memory one device needs for a stage on the cluster (`mmfmc grid`, `mmfmc export`),
 * and the smallest change that makes a stage fit when it does not.
 *
 * The estimate, in bytes per device, for a training stage with P parameters (Pv of them in the vision
 * tower), T trainable ones, N devices, ZeRO stage z (the stage's `zero`, else the experiment's), micro batch b and sequence length s = max_length
 * (a worst case: the Gaudi collator pads every batch to it; on GPUs batches are padded to their longest
 * sample), w = 2 bytes for bf16/fp16 (4 for fp32):
 *
 *   parameters   = 2·Pv + w·(P − Pv + Pa)               ÷ N when z = 3 (+ the largest module, gathered)
 *                  LLaVA casts the frozen vision tower to 16 bits in every precision; Pa are the LoRA
 *                  adapters of a stage with `lora` (T then counts them instead of the language model)
 *   gradients    = w·T                                   ÷ N when z ≥ 2
 *   Adam states  = 12·T (fp32 master copy, m and v)      ÷ N when z ≥ 1; 8·T in fp32 (no master copy)
 *                  (the (2 + 2 + K)Ψ model of ZeRO, Rajbhandari et al. 2020, K = 12)
 *   activations  = w·(L·A + connector) + (w + 4)·s·b·V   language model layers and logits
 *
 * where A, the activations one Gemma layer keeps for the backward pass (in elements), is
 *
 *   A = s·b·(4h + 2·a·dh + 2·kv·dh + 4m)   [+ a·b·s² for the attention probabilities without flash attention]
 *       4h: the inputs and outputs of the two RMSNorms; 2·a·dh: queries and the attention output;
 *       2·kv·dh: keys and values; 4m: gate, GELU(gate), up and their product in the GeGLU block
 *
 * after Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models", §4),
 * adapted to Gemma's GeGLU and multi-query attention. With gradient checkpointing a layer keeps only its
 * input (s·b·h) and one layer is recomputed at a time: L·s·b·h + A. The logits are kept in 16 bits and
 * once more in fp32 for the loss (transformers' Gemma calls `logits.float()`). Gradients flow through the
 * language model to reach the connector, so its activations are kept whatever the stage trains; the
 * vision tower runs under no_grad unless it is trained (then its layers count like the language
 * model's, with 8w + 2·mlp per token). On GPUs LLaVA's train_mem.py asks for flash attention (no s²
 * term); on Gaudi it does not.
 *
 * Not counted: the framework and communication buffers, allocator fragmentation, the transient
 * activations of the frozen vision tower. Leave some headroom.
 *
 * An evaluation holds the model in 16 bits and a key/value cache for one sample (LLaVA's eval scripts
 * generate one question at a time) of image tokens + max_new_tokens.
 */
import { publishedMicroBatch } from "./export/published.js";
import { loraParameterCount } from "./params.js";
import type { Variant } from "./grid.js";
import type { ModelPlan, StagePlan, TrainStagePlan } from "../plan/plan.js";
import { evalMaxNewTokens } from "../plan/generation.js";

export interface ClusterShape {
  readonly devices: number;
  /** GiB per device */
  readonly device_memory: number;
  readonly zero: number;
}

/** Bytes per device; `fits` compares the total with `device_memory`. */
export interface MemoryEstimate {
  readonly params: number;
  readonly grads: number;
  readonly optimizer: number;
  readonly activations: number;
  readonly total: number;
  /** bytes per device */
  readonly available: number;
  readonly fits: boolean;
}

/** A change of the spec that makes a stage fit, and the estimate after it. */
export interface MemoryFix {
  /** what to set, in mmfm terms, e.g. `zero = 3` or `micro_batch = 8` */
  readonly change: string;
  readonly estimate: MemoryEstimate;
}

export const GiB = 1024 ** 3;

/** Only the stage fields the estimate reads, so a resolved configuration can be estimated too. */
export type MemoryStage =
  | (Pick<TrainStagePlan, "kind" | "train" | "micro_batch" | "max_length" | "precision" | "gradient_checkpointing" | "accelerator" | "trainable" | "batch" | "zero"> &
      Partial<Pick<TrainStagePlan, "lora" | "lora_r">>)
  | ({ readonly kind: "eval" } & Parameters<typeof evalMaxNewTokens>[0]);

function hasClassToken(family: string): boolean {
  return family !== "siglip";
}

/** Elements one Gemma layer keeps for the backward pass at micro batch b and length s. */
function languageLayer(model: ModelPlan, b: number, s: number, flash: boolean): number {
  const { width: h, heads: a, kv_heads: kv, head_dim: dh, mlp: m } = model.language;
  return s * b * (4 * h + 2 * a * dh + 2 * kv * dh + 4 * m) + (flash ? 0 : a * b * s * s);
}

/** Elements one vision layer keeps (only when the vision tower is trained). */
function visionLayer(model: ModelPlan, b: number, flash: boolean): { perLayer: number; input: number } {
  const v = model.vision;
  const tokens = Math.floor(v.image / v.patch) ** 2 + (hasClassToken(v.family) ? 1 : 0);
  return { perLayer: tokens * b * (8 * v.width + 2 * v.mlp) + (flash ? 0 : v.heads * b * tokens * tokens), input: tokens * b * v.width };
}

function connectorActivations(model: ModelPlan, b: number): number {
  const c = model.connector;
  const t = model.image_tokens;
  if (c.family === "identity") return 0;
  if (c.family === "linear") return b * t * c.in;
  return b * t * (c.in + 2 * c.out * ((c.depth ?? 2) - 1));
}

/** The largest single module ZeRO-3 gathers at once: the embedding (an untied head is as large) or one decoder layer. */
function largestModule(model: ModelPlan): number {
  const l = model.language;
  const embedding = l.vocab * l.width;
  const heads = l.family === "llama" && !l.tied ? 2 : 1;
  const layer = (model.params.language - heads * embedding - l.width) / l.depth;
  return Math.max(embedding, layer);
}

export function estimateStage(model: ModelPlan, stage: MemoryStage, cluster: ClusterShape): MemoryEstimate {
  const available = cluster.device_memory * GiB;
  const p = model.params;
  if (stage.kind === "eval") {
    const l = model.language;
    const params = 2 * p.total;
    const cache = 2 * l.depth * l.kv_heads * l.head_dim * (model.image_tokens + evalMaxNewTokens(stage)) * 2;
    return finish({ params, grads: 0, optimizer: 0, activations: cache, available });
  }
  const w = stage.precision === "fp32" ? 4 : 2;
  const n = cluster.devices;
  const z = stageZero(stage, cluster);
  const b = stage.micro_batch;
  const s = stage.max_length;
  const flash = stage.accelerator === "gpu";
  const t = stage.trainable;

  const adapters = stage.lora && stage.lora_r ? loraParameterCount(model.language.family, { ...model.language }, stage.lora_r) : 0;
  let params = 2 * p.vision + w * (p.connector + p.language + adapters);
  if (z >= 3) params = params / n + w * largestModule(model);
  const grads = (w * t) / (z >= 2 ? n : 1);
  const optimizer = ((stage.precision === "fp32" ? 8 : 12) * t) / (z >= 1 ? n : 1);

  const l = model.language;
  const layer = languageLayer(model, b, s, flash);
  const checkpointing = stage.gradient_checkpointing;
  let elements = checkpointing ? l.depth * s * b * l.width + layer : l.depth * layer;
  elements += connectorActivations(model, b);
  if (stage.train.includes("vision")) {
    const v = visionLayer(model, b, flash);
    elements += checkpointing ? model.vision.depth * v.input + v.perLayer : model.vision.depth * v.perLayer;
  }
  const logits = (w + 4) * s * b * l.vocab;
  return finish({ params, grads, optimizer, activations: w * elements + logits, available });
}

/** The ZeRO stage a training stage runs with: its own `zero`, else the experiment's. */
export function stageZero(stage: { readonly zero: number | null }, cluster: ClusterShape): number {
  return stage.zero ?? cluster.zero;
}

function finish(parts: Omit<MemoryEstimate, "total" | "fits">): MemoryEstimate {
  const total = parts.params + parts.grads + parts.optimizer + parts.activations;
  return { ...parts, total, fits: total <= parts.available };
}

/**
 * The smallest change that makes a training stage fit, trying one change at a time in order of cost:
 * more ZeRO (no change to the maths, a little more communication), a smaller micro batch (more
 * accumulation; the global batch stays), gradient checkpointing (about a third slower), more devices.
 * When no single change is enough, ZeRO-3 with checkpointing and the smallest micro batch, then with
 * more devices. Undefined when the stage fits already or nothing within reach fits.
 */
export function fitMemory(model: ModelPlan, stage: TrainStagePlan, cluster: ClusterShape): MemoryFix | undefined {
  const now = estimateStage(model, stage, cluster);
  if (now.fits) return undefined;
  const tryIt = (change: string, s: TrainStagePlan, c: ClusterShape): MemoryFix | undefined => {
    const estimate = estimateStage(model, s, c);
    return estimate.fits ? { change, estimate } : undefined;
  };
  for (let z = stageZero(stage, cluster) + 1; z <= 3; z++) {
    const fix = tryIt(`zero = ${z}`, { ...stage, zero: z }, cluster);
    if (fix) return fix;
  }
  const micros = smallerMicroBatches(stage.batch, stage.micro_batch, cluster.devices);
  for (const m of micros) {
    const accumulation = stage.batch / (m * cluster.devices);
    const fix = tryIt(`micro_batch = ${m} (gradient accumulation ${accumulation})`, { ...stage, micro_batch: m }, cluster);
    if (fix) return fix;
  }
  if (!stage.gradient_checkpointing) {
    const fix = tryIt("gradient_checkpointing = true", { ...stage, gradient_checkpointing: true }, cluster);
    if (fix) return fix;
  }
  for (const d of moreDevices(stage.batch, stage.micro_batch, cluster.devices)) {
    const fix = tryIt(`devices = ${d}`, stage, { ...cluster, devices: d });
    if (fix) return fix;
  }
  // no single change: everything that costs no hardware, then more devices on top
  const smallest = micros.length ? micros[micros.length - 1] : stage.micro_batch;
  const frugal: TrainStagePlan = { ...stage, micro_batch: smallest, gradient_checkpointing: true, zero: 3 };
  const parts = ["zero = 3", "gradient_checkpointing = true", ...(smallest !== stage.micro_batch ? [`micro_batch = ${smallest}`] : [])];
  const combined = tryIt(parts.join(", "), frugal, cluster);
  if (combined) return combined;
  for (const d of moreDevices(stage.batch, smallest, cluster.devices)) {
    const fix = tryIt(`${parts.join(", ")}, devices = ${d}`, frugal, { ...cluster, devices: d });
    if (fix) return fix;
  }
  return undefined;
}

/** Micro batches below `micro` that split `batch` evenly over `devices`, largest first. */
function smallerMicroBatches(batch: number, micro: number, devices: number): number[] {
  const out: number[] = [];
  for (let m = micro - 1; m >= 1; m--) if (batch % (m * devices) === 0) out.push(m);
  return out;
}

/** Device counts above `devices` (doubling) that still split `batch` at this micro batch. */
function moreDevices(batch: number, micro: number, devices: number): number[] {
  const out: number[] = [];
  for (let d = devices * 2; d * micro <= batch; d *= 2) if (batch % (d * micro) === 0) out.push(d);
  return out;
}

/** `61.3 GiB` */
export function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

/** `params 5.2 + gradients 0.0 + Adam 0.0 + activations 56.1` (GiB), for messages. */
export function breakdown(e: MemoryEstimate): string {
  const f = (x: number) => (x / GiB).toFixed(1);
  return `parameters ${f(e.params)} + gradients ${f(e.grads)} + Adam states ${f(e.optimizer)} + activations ${f(e.activations)} GiB`;
}

/** The estimate of every stage of a plan (evaluations included). */
export function planMemory(plan: { model: ModelPlan; stages: readonly StagePlan[]; cluster: ClusterShape }): MemoryEstimate[] {
  return plan.stages.map((s) => estimateStage(plan.model, s, plan.cluster));
}

export interface StageMemory {
  readonly estimate: MemoryEstimate;
  /** the smallest change that fits, for a training stage that does not */
  readonly fix: MemoryFix | undefined;
}

/** The per-device batches (micro batches) that split a global batch over the devices, smallest first. */
export function validMicroBatches(batch: number, devices: number): number[] {
  const out: number[] = [];
  for (let m = 1; m * devices <= batch; m++) if (batch % (m * devices) === 0) out.push(m);
  return out;
}

/**
 * A training stage as it runs on the cluster. A spec that leaves `micro_batch` at its default (the
 * whole batch, as on one device) gets the per-device batch LLaVA-Gemma's scripts use for its model and
 * kind of stage (compiler/export/published.ts) when that splits the batch over the devices and fits in
 * their memory; else the largest per-device batch that splits and fits (else the smallest split).
 * `mmfmc export` and `mmfmc grid` agree.
 */
export function clusterStage<S extends StagePlan>(model: ModelPlan, stage: S, cluster: ClusterShape, microBatchSet: boolean): S {
  if (stage.kind !== "stage" || microBatchSet) return stage;
  const splits = validMicroBatches(stage.batch, cluster.devices).sort((a, b) => b - a);
  const fits = (m: number) => estimateStage(model, { ...stage, micro_batch: m }, cluster).fits;
  const published = publishedMicroBatch(model.language, stage.train);
  const chosen = published !== undefined && splits.includes(published) && fits(published) ? published : (splits.find(fits) ?? splits[splits.length - 1]);
  return chosen === undefined ? stage : { ...stage, micro_batch: chosen };
}

/** The estimate of every stage of a variant, from its resolved configuration (what the plan will hold). */
export function variantMemory(variant: Variant): StageMemory[] {
  const { json: config, model, stages, spans } = variant.config;
  const modelPlan = { ...(config.model as object), params: model.params, image_tokens: model.imageTokens } as unknown as ModelPlan;
  const cluster = { devices: config.devices, device_memory: config.device_memory, zero: config.zero } as unknown as ClusterShape;
  return (config.stages as object[]).map((json, i) => {
    const stage = clusterStage(modelPlan, { ...json, trainable: stages[i].trainable } as unknown as StagePlan, cluster, spans.has(`/stages/${i}/micro_batch`));
    const estimate = estimateStage(modelPlan, stage, cluster);
    return { estimate, fix: stage.kind === "stage" && !estimate.fits ? fitMemory(modelPlan, stage, cluster) : undefined };
  });
}
