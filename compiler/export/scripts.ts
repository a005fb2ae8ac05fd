/**
 * The shell scripts of an export: a training stage's script, a variant's run.sh, the shared env.sh
 * (a template shipped beside this module, `templates/env.sh`) and the Slurm array grid.sbatch.
 */
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { InternalError } from "../../core/errors.js";
import { packageRoot } from "../../core/package_root.js";
import { variantFolder } from "../../plan/names.js";
import type { Plan } from "../../plan/plan.js";
import { breakdown, gib, type MemoryEstimate, type MemoryFix } from "../memory.js";
import { trainFlags } from "./flags.js";
import type { Launch, TrainLaunch } from "./launch.js";
import { commandText, shellWord, stamp } from "./shell.js";

/** What every script of one export shares. */
export interface ScriptContext {
  readonly experiment: string;
  /** the spec as shown in the stamp of every file */
  readonly source: string;
}

/**
 * A template of `templates/` with its `{{name}}` placeholders filled; a placeholder without a value, or
 * a value without a placeholder, is a bug of the export.
 */
export function fillTemplate(name: string, values: Readonly<Record<string, string>>): string {
  const text = readFileSync(join(packageRoot(), "compiler", "export", "templates", name), "utf8");
  const used = new Set<string>();
  const filled = text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new InternalError(`templates/${name} has the placeholder {{${key}}} but no value is given for it`);
    used.add(key);
    return values[key];
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new InternalError(`templates/${name} has no placeholder for ${unused.join(", ")}`);
  return filled;
}

function memoryLines(e: MemoryEstimate, fix: MemoryFix | undefined, cluster: Plan["cluster"]): string[] {
  const lines = [`#   memory per device (estimate, docs/export.md): ${gib(e.total)} of ${cluster.device_memory} GiB`, `#     ${breakdown(e)}`];
  if (!e.fits) lines.push(`#   WARNING: will not fit; ${fix ? `${fix.change} would need ${gib(fix.estimate.total)}` : "no change within reach makes it fit"}`);
  return lines;
}

/** VARIANT/N-STAGE.sh: `deepspeed llava/train/train_mem.py` once the stage it starts from is done. */
export function trainScript(ctx: ScriptContext, plan: Plan, launch: TrainLaunch, tower: string, memory: MemoryEstimate, fix: MemoryFix | undefined): string {
  const s = launch.plan;
  const total = plan.stages.length;
  const trained = s.train.join(" and ");
  const lines = [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    `# ${plan.id}, stage ${launch.index + 1} of ${total}: ${s.name}`,
    `#   trains ${trained} (${s.trainable.toLocaleString("en-US")} parameters) on ${plan.cluster.devices} ${s.accelerator === "gaudi" ? "Gaudi devices" : "GPUs"}, ZeRO-${plan.cluster.zero}`,
    `#   global batch ${s.batch} = ${launch.perDevice} per device × ${plan.cluster.devices} devices × ${launch.accumulation} accumulation steps`,
    ...memoryLines(memory, fix, plan.cluster),
    "set -euo pipefail",
    'source "$(dirname "${BASH_SOURCE[0]}")/../env.sh"',
    "",
    `OUTPUT_DIR="${launch.outputDir}"`,
    `mmfm_stage_begin "$OUTPUT_DIR" ${s.cache_key} || exit 0`,
  ];
  if (launch.after) lines.push(`mmfm_require_done "${launch.after.outputDir}" ${launch.after.plan.cache_key}`);
  lines.push("mmfm_enter_llava", `mmfm_check_devices ${plan.cluster.devices} ${s.accelerator}`);
  if (s.accelerator === "gaudi") lines.push("mmfm_gaudi_env");
  lines.push("", commandText("deepspeed llava/train/train_mem.py", trainFlags(plan, launch, tower)), "", `mmfm_stage_end "$OUTPUT_DIR" ${s.cache_key}`, "");
  return lines.join("\n");
}

/** VARIANT/run.sh: the variant's scripts in order. */
export function runScript(ctx: ScriptContext, plan: Plan, launches: readonly Launch[]): string {
  const folder = variantFolder(plan.id);
  const steps = launches.flatMap((l) => (l.kind === "stage" ? [l.file] : l.files.map((f) => f.file)));
  return [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    `# ${plan.id}: ${plan.stages.map((s) => s.name).join(" -> ")}, in order; a stage already done is skipped`,
    "set -euo pipefail",
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    ...steps.map((s) => `bash "$here/${s.slice(folder.length + 1)}"`),
    "",
  ].join("\n");
}

/** env.sh: the settings and helpers every script sources. */
export function envScript(ctx: ScriptContext, plans: readonly Plan[]): string {
  const first = plans[0];
  const specDir = posix.normalize(`${variantFolder(first.id)}/${first.source.dir}`);
  return fillTemplate("env.sh", { stamp: stamp(ctx.source), experiment: ctx.experiment, spec_dir: shellWord(specDir) });
}

/** grid.sbatch: a Slurm array, one task per variant running its run.sh. */
export function sbatchScript(ctx: ScriptContext, plans: readonly Plan[]): string {
  const accelerators = new Set(plans.flatMap((p) => p.stages.flatMap((s) => (s.kind === "stage" ? [s.accelerator] : []))));
  const devices = Math.max(...plans.map((p) => p.cluster.devices));
  const gaudi = accelerators.has("gaudi");
  return [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    `# The grid of ${ctx.experiment} on Slurm: one array task per variant, running its stages in order`,
    "# (a stage starts when the one before it is done; variants sharing a stage run it once).",
    "# Submit from this folder: sbatch grid.sbatch (LLAVA_DIR must name the LLaVA-Gemma checkout)",
    `#SBATCH --job-name=${shellWord(ctx.experiment)}`,
    `#SBATCH --array=0-${plans.length - 1}`,
    "#SBATCH --nodes=1",
    "#SBATCH --ntasks=1",
    gaudi ? "#SBATCH --exclusive" : `#SBATCH --gres=gpu:${devices}`,
    "#SBATCH --output=%x-%A_%a.out",
    "set -euo pipefail",
    "variants=(",
    ...plans.map((p) => `  ${shellWord(variantFolder(p.id))}`),
    ")",
    'EXPORT_DIR="${MMFM_EXPORT_DIR:-${SLURM_SUBMIT_DIR:-$(dirname "$0")}}"',
    '[ -f "$EXPORT_DIR/env.sh" ] || { echo "mmfm: submit from the export folder or set MMFM_EXPORT_DIR" >&2; exit 1; }',
    'variant="${variants[${SLURM_ARRAY_TASK_ID:?run this script with sbatch}]}"',
    'exec bash "$EXPORT_DIR/$variant/run.sh"',
    "",
  ].join("\n");
}
