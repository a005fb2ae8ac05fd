/**
 * README.md of an export: the code bases its variants run in and how to install each, where the data
 * goes, how to launch (one machine or Slurm), where the results land, the path substitutions, and
 * every variant's stages with their batch split and memory estimate.
 */
import type { DatasetPlan, Plan } from "../../plan/plan.js";
import { gib } from "../memory.js";
import { codeBases, stockLlava, type CodeBase } from "./code_bases.js";
import { gaudiConfigFile } from "./deepspeed.js";
import type { ScriptContext } from "./scripts.js";
import { evaluated, slurmDefaults, type SlurmSettings } from "./slurm.js";
import type { ExportedVariant, ExportSettings } from "./types.js";

/** `a  # comment` lines, the comments aligned. */
function commented(lines: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...lines.filter(([, c]) => c).map(([l]) => l.length));
  return lines.map(([l, c]) => (c ? `${l.padEnd(width)}  # ${c}` : l)).join("\n");
}

/** The training stages and benchmark families of some plans. */
function uses(plans: readonly Plan[]) {
  const stages = plans.flatMap((p) => p.stages.flatMap((s) => (s.kind === "stage" ? [s] : [])));
  const benchmarks = new Set(plans.flatMap((p) => p.stages.flatMap((s) => (s.kind === "eval" ? s.data.map((d) => d.family) : []))));
  return { stages, benchmarks };
}

/** The commands that install one code base, for the variants exported for it. */
function installCommands(codeBase: CodeBase, plans: readonly Plan[]): [string, string][] {
  const { stages, benchmarks } = uses(plans);
  const gpuTraining = stages.some((s) => s.accelerator === "gpu");
  const gaudi = stages.some((s) => s.accelerator === "gaudi");
  const clone = codeBase.repository.split("/")[1];
  const lines: [string, string][] = [
    [`git clone https://github.com/${codeBase.repository}.git`, ""],
    ["# the commit these scripts were written against", ""],
    [`git -C ${clone} checkout ${codeBase.commit}`, ""],
    [`cd ${codeBase.folder ? `${clone}/${codeBase.folder}` : clone}`, ""],
  ];
  if (codeBase.id === "llava") {
    // LLaVA's README: `pip install -e .`, then the `train` extra (DeepSpeed, wandb) and flash-attn
    lines.push(["pip install -e .", "GPU nodes: LLaVA and its eval code"]);
    lines.push(['pip install -e ".[train]"', "training: DeepSpeed, wandb"]);
  } else {
    lines.push(["pip install -r requirements.txt", gpuTraining ? "GPU nodes: GPU training and every evaluation" : "GPU nodes: the evaluations (CUDA only)"]);
  }
  if (gpuTraining) lines.push(["pip install flash-attn --no-build-isolation", "GPU training: train_mem.py asks for FlashAttention-2"]);
  if (gaudi) lines.push(["pip install -r requirements-gaudi.txt", "Gaudi nodes (an environment of their own): optimum-habana"]);
  if (stages.some((s) => s.report_to === "tensorboard")) lines.push(["pip install tensorboard", "--report_to tensorboard; not in the requirements"]);
  if (codeBase.id !== "llava" && stages.some((s) => s.report_to === "wandb")) lines.push(["pip install wandb", "--report_to wandb; not in the requirements"]);
  const converters = codeBase.evalCode.missingConverters.filter(
    (f) => (f === "convert_gqa_for_eval.py" && benchmarks.has("gqa")) || (f === "convert_vqav2_for_submission.py" && benchmarks.has("vqav2")),
  );
  if (converters.length) {
    lines.push(
      [`# LLaVA's converters ${codeBase.name} lacks, from haotian-liu/LLaVA`, ""],
      [`for f in ${converters.join(" ")}; do`, ""],
      [`  curl -fsSL -o "scripts/$f" "https://raw.githubusercontent.com/haotian-liu/LLaVA/${stockLlava.commit}/scripts/$f"`, ""],
      ["done", ""],
    );
  }
  return lines;
}

