/** Running variants: stage results keyed by cache key, resume, pre-flight estimates, the report. */
export { runExperiment, type RunOptions, type RunSummary, type VariantInput } from "./execute.js";
export { sideBySide } from "./parallel.js";
export type { RunEvent } from "./events.js";
export { estimateStage, estimateVariant, showBytes, refusal, type BackendCapacity, type StageEstimate } from "./preflight.js";
export { buildReport, renderCsv, renderLossSvg, renderMarkdown, ReportError, SEED_AXIS, writeReport, type Effect, type Report, type ReportGroup, type ReportSource } from "./report.js";
export { collectExperiment, CollectError, collectJson, experimentFolders, type CollectedExperiment, type CollectedVariant, type CollectOptions } from "./collect.js";
export { mean, meanInterval, sampleStd, studentTCdf, studentTQuantile } from "./stats.js";
export { LockError, RunStore, type StageRecord, type VariantRecord } from "./store.js";
export { RunDataError, processorFor, tokenizerFor } from "./data.js";
export { StageStopped, stageSteps, trainStage } from "./train.js";
export { evalStage } from "./eval.js";
export { isInputError } from "./input_errors.js";
export { RunInterrupted, TrainingDiverged } from "./stop.js";
export { FileError } from "../../core/files.js";
