/**
 * Planning the launches of a variant in its code base (code_bases.ts): each training stage becomes one
 * `deepspeed` launch that starts from what the stage before it left, each eval stage one script per
 * benchmark after the training stage it follows. What the trainer cannot express is reported here, per
 * stage and field.
 */
import type { BenchmarkPlan, EvalStagePlan, Plan, TrainStagePlan } from "../../plan/plan.js";
import { variantFolder } from "../../plan/names.js";
import { clusterStage, validMicroBatches } from "../memory.js";
import { convMode, languageModel, trainVersion, visionTower } from "./checkpoints.js";
import type { CodeBase } from "./code_bases.js";
import * as problem from "./problems.js";
import type { VariantProblems } from "./problems.js";

export interface TrainLaunch {
  readonly kind: "stage";
  readonly index: number;
  /** the stage's pointer into the plan (`/stages/I`) */
  readonly at: string;
  readonly plan: TrainStagePlan;
  readonly file: string;
  /** --version: the stage's template as the code base's train.py names it */
  readonly version: string;
  /** `$CHECKPOINTS/...` folder the stage writes (shared by the variants that share the stage) */
  readonly outputDir: string;
  /** --model_name_or_path, a shell word */
  readonly model: string;
  /** the stage whose output this one starts from, if any */
  readonly after: TrainLaunch | undefined;
  readonly adapter: string | undefined;
  readonly connectorOnly: boolean;
  /** the stage saves a full checkpoint (it trained the language model), not only mm_projector.bin */
  readonly trainsLanguage: boolean;
  readonly perDevice: number;
  readonly accumulation: number;
}

export interface EvalLaunch {
  readonly kind: "eval";
  readonly index: number;
  readonly plan: EvalStagePlan;
  readonly folder: string;
  readonly files: readonly { readonly bench: BenchmarkPlan; readonly file: string }[];
  readonly after: TrainLaunch;
}

export type Launch = TrainLaunch | EvalLaunch;

/** The benchmarks LLaVA's scripts/v1_5/eval has a script for. */
const benchmarkScripts = new Set(["gqa", "vqav2", "pope", "mme", "scienceqa"]);

/** A variant's launches in its code base, with what every script of the variant shares. */
export interface PlannedVariant {
  readonly codeBase: CodeBase;
  readonly launches: readonly Launch[];
  /** --vision_tower */
  readonly tower: string;
  /** --conv-mode of its evaluations ("" when it has none) */
  readonly convMode: string;
}

/**
 * The stages of a variant as launches in `codeBase`, or undefined after reporting what the trainer
 * cannot express. `owner` maps a stage's cache key to the folder of the first variant that trains it
 * (shared by all).
 */