/** What a code base is, and why the variants exported for it are there. */
function why(codeBase: CodeBase): string {
  return codeBase.id === "llava"
    ? "LLaMA/Vicuna with CLIP on GPUs: LLaVA-1.5's own code base"
    : "Gemma, DINOv2, Gaudi: LLaVA with Gemma and DINOv2, and optimum-habana for Gaudi stages; haotian-liu/LLaVA has none of them";
}

function codeBaseTable(ctx: ScriptContext, variants: readonly ExportedVariant[]): string {
  const rows = ctx.checkouts.map((c) => {
    const mine = variants.filter((v) => v.codeBase === c.codeBase.id);
    const listed = mine.length <= 4 ? `: ${mine.map((v) => `\`${v.dir}\``).join(", ")}` : "";
    return `| **${c.codeBase.name}** | \`${c.codeBase.repository}\`${c.codeBase.folder ? `, folder \`${c.codeBase.folder}\`` : ""}, at \`${c.codeBase.commit.slice(0, 12)}\` | \`${c.variable}\` | ${mine.length}${listed} | ${why(c.codeBase)} |`;
  });
  return `| code base | repository | checkout | variants | for |
| --- | --- | --- | --- | --- |
${rows.join("\n")}`;
}

function install(ctx: ScriptContext, plans: readonly Plan[], variants: readonly ExportedVariant[]): string {
  const sections = ctx.checkouts.map((c) => {
    const mine = plans.filter((p) => variants.find((v) => v.id === p.id)?.codeBase === c.codeBase.id);
    const own = ctx.checkouts.length > 1 ? ", in a Python environment of its own: the two code bases pin different versions of transformers" : "";
    return `## Install ${c.codeBase.name}

Once, on the cluster (the checkout is \`${c.variable}\`${own}):

\`\`\`sh
${commented(installCommands(c.codeBase, mine))}
\`\`\`
`;
  });
  const hubIds = [...new Set(plans.flatMap((p) => [p.model.language, p.model.vision].flatMap((c) => (c.weights === null && c.hub_id !== null ? [c.hub_id] : []))))].sort();
  const gated = hubIds.filter((id) => id.startsWith("google/gemma") || id.startsWith("meta-llama/"));
  const models = hubIds.length
    ? `
The backbones come from the Hugging Face Hub (${hubIds.map((id) => `\`${id}\``).join(", ")}).${
        gated.length
          ? ` ${gated.map((id) => `\`${id}\``).join(", ")} ${gated.length === 1 ? "is" : "are"} gated: accept the licence on ${gated.length === 1 ? "its page" : "their pages"} (${gated.map((id) => `huggingface.co/${id}`).join(", ")}) with the account whose token the jobs use (\`huggingface-cli login\`, or \`HF_TOKEN\` in the environment).`
          : ""
      } Nodes without internet need them in a shared Hugging Face cache (\`HF_HOME\`) first:

\`\`\`sh
${hubIds.map((id) => `huggingface-cli download ${id}`).join("\n")}
\`\`\`
`
    : "";
  return sections.join("\n") + models;
}

function slurmTable(plans: readonly Plan[], slurm: SlurmSettings): string {
  const gaudi = plans.some((p) => p.stages.some((s) => s.kind === "stage" && s.accelerator === "gaudi"));
  const devices = Math.max(...plans.map((p) => p.cluster.devices));
  const gpus = slurm.eval.gpus ?? slurmDefaults.evalGpus;
  const partition = (p: string | null) => (p ? `\`${p}\`` : "the cluster's default");
  const rows = [
    `| \`train.sbatch\` | ${plans.length} (every variant) | ${partition(slurm.train.partition)} | ${slurm.train.time ?? slurmDefaults.trainTime} | ${slurm.train.cpus ?? slurmDefaults.cpusPerDevice * devices} | ${gaudi ? "a whole node (`--exclusive`)" : `${devices} GPUs`} | \`VARIANT/train.sh\` |`,
  ];
  const evals = evaluated(plans);
  if (evals.length) {
    rows.push(
      `| \`eval.sbatch\` | ${evals.length} (the variants with benchmarks) | ${partition(slurm.eval.partition)} | ${slurm.eval.time ?? slurmDefaults.evalTime} | ${slurm.eval.cpus ?? slurmDefaults.cpusPerDevice * gpus} | ${gpus} GPU${gpus === 1 ? "" : "s"} | \`VARIANT/eval.sh\` |`,
    );
  }
  return `| job | array tasks | partition | time | CPUs | devices | runs |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}`;
}

