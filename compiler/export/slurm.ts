/**
 * The Slurm side of an export: train.sbatch (an array, one task per variant, running the variant's
 * training stages on the training nodes), eval.sbatch (an array on GPU nodes running the variant's
 * benchmarks: LLaVA's eval code is CUDA-only) and submit.sh, which queues both so that each
 * evaluation task starts when the training task of the same variant has succeeded.
 */
import { variantFolder } from "../../plan/names.js";
import type { Plan } from "../../plan/plan.js";
import type { ScriptContext } from "./scripts.js";
import { shellWord, stamp } from "./shell.js";

/** What one Slurm job asks for; unset values get the defaults below. */
export interface SlurmRequest {
  /** `--partition`; null: the cluster's default partition */
  readonly partition: string | null;
  /** `--time`, in Slurm's formats (`MM`, `HH:MM:SS`, `D-HH`, `D-HH:MM:SS`, ...) */
  readonly time: string | null;
  /** `--cpus-per-task` */
  readonly cpus: number | null;
  /** `--gres=gpu:N` of the evaluation job (the training job asks for the experiment's `devices`) */
  readonly gpus: number | null;
}

export interface SlurmSettings {
  readonly train: SlurmRequest;
  readonly eval: SlurmRequest;
}

export const noRequest: SlurmRequest = { partition: null, time: null, cpus: null, gpus: null };

/** Defaults: two days for a variant's training, 12 hours and one GPU for its benchmarks, 8 CPUs per device. */
export const slurmDefaults = {
  trainTime: "2-00:00:00",
  evalTime: "12:00:00",
  evalGpus: 1,
  cpusPerDevice: 8,
} as const;

/** Why a `--time` value is not one Slurm reads, or undefined. */
export function slurmTimeProblem(time: string): string | undefined {
  const clock = String.raw`\d+(:\d{1,2}){0,2}`;
  const days = String.raw`\d+-\d{1,2}(:\d{1,2}){0,2}`;
  if (new RegExp(`^(${clock}|${days})$`).test(time)) return undefined;
  return `\`${time}\` is not a Slurm time: use MM, HH:MM:SS, D-HH or D-HH:MM:SS (e.g. 2-00:00:00)`;
}

/** Why a `--partition` value is not a partition name (or comma-separated list), or undefined. */
export function partitionProblem(partition: string): string | undefined {
  return /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/.test(partition) ? undefined : `\`${partition}\` is not a Slurm partition name`;
}

/** `0-3,5,7-8`: array indices as Slurm's --array writes ranges. */
function arrayRanges(indices: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indices.length; i++) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    parts.push(i === j ? String(indices[i]) : `${indices[i]}-${indices[j]}`);
    i = j;
  }
  return parts.join(",");
}

/** The variants of the export whose plan has an eval stage, by index into `plans`. */
export function evaluated(plans: readonly Plan[]): number[] {
  return plans.flatMap((p, i) => (p.stages.some((s) => s.kind === "eval") ? [i] : []));
}

function sbatchScript(ctx: ScriptContext, plans: readonly Plan[], what: { job: string; comment: string[]; indices: readonly number[]; directives: string[]; script: string }): string {
  return [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    ...what.comment.map((c) => `# ${c}`),
    `#SBATCH --job-name=${shellWord(`${ctx.experiment}-${what.job}`)}`,
    `#SBATCH --array=${arrayRanges(what.indices)}`,
    "#SBATCH --nodes=1",
    "#SBATCH --ntasks=1",
    ...what.directives.map((d) => `#SBATCH ${d}`),
    "#SBATCH --output=%x-%A_%a.out",
    "set -euo pipefail",
    "variants=(",
    ...plans.map((p) => `  ${shellWord(variantFolder(p.id))}`),
    ")",
    'EXPORT_DIR="${MMFM_EXPORT_DIR:-${SLURM_SUBMIT_DIR:-$(dirname "$0")}}"',
    '[ -f "$EXPORT_DIR/env.sh" ] || { echo "mmfm: submit from the export folder (submit.sh does) or set MMFM_EXPORT_DIR" >&2; exit 1; }',
    'variant="${variants[${SLURM_ARRAY_TASK_ID:?run this script with sbatch}]}"',
    `exec bash "$EXPORT_DIR/$variant/${what.script}"`,
    "",
  ].join("\n");
}

