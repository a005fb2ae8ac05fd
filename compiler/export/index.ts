/**
 * Export: plans -> the launch scripts of LLaVA's trainer on DeepSpeed (`mmfmc export --target llava`).
 *
 * For one experiment it returns `{ path, text }[]` (the CLI writes them) and the diagnostics:
 *
 *   README.md                   how to install LLaVA-Gemma and launch, the path substitutions, every stage
 *   env.sh                      settings and helpers every script sources (paths, device check, locks)
 *   submit.sh                   queues train.sbatch, then eval.sbatch task by task after it
 *   train.sbatch                a Slurm array: one task per variant running its training stages in order
 *   eval.sbatch                 a Slurm array on GPU nodes: one task per variant running its benchmarks
 *   mmfm_answers.py             numbered questions and merged answers around the fork's eval scripts
 *   zero2.json, ...             the DeepSpeed configurations the stages use (LLaVA's, or LLaVA-Gemma's for Gaudi)
 *   VARIANT/train.sh            the variant's training stages in order
 *   VARIANT/eval.sh             the variant's benchmarks
 *   VARIANT/run.sh              train.sh then eval.sh, on one machine
 *   VARIANT/1-pretrain.sh       `deepspeed llava/train/train_mem.py` with the stage's flags
 *   VARIANT/3-benchmarks/gqa.sh one script per benchmark, after LLaVA's scripts/v1_5/eval/
 *
 * The rooms: launch.ts plans each variant's stages (checkpoints.ts says what the trainer can load),
 * flags.ts writes the trainer's flags (shell.ts the shell words), deepspeed.ts the DeepSpeed
 * configurations, scripts.ts, benchmarks.ts and slurm.ts the scripts (env.sh and mmfm_answers.py from
 * templates/), readme.ts the README; problems.ts holds every diagnostic; published.ts LLaVA-Gemma's
 * own per-device batches. Whatever the trainer cannot express is an error naming
 * the field (E0504), and a global batch that does not split into per-device batch × devices ×
 * accumulation is E0505; a stage that will not fit in device memory is a warning (W0501) with the
 * smallest change that makes it fit.
 */
import { Diagnostics } from "../../core/diagnostics.js";
import { variantFolder } from "../../plan/names.js";
import type { Plan } from "../../plan/plan.js";
import { estimateStage, fitMemory, stageZero } from "../memory.js";
import { benchmarkScript } from "./benchmarks.js";
import { deepSpeedFile, deepSpeedText, gaudiConfigFile, gaudiConfigText } from "./deepspeed.js";
import { checkoutsOf, chooseCodeBase } from "./code_bases.js";
import { planLaunches, type PlannedVariant } from "./launch.js";
import { mixedAccelerators, VariantProblems, wontFit, type Unfit } from "./problems.js";
import { readme } from "./readme.js";
import { answersHelper, envScript, evalAll, runScript, trainAll, trainScript } from "./scripts.js";
import { evalSbatch, evaluated, noRequest, submitScript, trainSbatch } from "./slurm.js";
import type { ExportedStage, ExportedVariant, ExportInput, ExportResult } from "./types.js";

export type { ExportedStage, ExportedVariant, ExportInput, ExportResult, ExportSettings } from "./types.js";
export { partitionProblem, slurmDefaults, slurmTimeProblem, type SlurmRequest, type SlurmSettings } from "./slurm.js";
export { knownCheckpointIds } from "./checkpoints.js";
export { chooseCodeBase, codeBases, llavaGemma, stockLlava, type CodeBase, type CodeBaseId } from "./code_bases.js";
export { flagNumber, shellWord } from "./shell.js";

