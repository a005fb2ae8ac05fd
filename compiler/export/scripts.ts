/**
 * The scripts of an export: a training stage's script; a variant's train.sh, eval.sh and run.sh; the
 * shared env.sh and mmfm_answers.py (templates shipped beside this module, in `templates/`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InternalError } from "../../core/errors.js";
import { packageRoot } from "../../core/package_root.js";
import { variantFolder } from "../../plan/names.js";
import type { Plan } from "../../plan/plan.js";
import { breakdown, gib, stageZero, type MemoryEstimate, type MemoryFix } from "../memory.js";
import type { CodeBase, Checkout } from "./code_bases.js";
import { whereFrom } from "./code_bases.js";
import { trainFlags } from "./flags.js";
import type { Launch, PlannedVariant, TrainLaunch } from "./launch.js";
import { commandText, shellWord, stamp, stampedSource } from "./shell.js";

/** What every script of one export shares. */
export interface ScriptContext {
  readonly experiment: string;
  /** the spec as shown in the stamp of every file */
  readonly source: string;
  /** the checkouts of the code bases the exported variants use, in `codeBases` order */
  readonly checkouts: readonly Checkout[];
}

/** The checkout of a code base the export uses. */
export function checkoutOf(ctx: ScriptContext, codeBase: CodeBase): Checkout {
  const checkout = ctx.checkouts.find((c) => c.codeBase === codeBase);
  if (!checkout) throw new InternalError(`no checkout for ${codeBase.name}: a variant of it was exported without it`);
  return checkout;
}

/** `LLaVA-Gemma's`, `LLaVA's`, or both, for what env.sh says of the code. */
function owners(ctx: ScriptContext): string {
  return ctx.checkouts.map((c) => `${c.codeBase.name}'s`).join(" and ");
}

/**
 * A template of `templates/` with its `@name@` placeholders filled (`@source@` is the stamp's spec
 * path); a placeholder without a value, or a value without a placeholder, is a bug of the export.
 */
