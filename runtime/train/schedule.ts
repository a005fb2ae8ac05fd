/**
 * Learning-rate schedules as pure functions of the step, exactly as Hugging Face transformers'
 * `get_constant_schedule`, `get_constant_schedule_with_warmup`, `get_linear_schedule_with_warmup` and
 * `get_cosine_schedule_with_warmup` (num_cycles 0.5) compute their LambdaLR multipliers, with the
 * warmup length of `TrainingArguments.get_warmup_steps`: `warmupSteps` when > 0, else
 * `ceil(totalSteps * warmupRatio)`.
 *
 * `step` counts the optimizer steps already taken: the first update uses multiplier(0), as LambdaLR
 * does (so with warmup the first update has learning rate 0, as in transformers).
 */

export type ScheduleKind = "constant" | "constant_with_warmup" | "linear" | "cosine";

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ["constant", "constant_with_warmup", "linear", "cosine"];

export interface ScheduleOptions {
  /** Optimizer steps in the whole run (transformers' num_training_steps). */
  totalSteps: number;
  /** Fraction of totalSteps used for linear warmup; ignored when warmupSteps > 0. */
  warmupRatio?: number;
  /** Explicit warmup length; wins over warmupRatio when > 0, as in transformers. */
  warmupSteps?: number;
}

/** A multiplier of the base learning rate, as a function of the step (0-based). */
export type Schedule = (step: number) => number;

/** transformers' `TrainingArguments.get_warmup_steps`. */
export function warmupSteps(options: ScheduleOptions): number {
  const { totalSteps, warmupRatio = 0, warmupSteps: explicit = 0 } = options;
  if (explicit > 0) return explicit;
  return Math.ceil(totalSteps * warmupRatio);
}

export function schedule(kind: ScheduleKind, options: ScheduleOptions): Schedule {
  const { totalSteps, warmupRatio = 0 } = options;
  if (!Number.isInteger(totalSteps) || totalSteps < 0) {
    throw new Error(`schedule: totalSteps must be a non-negative integer, got ${totalSteps}`);
  }
  if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
    throw new Error(`schedule: warmupRatio must be in [0, 1], got ${warmupRatio}`);
  }
  const warmup = warmupSteps(options);
  const warm = (step: number) => step / Math.max(1, warmup);
  switch (kind) {
    case "constant":
      return () => 1;
    case "constant_with_warmup":
      return (step) => (step < warmup ? warm(step) : 1);
    case "linear":
      return (step) =>
        step < warmup ? warm(step) : Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
    case "cosine":
      return (step) => {
        if (step < warmup) return warm(step);
        const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
        return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
      };
    default:
      return assertNever(kind);
  }
}

function assertNever(kind: never): never {
  throw new Error(`unknown schedule \`${String(kind)}\`; expected one of ${SCHEDULE_KINDS.join(", ")}`);
}
