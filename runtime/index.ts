/**
 * `mmfm/runtime`: the typed graph API that generated modules build variants with, the plan types,
 * and the runtime that trains and evaluates them on TensorFlow.js.
 */
export * from "./graph.js";
export type * from "./plan.js";
export { readPlan, validatePlan, PlanError } from "./plan-io.js";
export * from "./eval/index.js";
export * from "./data/index.js";
export * from "./models/index.js";
export { tf } from "./tf.js";