/** The README; `configs` are the DeepSpeed and Gaudi configuration files beside it. */
export function readme(ctx: ScriptContext, plans: readonly Plan[], variants: readonly ExportedVariant[], configs: readonly string[], settings: ExportSettings): string {
  const both = ctx.checkouts.length > 1;
  const rows = variants.flatMap((v) =>
    v.stages.map((s) => {
      const split = s.perDeviceBatch !== null ? `${s.perDeviceBatch} × ${s.devices} × ${s.accumulation}` : "-";
      const mem = `${gib(s.memory.total)}${s.memory.fits ? "" : " (will not fit)"}`;
      const codeBase = both ? ` ${codeBases.find((c) => c.id === v.codeBase)!.name} |` : "";
      return `| \`${v.dir}\` |${codeBase} ${s.name} | ${s.scripts.map((f) => `\`${f}\``).join("<br>")} | ${split} | ${mem} |`;
    }),
  );
  const evals = evaluated(plans).length > 0;
  const fork = ctx.checkouts.find((c) => c.codeBase.id === "llava-gemma");
  const forkEvaluates = fork !== undefined && plans.some((p) => variants.find((v) => v.id === p.id)?.codeBase === "llava-gemma" && p.stages.some((s) => s.kind === "eval"));
  const one = variants[0]?.dir ?? "VARIANT";
  const checkoutPath = (c: CodeBase) => `/path/to/${c.repository.split("/")[1]}${c.folder ? `/${c.folder}` : ""}`;
  const launch = commented([
    ...ctx.checkouts.map((c): [string, string] => [`export ${c.variable}=${checkoutPath(c.codeBase)}`, both ? `the ${c.codeBase.name} checkout` : ""]),
    settings.dataDir === null ? ["export DATA_DIR=/path/to/data", "the data root (required)"] : [`export DATA_DIR=${settings.dataDir}`, "the data root (this is the default)"],
    [`MMFM_DRY_RUN=1 bash ${one}/run.sh`, "print the commands"],
    [`bash ${one}/run.sh`, `one variant on this machine${evals ? " (its benchmarks need CUDA GPUs)" : ""}`],
    ["bash submit.sh", evals ? "every variant on Slurm: training, then each variant's benchmarks" : "every variant on Slurm"],
  ]);
  const data = new Set(
    plans.flatMap((p) =>
      p.stages.flatMap((s) => {
        const sets: readonly DatasetPlan[] = s.data;
        return sets.flatMap((d) => ("annotations" in d ? [d.annotations, ...("images" in d && d.images ? [d.images] : [])] : []));
      }),
    ),
  );
  const relative = [...data].filter((p) => !p.startsWith("/")).sort();
  const lora = plans.some((p) => p.stages.some((s) => s.kind === "stage" && s.lora));
  const outputs = [...new Set(plans.flatMap((p) => p.stages.flatMap((s) => (s.kind === "stage" ? [`llava-${p.model.language.family}${s.lora ? "-lora" : ""}`] : []))))].sort();
  const checkoutRows = ctx.checkouts.map((c) => {
    const scripts = both ? `the ${c.codeBase.name} variants' scripts` : "the scripts";
    const unset = c.variable === "LLAVA_DIR" ? "the current folder" : "none: required";
    const row = `| \`${c.variable}\` | ${unset} | the ${c.codeBase.name} checkout ${scripts} run in |`;
    const activate = c.variable.replace(/_DIR$/, "_ACTIVATE");
    return both ? `${row}\n| \`${activate}\` | none | a script those scripts source first, e.g. \`/path/to/${c.codeBase.id}-env/bin/activate\`: the ${c.codeBase.name} Python environment |` : row;
  });
  const intro = both
    ? "from a checkout of the code base the variant is exported for, the first of these that runs all of it (its backbones, its accelerators)"
    : `from a checkout of **${ctx.checkouts[0].codeBase.name}**`;
  return `<!-- generated by mmfmc from ${ctx.source}, do not edit -->
# ${ctx.experiment}: launch scripts for LLaVA's trainer and eval scripts

${variants.length} variant${variants.length === 1 ? "" : "s"}, exported by \`mmfmc export --target llava\`. Each training stage runs
\`deepspeed llava/train/train_mem.py\`, each benchmark LLaVA's eval code, ${intro}:

${codeBaseTable(ctx, variants)}

This folder can be copied to the cluster as it is: its paths are relative to \`DATA_DIR\`, ${ctx.checkouts.map((c) => `\`${c.variable}\``).join(", ")} and itself.

