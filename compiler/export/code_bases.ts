/**
 * The code bases an export runs in: stock LLaVA (haotian-liu/LLaVA) and its LLaVA-Gemma fork
 * (IntelLabs/multimodal_cognitive_ai, folder LLaVA-Gemma). Both are LLaVA's trainer and eval code;
 * they differ in what they load, where they run and how their eval code must be called. Everything
 * the rest of the export needs to know about a code base is here, read from each at the commit named:
 *
 *   stock LLaVA (c121f0432da2)  train.py loads LLaMA (any path without `mpt`), build_vision_tower CLIP only;
 *                               GPUs (train_mem.py asks for FlashAttention-2); conversation templates
 *                               `plain` and `v1`/`vicuna_v1`, no `gemma`; its eval code runs as
 *                               scripts/v1_5/eval/*.sh run it
 *   LLaVA-Gemma (d1f2acc39b68)  train.py loads Gemma (a path with `gemma`) and LLaMA (else), CLIP and
 *                               DINOv2 (an id with `dino`); GPUs and Gaudi (optimum-habana); templates
 *                               `gemma`, `plain`, `v1`/`vicuna_v1`; its eval code needs workarounds
 *                               (benchmarks.ts) and lacks two of LLaVA's converters
 *
 * A variant goes to the first code base that runs all of it (`chooseCodeBase`): stock LLaVA for
 * LLaMA/Vicuna with CLIP on GPUs, the fork for Gemma, DINOv2 or Gaudi.
 */
import type { Plan, Template } from "../../plan/plan.js";

export type CodeBaseId = "llava" | "llava-gemma";

export interface CodeBase {
  readonly id: CodeBaseId;
  /** as the README, the scripts and the messages name it */
  readonly name: string;
  readonly repository: string;
  /** the folder of the checkout the scripts run in; "" for the repository's root */
  readonly folder: string;
  /** the commit the scripts were written against */
  readonly commit: string;
  /** the language families train.py loads */
  readonly languageFamilies: readonly string[];
  /** the vision families build_vision_tower loads */
  readonly visionFamilies: readonly string[];
  readonly accelerators: readonly ("gpu" | "gaudi")[];
  /** the model class train.py (and load_pretrained_model) picks for a checkpoint path, by substring */
  readonly modelClass: (path: string) => "mpt" | "gemma" | "llama";
  /** `--version` of train.py for a template; absent: the code base has no such conversation template */
  readonly versions: Readonly<Partial<Record<Template, string>>>;
  /** the language families whose LoRA checkpoints load_pretrained_model rebuilds (as LlavaLlamaForCausalLM) */
  readonly loraEvalFamilies: readonly string[];
  /** `--conv-mode` of the eval code for a template */
  readonly convModes: Readonly<Partial<Record<Template, string>>>;
  /** how its eval code must be called (benchmarks.ts) */
  readonly evalCode: EvalCode;
}

/** What differs between the eval code of the code bases (llava/eval/model_vqa_loader.py, model_vqa_science.py). */
export interface EvalCode {
  /**
   * model_vqa_loader fails on string question ids (it logs `question_id % 10`): it gets numbered
   * questions and writes `NAME_0.jsonl` for `--answers-file NAME.jsonl` (its `--use_accelerate`), and
   * the merged answers get their ids back (mmfm_answers.py `number`, `merge`)
   */
  readonly numberedQuestions: boolean;
  /** flags model_vqa_loader needs besides LLaVA's own */
  readonly loaderFlags: readonly (readonly [string, string])[];
  /** ScienceQA's questions with an image go through model_vqa_loader (model_vqa_science sends fp16 images to a bf16 model) */
  readonly scienceImagesThroughLoader: boolean;
  /** LLaVA's scripts/convert_*.py the checkout lacks (the README says how to copy them) */
  readonly missingConverters: readonly string[];
}

/** haotian-liu/LLaVA: LLaVA-1.5's own code base. */
export const stockLlava: CodeBase = {
  id: "llava",
  name: "LLaVA",
  repository: "haotian-liu/LLaVA",
  folder: "",
  commit: "c121f0432da27facab705978f83c4ada465e46fd",
  languageFamilies: ["llama"],
  visionFamilies: ["clip_vit"],
  accelerators: ["gpu"],
  // train.py: `mpt` in the path is MPT, anything else LlavaLlamaForCausalLM
  modelClass: (path) => (path.includes("mpt") ? "mpt" : "llama"),
  // scripts/v1_5/finetune.sh trains with `--version v1`, the eval scripts use `--conv-mode vicuna_v1`:
  // both name conv_vicuna_v1 (llava/conversation.py)
  versions: { plain: "plain", vicuna_v1: "v1" },
  convModes: { plain: "plain", vicuna_v1: "vicuna_v1" },
  loraEvalFamilies: ["llama"],
  evalCode: { numberedQuestions: false, loaderFlags: [], scienceImagesThroughLoader: false, missingConverters: [] },
};