export function planLaunches(plan: Plan, codeBase: CodeBase, owner: Map<string, string>, problems: VariantProblems): PlannedVariant | undefined {
  const labels = variantFolder(plan.id);
  const tower = visionTower(plan, codeBase, problems);
  const language = languageModel(plan, codeBase, problems);
  const evaluates = plan.stages.some((s) => s.kind === "eval");
  const mode = evaluates ? convMode(plan, codeBase, problems) : "";
  if (plan.model.image_token !== "<image>") problems.report(problem.imageToken(problems.at("/model/image_token"), plan.model.image_token));
  const launches: Launch[] = [];
  let last: TrainLaunch | undefined;
  plan.stages.forEach((stage, index) => {
    const at = `/stages/${index}`;
    const number = index + 1;
    if (stage.kind === "eval") {
      if (!last) {
        problems.report(problem.evalBeforeTraining(problems.at(at), stage.name));
        return;
      }
      if (last.plan.lora && !codeBase.loraEvalFamilies.includes(plan.model.language.family)) {
        problems.report(problem.loraEval(problems.at(`${last.at}/lora`), last.plan.name, plan.model.language.family, codeBase));
      }
      // a LoRA checkpoint holds the projector only when the stage trained it, or its base model (a full checkpoint) has it
      if (last.plan.lora && !last.plan.train.includes("connector") && (last.adapter !== undefined || last.after === undefined)) {
        problems.report(problem.loraFrozenConnector(problems.at(`${last.at}/train`), last.plan.name, last.adapter !== undefined, codeBase));
      }
      const files: { bench: BenchmarkPlan; file: string }[] = [];
      const folder = `${labels}/${number}-${stage.name}`;
      const names = new Set<string>();
      stage.data.forEach((d, i) => {
        if (d.family === "synthetic_shapes") {
          problems.report(problem.syntheticBenchmark(problems.at(`${at}/data/${i}`)));
          return;
        }
        if (!benchmarkScripts.has(d.family)) {
          problems.report(problem.unknownBenchmark(problems.at(`${at}/data/${i}`), d.family));
          return;
        }
        if (d.size !== null) problems.report(problem.partOfBenchmark(problems.at(`${at}/data/${i}/size`), d.size, d.name ?? d.family));
        let name = d.name ?? d.family;
        for (let k = 2; names.has(name); k++) name = `${d.name ?? d.family}_${k}`;
        names.add(name);
        files.push({ bench: d, file: `${folder}/${name}.sh` });
      });
      launches.push({ kind: "eval", index, plan: stage, folder, files, after: last });
      return;
    }
    const cluster = plan.cluster;
    // train.py reads one --data_path: several datasets or a mixture are this variant's error
    const data = stage.data[0];
    if (stage.data.length > 1 || stage.mixture !== null) {
      const field = stage.data.length > 1 ? "data" : "mixture";
      problems.report(problem.severalDatasets(problems.at(`${at}/${field}`), stage.name, field, codeBase));
    } else if (data.family !== "llava_json") {
      problems.report(problem.notConversations(problems.at(`${at}/data/0`), data.family));
    } else if (data.images === null) {
      problems.report(problem.noImages(problems.at(`${at}/data/0/images`), data.name));
    }
    const version = trainVersion(plan, index, codeBase, problems);
    if (stage.objective !== "llava") problems.report(problem.pretrainingObjective(problems.at(`${at}/objective`), stage.objective, stage.name));
    // the vision tower stays frozen in both code bases (so `vision_lr` of a stage that does not train it changes nothing)
    if (stage.train.includes("vision")) problems.report(problem.trainsVision(problems.at(`${at}/train`), stage.name, codeBase));
    if (last?.plan.lora) problems.report(problem.trainAfterLora(problems.at(at), stage.name, last.plan.name, codeBase));
    if (stage.accelerator === "gaudi" && stage.precision !== "bf16") problems.report(problem.gaudiPrecision(problems.at(`${at}/precision`), stage.precision));
    // micro_batch left at its default (the whole batch, as on one device): the per-device batch is
    // the largest split of the batch over the devices that fits in memory (else the smallest split)
    stage = clusterStage(plan.model, stage, cluster, plan.spans[`${at}/micro_batch`] !== undefined);
    const accumulation = stage.batch / (stage.micro_batch * cluster.devices);
    if (!Number.isInteger(accumulation) || accumulation < 1) {
      const valid = validMicroBatches(stage.batch, cluster.devices);
      problems.report(problem.batchSplit(problems.at(`${at}/micro_batch`), stage.name, stage.batch, cluster.devices, stage.micro_batch, valid));
    }
    const connectorOnly = stage.train.length === 1 && stage.train[0] === "connector";
    const trainsLanguage = stage.train.includes("language");
    // each stage starts from what the previous one left: a full checkpoint when it trained the
    // language model, the base model plus its mm_projector.bin when it trained the connector only
    let model = language ?? "";
    let adapter: string | undefined;
    if (last) {
      model = last.trainsLanguage ? `"${last.outputDir}"` : last.model;
      adapter = last.trainsLanguage ? undefined : `"${last.outputDir}/mm_projector.bin"`;
    }
    const key = stage.cache_key;
    if (!owner.has(key)) owner.set(key, `${labels}/${number}-${stage.name}`);
    const launch: TrainLaunch = {
      kind: "stage",
      index,
      at,
      plan: stage,
      file: `${labels}/${number}-${stage.name}.sh`,
      version: version ?? "",
      // load_pretrained_model rebuilds LoRA weights only from a folder whose name holds `lora`
      outputDir: `$CHECKPOINTS/${owner.get(key)}/llava-${plan.model.language.family}${stage.lora ? "-lora" : ""}`,
      model,
      after: last,
      adapter,
      connectorOnly,
      perDevice: stage.micro_batch,
      accumulation,
      trainsLanguage,
    };
    launches.push(launch);
    last = launch;
  });
  if (!tower || !language || mode === undefined || problems.failed) return undefined;
  return { codeBase, launches, tower, convMode: mode };
}