export function exportLlava(input: ExportInput): ExportResult {
  const diagnostics = new Diagnostics();
  const failed: string[] = [];
  const accelerators = new Set(input.plans.flatMap((p) => p.stages.flatMap((s, i) => (s.kind === "stage" ? [[s.accelerator, p, i] as const] : []))));
  const kinds = new Set([...accelerators].map(([a]) => a));
  if (kinds.size > 1) {
    // one Slurm job asks for one kind of node: the experiment as a whole cannot be exported
    const [, plan, index] = [...accelerators].find(([a]) => a === "gaudi")!;
    const problems = new VariantProblems(diagnostics, plan, input.places);
    problems.report(mixedAccelerators(problems.at(`/stages/${index}/accelerator`)));
    return { files: [], diagnostics: diagnostics.items, variants: [], failed: input.plans.map((p) => p.id) };
  }

  // each variant in its code base; one that cannot be exported is its own error, the others go on
  const owner = new Map<string, string>();
  const exported: { plan: Plan; variant: PlannedVariant; problems: VariantProblems }[] = [];
  for (const plan of input.plans) {
    const problems = new VariantProblems(diagnostics, plan, input.places);
    // the variant claims the stages it trains first only once it is exported
    const claims = new Map(owner);
    const variant = planLaunches(plan, chooseCodeBase(plan), claims, problems);
    if (!variant) {
      failed.push(plan.id);
      continue;
    }
    for (const [key, folder] of claims) owner.set(key, folder);
    exported.push({ plan, variant, problems });
  }
  if (exported.length === 0) return { files: [], diagnostics: diagnostics.items, variants: [], failed };

  const plans = exported.map((e) => e.plan);
  const ctx = { experiment: input.experiment, source: input.source, checkouts: checkoutsOf(exported.map((e) => e.variant.codeBase)) };
  const files: { path: string; text: string }[] = [];
  const variants: ExportedVariant[] = [];
  const unfit: Unfit[] = [];
  /** the configuration files the stages name, by file name */
  const configs = new Map<string, string>();
  for (const { plan, variant, problems } of exported) {
    const stages: ExportedStage[] = [];
    for (const launch of variant.launches) {
      const memory = estimateStage(plan.model, launch.plan, plan.cluster);
      if (launch.kind === "stage") {
        const fix = fitMemory(plan.model, launch.plan, plan.cluster);
        if (!memory.fits) unfit.push({ id: plan.id, stage: launch.plan.name, memory, fix, at: problems.declaration(`/stages/${launch.index}`) });
        const deepSpeed = { zero: stageZero(launch.plan, plan.cluster), accelerator: launch.plan.accelerator };
        configs.set(deepSpeedFile(deepSpeed), deepSpeedText(deepSpeed));
        if (launch.plan.accelerator === "gaudi") configs.set(gaudiConfigFile, gaudiConfigText);
        files.push({ path: launch.file, text: trainScript(ctx, plan, variant, launch, memory, fix) });
        stages.push({ name: launch.plan.name, kind: "stage", scripts: [launch.file], devices: plan.cluster.devices, perDeviceBatch: launch.perDevice, accumulation: launch.accumulation, memory, fix: fix ?? null });
      } else {
        for (const f of launch.files) files.push({ path: f.file, text: benchmarkScript(ctx, plan, variant, launch, f.bench, memory) });
        stages.push({ name: launch.plan.name, kind: "eval", scripts: launch.files.map((f) => f.file), devices: 1, perDeviceBatch: null, accumulation: null, memory, fix: null });
      }
    }
    const folder = variantFolder(plan.id);
    const { launches } = variant;
    files.push({ path: `${folder}/train.sh`, text: trainAll(ctx, plan, launches) });
    if (launches.some((l) => l.kind === "eval")) files.push({ path: `${folder}/eval.sh`, text: evalAll(ctx, plan, launches) });
    files.push({ path: `${folder}/run.sh`, text: runScript(ctx, plan, launches) });
    variants.push({ id: plan.id, dir: folder, codeBase: variant.codeBase.id, stages });
  }
  for (const d of wontFit(unfit)) diagnostics.add(d);
  const configFiles = [...configs.keys()].sort();
  for (const path of configFiles) files.push({ path, text: configs.get(path)! });
  const settings = input.settings ?? { dataDir: null, slurm: { train: noRequest, eval: noRequest } };
  files.push({ path: "env.sh", text: envScript(ctx, settings.dataDir) });
  files.push({ path: "submit.sh", text: submitScript(ctx, plans) });
  files.push({ path: "train.sbatch", text: trainSbatch(ctx, plans, settings.slurm.train) });
  if (evaluated(plans).length > 0) {
    files.push({ path: "eval.sbatch", text: evalSbatch(ctx, plans, settings.slurm.eval) });
    files.push({ path: "mmfm_answers.py", text: answersHelper(ctx) });
  }
  files.push({ path: "README.md", text: readme(ctx, plans, variants, configFiles, settings) });
  return { files, diagnostics: diagnostics.items, variants, failed };
}
