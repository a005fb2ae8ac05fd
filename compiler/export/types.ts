/** What an export takes and returns (`exportLlava`, compiler/export/index.ts). */
import type { Diagnostic } from "../../core/diagnostics.js";
import type { Plan } from "../../plan/plan.js";
import type { MemoryEstimate, MemoryFix } from "../memory.js";
import type { CodeBaseId } from "./code_bases.js";
import type { Places } from "./problems.js";
import type { SlurmSettings } from "./slurm.js";

/** How the export meets the cluster (`mmfmc export --data/--partition/--time/...`). */
export interface ExportSettings {
  /** the data root on the cluster, env.sh's default DATA_DIR; null: DATA_DIR must be set when the scripts run */
  readonly dataDir: string | null;
  readonly slurm: SlurmSettings;
}

export interface ExportInput {
  readonly experiment: string;
  /** the spec as shown in the stamp of every file, e.g. `examples/llava-gemma.mmfm` */
  readonly source: string;
  /** the plans of the variants to export, built for the folders `OUT/EXPERIMENT/LABELS` */
  readonly plans: readonly Plan[];
  /** where the spec writes a value of a plan (plan id, JSON pointer into the plan), for diagnostics */
  readonly places?: Places;
  /** unset: no data root, Slurm's defaults (compiler/export/slurm.ts) */
  readonly settings?: ExportSettings;
}

export interface ExportedStage {
  readonly name: string;
  readonly kind: "stage" | "eval";
  /** scripts of the stage, relative to the experiment's folder */
  readonly scripts: readonly string[];
  /** train stages: the split of the global batch */
  readonly perDeviceBatch: number | null;
  readonly devices: number;
  readonly accumulation: number | null;
  readonly memory: MemoryEstimate;
  readonly fix: MemoryFix | null;
}

export interface ExportedVariant {
  readonly id: string;
  readonly dir: string;
  /** the code base its scripts run in (code_bases.ts) */
  readonly codeBase: CodeBaseId;
  readonly stages: readonly ExportedStage[];
}

export interface ExportResult {
  /** the files of the variants exported and what they share; empty when none could be exported */
  readonly files: readonly { path: string; text: string }[];
  readonly diagnostics: readonly Diagnostic[];
  /** the variants exported, in grid order */
  readonly variants: readonly ExportedVariant[];
  /** the ids of the variants not exported: the errors among the diagnostics say why */
  readonly failed: readonly string[];
}