${install(ctx, plans, variants)}
## Data

\`DATA_DIR\` is the one data root: the spec's relative paths are relative to it${settings.dataDir === null ? "" : ` (default \`${settings.dataDir}\`, from \`mmfmc export --data\`)`}. This export reads:

${relative.map((p) => `- \`$DATA_DIR/${p}\``).join("\n")}
${
  evals
    ? `
The benchmarks are laid out as LLaVA's \`docs/Evaluation.md\` says (its \`eval.zip\` under
\`playground/data/eval\`, GQA's \`eval/eval.py\` under \`gqa/data\`, MME's \`eval_tool\`, POPE's \`coco\` label files).
`
    : ""
}
## Launch

\`\`\`sh
${launch}
\`\`\`

\`VARIANT/train.sh\` runs the variant's training stages in order${evals ? ", `VARIANT/eval.sh` its benchmarks (each runs even when another fails)" : ""}, \`VARIANT/run.sh\` both;
each stage script can also be run alone. A stage records its configuration key in its checkpoint folder
and is skipped once done, so a rerun resumes (the trainer itself resumes from the last complete
\`checkpoint-*\`; one without \`trainer_state.json\`, as a connector-only stage saves them, is moved aside
into \`unresumable-DATE/\`). Variants that share a stage (same configuration up to it) share its folder and
run it once.

\`submit.sh\` queues the Slurm jobs${evals ? "; the evaluation task of a variant waits for the training task of the same variant (`--dependency=aftercorr`, Slurm's afterok task by task)" : ""}. Its arguments go to every \`sbatch\` call (e.g. \`--account=NAME\`); the settings below go with the jobs.

${slurmTable(plans, settings.slurm)}

(\`mmfmc export --partition/--time/--cpus${evals ? " --eval-partition/--eval-time/--eval-cpus/--eval-gpus" : ""}\` set these.)

| variable | default | meaning |
| --- | --- | --- |
| \`DATA_DIR\` | ${settings.dataDir === null ? "none: required" : `\`${settings.dataDir}\``} | the data root (above) |
${checkoutRows.join("\n")}
| \`CHECKPOINTS\` | \`./checkpoints\` here | stage outputs: \`CHECKPOINTS/VARIANT/N-STAGE/${outputs.length === 1 ? outputs[0] : "llava-FAMILY"}\` |
| \`RESULTS\` | \`./results\` here | answers and scores of the benchmarks |
| \`MMFM_DRY_RUN\` | 0 | 1 prints the commands instead of running them |
| \`MMFM_SKIP_DEVICE_CHECK\` | 0 | 1 skips the check that exactly the declared devices are visible (several nodes) |
${
  evals
    ? `
## Results

