/**
 * Pre-flight: before anything trains, the memory and time each stage needs on the chosen backend,
 * from the plan alone. A variant that cannot fit is refused with the numbers, instead of crashing at
 * its first step.
 *
 * Memory of a training stage (float32, as tfjs computes):
 *   weights      4 B x all parameters
 *   gradients    4 B x trainable parameters
 *   AdamW        8 B x trainable parameters (two moments)
 *   activations  per micro batch: language 4 B x tokens x layers x (16 x width + 2 x heads x tokens)
 *                + logits 12 B x tokens x vocab; vision 4 B x patches x (8 x width) per image (no grad)
 * where tokens = max_length. Evaluation needs the weights and a forward pass.
 * Time: 6 x language parameters x tokens (forward and backward) + 2 x vision parameters x patches,
 * per sample, at the backend's measured matmul rate.
 */
import type { Plan, StagePlan } from "../../plan/plan.js";
import { evalMaxNewTokens } from "../../plan/generation.js";

export interface StageEstimate {
  readonly stage: string;
  readonly kind: "stage" | "eval";
  readonly bytes: number;
  readonly parts: Readonly<Record<string, number>>;
  /** seconds, when the steps and the backend's rate are known */
  readonly seconds: number | null;
  readonly fits: boolean;
}

export interface BackendCapacity {
  readonly name: string;
  /** bytes the backend can hold (wasm: 4 GiB), or null when unknown */
  readonly memoryLimit: number | null;
  /** measured float32 matmul rate, FLOP/s */
  readonly flops: number | null;
}

const GiB = 1024 ** 3;

export function showBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MiB`;
  return `${Math.ceil(n / 1024)} KiB`;
}

export function estimateStage(plan: Plan, stage: StagePlan, capacity: BackendCapacity): StageEstimate {
  const m = plan.model;
  const l = m.language;
  const v = m.vision;
  const patches = m.image_tokens + 1;
  const weights = 4 * m.params.total;
  let parts: Record<string, number>;
  let flopsPerStep = 0;
  let steps: number | null = null;
  if (stage.kind === "stage") {
    const tokens = stage.max_length;
    const micro = stage.micro_batch;
    const language = 4 * micro * tokens * l.depth * (16 * l.width + 2 * l.heads * tokens);
    const logits = 12 * micro * tokens * l.vocab;
    const vision = 4 * micro * patches * 8 * v.width;
    parts = {
      weights,
      gradients: 4 * stage.trainable,
      optimizer: 8 * stage.trainable,
      activations: language + logits + vision,
    };
    const sampleTokens = Math.min(tokens, m.image_tokens + 64);
    flopsPerStep = stage.batch * (6 * m.params.language * sampleTokens + 2 * m.params.vision * patches);
    steps = stage.steps;
  } else {
    const tokens = m.image_tokens + 64 + evalMaxNewTokens(stage);
    parts = {
      weights,
      activations: 4 * stage.batch * tokens * l.depth * (4 * l.width + 2 * l.heads * tokens) + 12 * stage.batch * tokens * l.vocab,
    };
  }
  const bytes = Object.values(parts).reduce((a, b) => a + b, 0);
  const seconds = steps !== null && capacity.flops ? (steps * flopsPerStep) / capacity.flops : null;
  return { stage: stage.name, kind: stage.kind, bytes, parts, seconds, fits: capacity.memoryLimit === null || bytes <= capacity.memoryLimit };
}

export function estimateVariant(plan: Plan, capacity: BackendCapacity): StageEstimate[] {
  return plan.stages.map((s) => estimateStage(plan, s, capacity));
}

/** The refusal message for a variant that does not fit. */
export function refusal(plan: Plan, estimates: readonly StageEstimate[], capacity: BackendCapacity, specFile: string): string {
  const worst = estimates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const parts = Object.entries(worst.parts)
    .map(([k, b]) => `${k} ${showBytes(b)}`)
    .join(", ");
  return [
    `${plan.id}: stage \`${worst.stage}\` needs about ${showBytes(worst.bytes)} (${parts}),`,
    `  but the ${capacity.name} backend holds at most ${showBytes(capacity.memoryLimit ?? 0)}; ${plan.model.params.total.toLocaleString("en-US")} parameters.`,
    `  Train it on a cluster: \`mmfmc export ${specFile} --target llava --variant ${plan.id}\`, or use tiny presets (std/tiny.mmfm).`,
  ].join("\n");
}
