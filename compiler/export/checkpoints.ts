/**
 * What a code base's trainer can load (code_bases.ts): the checkpoints of the backbones (by hub id or
 * local folder), the vision towers its build_vision_tower accepts, the language checkpoints its
 * train.py recognises by path, the conversation template, and the projector type of a connector. Each
 * returns the shell word the trainer gets, or reports why the trainer cannot load what the spec asks for.
 */
import type { Plan } from "../../plan/plan.js";
import { CLIP_MEAN, CLIP_STD } from "../../plan/normalization.js";
import type { CodeBase } from "./code_bases.js";
import { shellWord, specPath } from "./shell.js";
import * as problem from "./problems.js";
import type { VariantProblems } from "./problems.js";

/**
 * Architectures of the checkpoints LLaVA loads by hub id (reference/llava-gemma.md §3). The trainer
 * takes the architecture from the checkpoint, so a spec field that disagrees could not be honoured.
 * A test checks this table against the std presets.
 */
const knownCheckpoints: Readonly<Record<string, Readonly<Record<string, number | string | boolean | null | readonly number[]>>>> = (() => {
  const clipNorm = { mean: CLIP_MEAN, std: CLIP_STD };
  const clip = { patch: 14, width: 1024, depth: 24, heads: 16, mlp: 4096, act: "quick_gelu", norm_eps: 1e-5, ...clipNorm };
  const imagenet = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  // the DINOv2 processor resizes to 256 and crops 224; the position grid is the checkpoint's 518
  const dino = { image: 224, resize: 256, position_image: 518, patch: 14, act: "gelu", norm_eps: 1e-6, ...imagenet };
  const gemma2b = { vocab: 256000, width: 2048, depth: 18, heads: 8, kv_heads: 1, head_dim: 256, mlp: 16384 };
  const gemma7b = { vocab: 256000, width: 3072, depth: 28, heads: 16, kv_heads: 16, head_dim: 256, mlp: 24576 };
  // LLaMA-2's config.json (Vicuna v1.5 is finetuned from it): untied head, no RoPE scaling
  const llama2 = { vocab: 32000, act: "silu", rope_theta: 10000, rope_scaling: null, norm_eps: 1e-5, max_positions: 4096, tied: false };
  const llama7b = { ...llama2, width: 4096, depth: 32, heads: 32, kv_heads: 32, head_dim: 128, mlp: 11008 };
  return {
    "openai/clip-vit-large-patch14-336": { ...clip, image: 336, resize: 336 },
    "openai/clip-vit-large-patch14": { ...clip, image: 224, resize: 224 },
    "facebook/dinov2-large": { ...dino, width: 1024, depth: 24, heads: 16, mlp: 4096, ffn: "mlp" },
    "facebook/dinov2-giant": { ...dino, width: 1536, depth: 40, heads: 24, mlp: 4096, ffn: "swiglu" },
    "google/gemma-2b": gemma2b,
    "google/gemma-2b-it": gemma2b,
    "google/gemma-7b": gemma7b,
    "google/gemma-7b-it": gemma7b,
    "lmsys/vicuna-7b-v1.5": llama7b,
    "lmsys/vicuna-13b-v1.5": { ...llama2, width: 5120, depth: 40, heads: 40, kv_heads: 40, head_dim: 128, mlp: 13824 },
    "meta-llama/Llama-2-7b-hf": llama7b,
  };
})();

export const knownCheckpointIds: readonly string[] = Object.keys(knownCheckpoints);

