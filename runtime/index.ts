/**
 * `mmfm/runtime`: the typed graph API that generated modules build variants with, the plan types,
 * and the runtime that trains and evaluates them on TensorFlow.js.
 */
export * from "./graph.js";
export type * from "../plan/plan.js";
export { readPlan, validatePlan, PlanError } from "../plan/io.js";
export * from "./benchmarks/index.js";
export * from "./data/index.js";
export * from "./models/index.js";
export { tf } from "./tf.js";
export * from "./train/index.js";
export { initBackend, describeBackend, backendInfo, BACKEND_NAMES, registerGradients, type BackendInfo, type BackendOptions } from "./backend/index.js";
export * as ops from "./backend/fused/index.js";
export * as run from "./run/index.js";