/** IntelLabs/multimodal_cognitive_ai, folder LLaVA-Gemma: LLaVA with Gemma, DINOv2 and Gaudi. */
export const llavaGemma: CodeBase = {
  id: "llava-gemma",
  name: "LLaVA-Gemma",
  repository: "IntelLabs/multimodal_cognitive_ai",
  folder: "LLaVA-Gemma",
  commit: "d1f2acc39b686f56dff1fd24cecb4f28640d39ad",
  languageFamilies: ["gemma", "llama"],
  visionFamilies: ["clip_vit", "dinov2"],
  accelerators: ["gpu", "gaudi"],
  // train.py: `mpt` first, then `gemma`, else LLaMA
  modelClass: (path) => (path.includes("mpt") ? "mpt" : path.includes("gemma") ? "gemma" : "llama"),
  versions: { gemma: "gemma", plain: "plain", vicuna_v1: "v1" },
  convModes: { gemma: "gemma", plain: "plain", vicuna_v1: "vicuna_v1" },
  // llava/model/builder.py loads every LoRA checkpoint into LlavaLlamaForCausalLM, Gemma's too
  loraEvalFamilies: ["llama"],
  evalCode: {
    numberedQuestions: true,
    // the fork loads the model in bf16 (fp16 images fail in the projector); its logging needs an accelerator
    loaderFlags: [
      ["--image_dtype", "bfloat16"],
      ["--use_accelerate", "True"],
    ],
    scienceImagesThroughLoader: true,
    missingConverters: ["convert_gqa_for_eval.py", "convert_vqav2_for_submission.py"],
  },
};

/** In order of preference: a variant goes to the first that runs all of it. */
export const codeBases: readonly CodeBase[] = [stockLlava, llavaGemma];

/** Whether a code base loads the variant's backbones and runs every training stage's accelerator. */
function runs(codeBase: CodeBase, plan: Plan): boolean {
  return (
    codeBase.languageFamilies.includes(plan.model.language.family) &&
    codeBase.visionFamilies.includes(plan.model.vision.family) &&
    plan.stages.every((s) => s.kind !== "stage" || codeBase.accelerators.includes(s.accelerator))
  );
}

/**
 * The code base a variant is exported for: the first that loads its backbones and runs its
 * accelerators; when none does, the first that loads its language model, else its vision tower, else
 * stock LLaVA, whose checks then say what it cannot run.
 */
export function chooseCodeBase(plan: Plan): CodeBase {
  const { language, vision } = plan.model;
  return (
    codeBases.find((c) => runs(c, plan)) ??
    codeBases.find((c) => c.languageFamilies.includes(language.family)) ??
    codeBases.find((c) => c.visionFamilies.includes(vision.family)) ??
    stockLlava
  );
}

/** `IntelLabs/multimodal_cognitive_ai, folder LLaVA-Gemma` or `haotian-liu/LLaVA`. */
export function whereFrom(codeBase: CodeBase): string {
  return codeBase.folder ? `${codeBase.repository}, folder ${codeBase.folder}` : codeBase.repository;
}

/** Where the scripts of an export find a code base's checkout, and the env.sh function that enters it. */
export interface Checkout {
  readonly codeBase: CodeBase;
  /** the environment variable naming the checkout */
  readonly variable: "LLAVA_DIR" | "LLAVA_GEMMA_DIR";
  /** the env.sh function that checks the checkout and runs from it */
  readonly enter: "mmfm_enter_llava" | "mmfm_enter_llava_gemma";
}

/**
 * The checkouts of an export that uses `used` (in `codeBases` order): `LLAVA_DIR` names the checkout
 * of its only code base; an export with variants in both has `LLAVA_DIR` for stock LLaVA and
 * `LLAVA_GEMMA_DIR` for the fork.
 */
export function checkoutsOf(used: readonly CodeBase[]): Checkout[] {
  const ordered = codeBases.filter((c) => used.includes(c));
  if (ordered.length <= 1) return ordered.map((codeBase) => ({ codeBase, variable: "LLAVA_DIR", enter: "mmfm_enter_llava" }));
  return ordered.map((codeBase) =>
    codeBase.id === "llava" ? { codeBase, variable: "LLAVA_DIR", enter: "mmfm_enter_llava" } : { codeBase, variable: "LLAVA_GEMMA_DIR", enter: "mmfm_enter_llava_gemma" },
  );
}