Each benchmark leaves \`$RESULTS/VARIANT/N-EVAL/NAME.jsonl\`, its answers in LLaVA's format (one line per
question, the benchmark's own question ids, in the question file's order), and \`NAME.txt\`, what the
benchmark's official scorer printed (for VQAv2: where the EvalAI upload file is). Its work folder
\`NAME/\` is emptied when the benchmark runs again. \`mmfmc score\` scores answers with mmfm's scorers.
The questions are split over the task's GPUs as LLaVA's \`scripts/v1_5/eval/gqa.sh\` splits them, and
\`mmfm_answers.py\` merges the chunks' answers, checking that every question has exactly one.
${
  ctx.checkouts.some((c) => c.codeBase.id === "llava") && plans.some((p) => variants.find((v) => v.id === p.id)?.codeBase === "llava" && p.stages.some((s) => s.kind === "eval"))
    ? `
LLaVA's eval code runs as its \`scripts/v1_5/eval\` scripts run it (ScienceQA in one \`model_vqa_science\` process, as \`sqa.sh\`).
`
    : ""
}${
  forkEvaluates
    ? `
LLaVA-Gemma's eval code needs some care to run, which the scripts take: \`model_vqa_loader\` gets
\`--use_accelerate True\` and \`--image_dtype bfloat16\` and numbered questions (its logging fails without
an accelerator and for string question ids; the model is loaded in bf16), and ScienceQA's questions
with an image go through it too (\`model_vqa_science\` sends fp16 images); \`mmfm_answers.py\` numbers
the questions and gives the merged answers their ids back.
`
    : ""
}`
    : ""
}
## Path substitutions

LLaVA's scripts use \`./playground/data/...\` relative to the LLaVA checkout and
\`./checkpoints/NAME\`${fork ? "; LLaVA-Gemma's use `$DATA_DIR/...`" : ""}. Here:

- a dataset's \`annotations\` is \`--data_path\` and its \`images\` is \`--image_folder\`, under \`$DATA_DIR\` when relative
  (with \`DATA_DIR=$LLAVA_DIR\`, the std paths \`playground/data/...\` are LLaVA's own);
- \`--model_name_or_path\` and \`--vision_tower\` are the backbones' \`hub_id\`, or their \`weights\` folder when given;
- \`--output_dir\` is \`$CHECKPOINTS/VARIANT/N-STAGE/llava-FAMILY\` (${outputs.map((o) => `\`${o}\``).join(", ")}: LLaVA's loaders pick the model
  class by the folder's name, which must hold \`llava\`${outputs.some((o) => o.startsWith("llava-gemma")) ? ", and `gemma` for Gemma" : ""}${lora ? ", and `lora` for LoRA adapters, which an evaluation loads with `--model-base`, the stage's base model" : ""}); \`--pretrain_mm_mlp_adapter\` is the previous stage's \`mm_projector.bin\`;
- \`--deepspeed\`${configs.includes(gaudiConfigFile) ? " and `--gaudi_config`" : ""} name the files beside this README (${configs.map((c) => `\`${c}\``).join(", ")}${configs.some((c) => c === "zero2.json" || c === "zero3.json") ? ": `zero2.json` and `zero3.json` are LLaVA's `scripts/zero2.json` and `zero3.json`" : ""}).

Flags not taken from the spec are those every LLaVA-1.5 script writes: \`--mm_use_im_start_end False\`,
\`--mm_use_im_patch_token False\`, \`--per_device_eval_batch_size 4\`, \`--evaluation_strategy "no"\`,
\`--logging_steps 1\`, \`--lazy_preprocess True\`. Flags at the trainer's default are omitted as LLaVA's
scripts omit them (\`--image_aspect_ratio\` for \`crop\`, \`--group_by_modality_length\` when false, the Adam
betas, \`--max_grad_norm 1\`, \`--seed 42\`, \`--tf32\` when the spec leaves it unset). \`--version\` is the
stage's template as train.py's conversation templates name it (\`vicuna_v1\` is LLaVA's \`v1\`, \`plain\` and \`gemma\` themselves).

## Stages

Batch is per-device batch × devices × gradient accumulation. Memory is mmfm's per-device estimate
(docs/export.md); leave some headroom.

| variant |${both ? " code base |" : ""} stage | scripts | batch | memory per device |
| --- |${both ? " --- |" : ""} --- | --- | --- | --- |
${rows.join("\n")}
`;
}