export function fillTemplate(name: string, values: Readonly<Record<string, string>>): string {
  const text = readFileSync(join(packageRoot(), "compiler", "export", "templates", name), "utf8");
  const used = new Set<string>();
  const filled = text.replace(/@(\w+)@/g, (_, key: string) => {
    if (!(key in values)) throw new InternalError(`templates/${name} has the placeholder @${key}@ but no value is given for it`);
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
export function trainScript(ctx: ScriptContext, plan: Plan, variant: PlannedVariant, launch: TrainLaunch, memory: MemoryEstimate, fix: MemoryFix | undefined): string {
  const s = launch.plan;
  const zero = stageZero(s, plan.cluster);
  const total = plan.stages.length;
  const trained = s.train.join(" and ");
  const lines = [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    `# ${plan.id}, stage ${launch.index + 1} of ${total}: ${s.name}`,
    `#   trains ${trained} (${s.trainable.toLocaleString("en-US")} parameters) on ${plan.cluster.devices} ${s.accelerator === "gaudi" ? "Gaudi devices" : "GPUs"}, ZeRO-${zero}`,
    `#   global batch ${s.batch} = ${launch.perDevice} per device × ${plan.cluster.devices} devices × ${launch.accumulation} accumulation steps`,
    ...memoryLines(memory, fix, plan.cluster),
    "set -euo pipefail",
    "# shellcheck source-path=SCRIPTDIR source=../env.sh",
    'source "$(dirname "${BASH_SOURCE[0]}")/../env.sh"',
    "",
    `OUTPUT_DIR="${launch.outputDir}"`,
    `mmfm_stage_begin "$OUTPUT_DIR" ${s.cache_key} || exit 0`,
    'mmfm_set_aside_unresumable "$OUTPUT_DIR"',
  ];
  if (launch.after) lines.push(`mmfm_require_done "${launch.after.outputDir}" ${launch.after.plan.cache_key}`);
  lines.push(checkoutOf(ctx, variant.codeBase).enter, `mmfm_check_devices ${plan.cluster.devices} ${s.accelerator}`);
  if (s.accelerator === "gaudi") lines.push("mmfm_gaudi_env");
  lines.push("", commandText("deepspeed llava/train/train_mem.py", trainFlags(plan, launch, variant.tower)), "", `mmfm_stage_end "$OUTPUT_DIR" ${s.cache_key}`, "");
  return lines.join("\n");
}

/** The scripts of a variant's training stages, then of its benchmarks, relative to the variant's folder. */
function variantSteps(plan: Plan, launches: readonly Launch[]): { train: string[]; eval: string[] } {
  const local = (file: string) => file.slice(variantFolder(plan.id).length + 1);
  return {
    train: launches.flatMap((l) => (l.kind === "stage" ? [local(l.file)] : [])),
    eval: launches.flatMap((l) => (l.kind === "eval" ? l.files.map((f) => local(f.file)) : [])),
  };
}

function variantScript(ctx: ScriptContext, comment: string, body: readonly string[]): string {
  return [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    `# ${comment}`,
    "set -euo pipefail",
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    ...body,
    "",
  ].join("\n");
}

/** VARIANT/train.sh: the training stages in order (train.sbatch runs it). */
export function trainAll(ctx: ScriptContext, plan: Plan, launches: readonly Launch[]): string {
  const stages = plan.stages.filter((s) => s.kind === "stage").map((s) => s.name);
  return variantScript(
    ctx,
    `${plan.id}: training stages ${stages.join(" -> ")}, in order; a stage already done is skipped`,
    variantSteps(plan, launches).train.map((s) => `bash "$here/${s}"`),
  );
}

/** VARIANT/eval.sh: every benchmark, the others still run when one fails (eval.sbatch runs it). */
export function evalAll(ctx: ScriptContext, plan: Plan, launches: readonly Launch[]): string {
  const evals = plan.stages.filter((s) => s.kind === "eval").map((s) => s.name);
  return variantScript(ctx, `${plan.id}: the benchmarks of ${evals.join(", ")} on this node's GPUs; each runs even when another fails`, [
    "failed=()",
    "for script in \\",
    ...variantSteps(plan, launches).eval.map((s, i, all) => `  ${shellWord(s)}${i < all.length - 1 ? " \\" : "; do"}`),
    '  bash "$here/$script" || failed+=("$script")',
    "done",
    '[ "${#failed[@]}" -eq 0 ] || { echo "mmfm: failed: ${failed[*]}" >&2; exit 1; }',
  ]);
}

/** VARIANT/run.sh: the whole variant on one machine: train.sh, then eval.sh. */
export function runScript(ctx: ScriptContext, plan: Plan, launches: readonly Launch[]): string {
  const evals = variantSteps(plan, launches).eval.length > 0;
  return variantScript(ctx, `${plan.id}: ${plan.stages.map((s) => s.name).join(" -> ")} on this machine: train.sh${evals ? ", then eval.sh (CUDA GPUs)" : ""}`, [
    'bash "$here/train.sh"',
    ...(evals ? ['bash "$here/eval.sh"'] : []),
  ]);
}

/** env.sh: the settings and helpers every script sources; `dataDir` the default data root, if any. */
export function envScript(ctx: ScriptContext, dataDir: string | null): string {
  return fillTemplate("env.sh", {
    source: stampedSource(ctx.source),
    experiment: ctx.experiment,
    data_dir: dataDir === null ? '""' : shellWord(dataDir),
    checkouts: checkoutSettings(ctx.checkouts),
    enter: ctx.checkouts.map((c) => enterFunctions(c, ctx.checkouts.length > 1)).join("\n\n"),
    trainer: owners(ctx),
  });
}

/** The settings naming the checkouts: the only one defaults to the current folder, a second must be set. */
function checkoutSettings(checkouts: readonly Checkout[]): string {
  const both = checkouts.length > 1;
  return checkouts
    .map((c, i) => {
      const what = `# a checkout of ${c.codeBase.name} (${whereFrom(c.codeBase)})${both ? `, for the variants exported for ${c.codeBase.name}` : ""}`;
      return `${what}\n${c.variable}="\${${c.variable}:-${i === 0 ? "$PWD" : ""}}"`;
    })
    .join("\n");
}

/**
 * The env.sh function that checks a checkout and runs from it; for a checkout lacking LLaVA's
 * converters, the check for them. With two code bases, each may run in a Python environment of its
 * own: `VARIABLE_ACTIVATE` names a script to source first (e.g. a virtual environment's bin/activate).
 */
function enterFunctions(c: Checkout, both: boolean): string {
  const v = c.variable;
  const activate = v.replace(/_DIR$/, "_ACTIVATE");
  const blocks = [
    [
      `# run from the ${c.enter === "mmfm_enter_llava" ? "LLaVA" : c.codeBase.name} checkout, as LLaVA's scripts do${both ? `, in its Python environment (${activate}: a script to source first)` : ""}`,
      `${c.enter}() {`,
      `  [ -f "$${v}/llava/train/train_mem.py" ] ||`,
      `    mmfm_fail "${v}=$${v} is not a ${c.codeBase.name} checkout (no llava/train/train_mem.py); set ${v}"`,
      ...(both ? ["  # shellcheck source=/dev/null", `  [ -z "\${${activate}:-}" ] || source "$${activate}" || mmfm_fail "${activate}=$${activate} could not be sourced"`] : []),
      `  cd "$${v}" || exit 1`,
      "  export PYTHONPATH=$PWD",
      "}",
    ],
  ];
  if (c.codeBase.evalCode.missingConverters.length) {
    blocks.push([
      `# ${c.codeBase.name}'s fork lacks some of LLaVA's scripts/convert_*.py`,
      "mmfm_require_llava_file() {",
      `  [ -f "$1" ] || mmfm_dry || mmfm_fail "$${v}/$1 is missing: copy it from haotian-liu/LLaVA ($1; README.md says how)"`,
      "}",
    ]);
  }
  return blocks.map((b) => b.join("\n")).join("\n\n");
}

/** mmfm_answers.py: numbered questions and merged answers around the fork's eval scripts. */
export function answersHelper(ctx: ScriptContext): string {
  return fillTemplate("mmfm_answers.py", { source: stampedSource(ctx.source), experiment: ctx.experiment });
}
