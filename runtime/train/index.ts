/** Training: AdamW as torch computes it, transformers' schedules, clipping, accumulation, the step. */
export { adam, adamScalars, chain, decoupledWeightDecay } from "./updates.js";
export type { AdamConfig, ParamUpdate, UpdateContext, UpdateResult } from "./updates.js";
export { createOptimizer, optimizerFromUpdate } from "./optimizer.js";
export type { Optimizer, OptimizerConfig, OptimizerState, ParamGroup } from "./optimizer.js";
export { fusedAdamW, hasFusedAdamW, registerFusedAdamW, ADAMW_KERNEL } from "./fused_adamw.js";
export { schedule, warmupSteps, SCHEDULE_KINDS } from "./schedule.js";
export type { Schedule, ScheduleKind, ScheduleOptions } from "./schedule.js";
export { clipByGlobalNorm, globalNormScale } from "./clip.js";
export type { Clipped } from "./clip.js";
export { readStep, trainStep } from "./step.js";
export type { TrainStepOptions, TrainStepResult } from "./step.js";