function common(request: SlurmRequest, time: string, cpus: number): string[] {
  return [...(request.partition ? [`--partition=${request.partition}`] : []), `--time=${request.time ?? time}`, `--cpus-per-task=${request.cpus ?? cpus}`];
}

/** train.sbatch: one task per variant, its training stages in order, on one node of the stages' accelerator. */
export function trainSbatch(ctx: ScriptContext, plans: readonly Plan[], request: SlurmRequest): string {
  const gaudi = plans.some((p) => p.stages.some((s) => s.kind === "stage" && s.accelerator === "gaudi"));
  const devices = Math.max(...plans.map((p) => p.cluster.devices));
  return sbatchScript(ctx, plans, {
    job: "train",
    comment: [
      `The training of ${ctx.experiment} on Slurm: one array task per variant, running its training stages in order`,
      "(a stage starts when the one before it is done; variants sharing a stage run it once).",
      "Queue it with submit.sh, which also queues the evaluations after it; or alone: sbatch train.sbatch",
    ],
    indices: plans.map((_, i) => i),
    directives: [...common(request, slurmDefaults.trainTime, slurmDefaults.cpusPerDevice * devices), gaudi ? "--exclusive" : `--gres=gpu:${devices}`],
    script: "train.sh",
  });
}

/** eval.sbatch: one task per evaluated variant (same index as in train.sbatch), its benchmarks on GPUs. */
export function evalSbatch(ctx: ScriptContext, plans: readonly Plan[], request: SlurmRequest): string {
  const gpus = request.gpus ?? slurmDefaults.evalGpus;
  return sbatchScript(ctx, plans, {
    job: "eval",
    comment: [
      `The benchmarks of ${ctx.experiment} on Slurm GPU nodes: one array task per variant (the index of train.sbatch),`,
      "each after the training task of its variant (submit.sh queues it with --dependency=aftercorr);",
      `${ctx.checkouts.map((c) => `${c.codeBase.name}'s`).join(" and ")} eval code is CUDA-only. The questions are split over the task's ${gpus === 1 ? "GPU" : `${gpus} GPUs`}.`,
    ],
    indices: evaluated(plans),
    directives: [...common(request, slurmDefaults.evalTime, slurmDefaults.cpusPerDevice * gpus), `--gres=gpu:${gpus}`],
    script: "eval.sh",
  });
}

/** submit.sh: queues train.sbatch, then eval.sbatch with each task depending on its variant's training task. */
export function submitScript(ctx: ScriptContext, plans: readonly Plan[]): string {
  const evals = evaluated(plans).length > 0;
  return [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    `# Queues ${ctx.experiment} on Slurm: train.sbatch (one array task per variant)${evals ? ", then eval.sbatch on GPU" : ""}`,
    ...(evals
      ? [
          "# nodes, whose task for a variant starts once the training task of the same variant has succeeded",
          "# (--dependency=aftercorr: Slurm's afterok, task by task). Arguments are passed to every sbatch call",
        ]
      : ["# nodes. Arguments are passed to sbatch"]),
    "# (e.g. --account=NAME). The settings of env.sh (DATA_DIR, LLAVA_DIR, ...) go with the jobs.",
    "set -euo pipefail",
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    "# shellcheck source-path=SCRIPTDIR source=env.sh",
    'source "$here/env.sh"',
    'cd "$here"',
    `export MMFM_EXPORT_DIR="$here" DATA_DIR ${ctx.checkouts.map((c) => c.variable).join(" ")} CHECKPOINTS RESULTS`,
    ...(ctx.checkouts.length > 1 ? [`export ${ctx.checkouts.map((c) => c.variable.replace(/_DIR$/, "_ACTIVATE")).join(" ")}`] : []),
    'train_job=$(sbatch --parsable "$@" train.sbatch)',
    'train_job=${train_job%%;*}',
    'echo "mmfm: training queued: job $train_job" >&2',
    ...(evals
      ? [
          'eval_job=$(sbatch --parsable --dependency="aftercorr:$train_job" "$@" eval.sbatch)',
          'eval_job=${eval_job%%;*}',
          'echo "mmfm: evaluation queued: job $eval_job, each task after the training task of its variant" >&2',
        ]
      : []),
    "",
  ].join("\n");
}
