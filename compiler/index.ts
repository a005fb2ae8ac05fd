/**
 * `mmfm`: the compiler as a library. `compile` runs the front of the pipeline (resolve, evaluate, check,
 * grid) on a spec; planExperiments, emitExperiments and exportExperiments turn its variants into plans,
 * typed graph modules and launch scripts. Every phase returns values; diagnostics are data, never
 * exceptions.
 */
export {
  compile,
  planExperiments,
  selectVariants,
  emitExperiments,
  exportExperiments,
  type Compilation,
  type CompileOptions,
  type PlannedExperiment,
  type ExperimentFiles,
  type ExportedExperiment,
} from "./pipeline.js";
export { catalog, Diagnostics, type Code, type Diagnostic, type Label, type Severity } from "../core/diagnostics.js";
export { renderDiagnostic, jsonDiagnostic, countSummary, type JsonDiagnostic } from "../core/render.js";
export { SourceFile, type Span, type Position } from "../core/source.js";
export { nodeHost, loadProgram, type Host, type Program } from "./resolve.js";
export { families, familiesNamed, jsonSchema, type Family, type FieldSchema } from "./families.js";
export { docFor, describeFamily, overview } from "./doc.js";
export { canonicalJson, contentHash } from "./canonical.js";
export type { ExperimentGrid, Variant } from "./grid.js";
export { parameterCount, imageTokens } from "./params.js";
export { buildPlan, stageKeys, type PlanContext } from "./plan.js";
export { planSchema } from "./plan_schema.js";
export { emit, EmitError, type EmitInput, type EmittedFile } from "./emit.js";
export { exportLlava, type ExportInput, type ExportResult } from "./export/index.js";
export { formatText, format, type FormatResult } from "./format.js";
export { parseSource } from "../grammar/index.js";
export type * as ast from "../grammar/ast.js";
export type { Plan } from "../plan/plan.js";