/** The checkpoint path the trainer gets for a component: `weights` when given, else `hub_id`. */
function checkpointOf(plan: Plan, part: "vision" | "language", problems: VariantProblems): { word: string; hub: string | null } | undefined {
  const c = plan.model[part];
  const what = `the ${part} backbone${c.name ? ` \`${c.name}\`` : ""}`;
  if (c.weights !== null) {
    if (/\.safetensors$/.test(c.weights)) {
      problems.report(problem.checkpointFile(problems.at(`/model/${part}/weights`), what, c.weights));
      return undefined;
    }
    return { word: specPath(c.weights), hub: null };
  }
  if (c.hub_id === null) {
    problems.report(problem.noCheckpoint(problems.at(`/model/${part}`), what));
    return undefined;
  }
  return { word: shellWord(c.hub_id), hub: c.hub_id };
}

/** Spec fields that disagree with the architecture of a known checkpoint. */
function checkArchitecture(plan: Plan, part: "vision" | "language", hub: string, problems: VariantProblems): void {
  const known = knownCheckpoints[hub];
  if (!known) return;
  const c = plan.model[part] as unknown as Record<string, unknown>;
  for (const [field, expected] of Object.entries(known)) {
    const actual = c[field];
    if (actual === undefined || JSON.stringify(actual) === JSON.stringify(expected)) continue;
    problems.report(problem.architectureMismatch(problems.at(`/model/${part}/${field}`), part, field, actual, hub, expected));
  }
}

/** --vision_tower: a CLIP id or folder, or a DINOv2 hub id, as the code base's build_vision_tower loads them. */
export function visionTower(plan: Plan, codeBase: CodeBase, problems: VariantProblems): string | undefined {
  const v = plan.model.vision;
  // chooseCodeBase gives DINOv2 to LLaVA-Gemma, the one that loads it; SigLIP neither does
  if (!codeBase.visionFamilies.includes(v.family)) {
    problems.report(problem.visionFamily(problems.at("/model/vision"), v.family));
    return undefined;
  }
  const checkpoint = checkpointOf(plan, "vision", problems);
  if (!checkpoint) return undefined;
  if (v.family === "dinov2" && v.weights !== null) {
    problems.report(problem.dinoFromFolder(problems.at("/model/vision/weights")));
    return undefined;
  }
  if (checkpoint.hub !== null) {
    const id = checkpoint.hub;
    const ok = v.family === "clip_vit" ? /^(openai|laion)/.test(id) || id.includes("ShareGPT4V") : /dino/i.test(id);
    if (!ok) {
      problems.report(problem.towerId(problems.at("/model/vision/hub_id"), v.family, id, codeBase));
      return undefined;
    }
    checkArchitecture(plan, "vision", id, problems);
  }
  return checkpoint.word;
}

/** --model_name_or_path of the first stage: a checkpoint train.py loads as the model's family by its path. */
export function languageModel(plan: Plan, codeBase: CodeBase, problems: VariantProblems): string | undefined {
  const l = plan.model.language;
  if (!codeBase.languageFamilies.includes(l.family)) {
    problems.report(problem.languageFamily(problems.at("/model/language"), l.family));
    return undefined;
  }
  const checkpoint = checkpointOf(plan, "language", problems);
  if (!checkpoint) return undefined;
  const path = l.weights ?? l.hub_id ?? "";
  // train.py picks the model class by substring of the path (code_bases.ts)
  const loadedAs = codeBase.modelClass(path);
  if (loadedAs !== l.family) {
    const at = problems.at(l.weights !== null ? "/model/language/weights" : "/model/language/hub_id");
    problems.report(l.family === "gemma" ? problem.notGemmaPath(at, path) : problem.llamaPath(at, path, loadedAs, codeBase));
    return undefined;
  }
  if (l.tokenizer !== null && l.tokenizer !== l.weights) problems.report(problem.separateTokenizer(problems.at("/model/language/tokenizer")));
  if (checkpoint.hub !== null) checkArchitecture(plan, "language", checkpoint.hub, problems);
  return checkpoint.word;
}

/**
 * --version of a stage's template: the name train.py's conversation templates know it by, or undefined
 * after reporting that the code base has none (train.py would fall back to vicuna_v1 silently).
 */
export function trainVersion(plan: Plan, index: number, codeBase: CodeBase, problems: VariantProblems): string | undefined {
  const stage = plan.stages[index];
  if (stage.kind !== "stage") return undefined;
  const version = codeBase.versions[stage.template];
  // the stage's own template, else the model's it inherits
  const own = `/stages/${index}/template`;
  if (version === undefined) problems.report(problem.missingTemplate(problems.at(plan.spans[own] !== undefined ? own : "/model/template"), stage.template, codeBase));
  return version;
}

/** --conv-mode of the eval code for the model's template, or undefined after reporting that the code base has none. */
export function convMode(plan: Plan, codeBase: CodeBase, problems: VariantProblems): string | undefined {
  const mode = codeBase.convModes[plan.model.template];
  if (mode === undefined) problems.report(problem.missingTemplate(problems.at("/model/template"), plan.model.template, codeBase));
  return mode;
}

/** --mm_projector_type: `mlp2x_gelu` for a two-layer MLP, else the connector's family. */
export function projectorType(plan: Plan): string {
  const c = plan.model.connector;
  if (c.family === "mlp") return `mlp${c.depth ?? 2}x_gelu`;
  return c.family;
}
