/**
 * What a pretraining stage (`objective` other than `llava`) leaves besides the whole model's weights:
 * the backbone it trained as a Hugging Face folder, which a `weights` field can point at:
 *
 *   stages/KEY/vision/     config.json + model.safetensors (CLIPVisionModel, Dinov2Model or
 *                          SiglipVisionModel keys)                      after `contrastive`, `self_distill`
 *   stages/KEY/language/   config.json + model.safetensors (GemmaForCausalLM or LlamaForCausalLM keys) + the tokenizer's
 *                          files                                        after `lm`, `sft`
 *
 * The files are deterministic: tensors in name order, configs with a fixed key order, so the same
 * training gives the same bytes.
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { LlavaModel } from "../graph.js";
import { writeAtomic } from "../../core/files.js";
import type { TrainStagePlan } from "../../plan/plan.js";
import { textConfig, visionConfig, type PretrainedModel } from "../models/index.js";
import { TRANSFORMERS_CLASS } from "../models/hf_config.js";
import { LANGUAGE_PREFIX, VISION_PREFIX } from "../models/llava.js";
import type { tf } from "../tf.js";
import { writeTensors } from "./tensors.js";

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

/** The component a stage's objective pretrains, or null for LLaVA's objective. */
export function pretrainedComponent(stage: TrainStagePlan): "vision" | "language" | null {
  if (stage.objective === "lm" || stage.objective === "sft") return "language";
  if (stage.objective === "contrastive" || stage.objective === "self_distill") return "vision";
  return null;
}

/** Writes the backbone into `dir/vision` or `dir/language`; returns that folder. */
export async function writeBackbone(
  dir: string,
  component: "vision" | "language",
  model: PretrainedModel,
  graph: LlavaModel<number, number>,
  options: { padTokenId: number; tokenizerDir?: string },
): Promise<string> {
  const out = join(dir, component);
  mkdirSync(out, { recursive: true });
  const prefix = `${component === "vision" ? VISION_PREFIX : LANGUAGE_PREFIX}.`;
  const tensors = new Map<string, tf.Tensor>();
  for (const name of [...model.parameters.keys()].filter((n) => n.startsWith(prefix)).sort()) tensors.set(name.slice(prefix.length), model.parameters.get(name)!);
  await writeTensors(join(out, "model.safetensors"), tensors, { format: "pt" });
  const family = component === "vision" ? graph.vision.family : graph.language.family;
  const described = component === "vision" ? visionConfig(graph.vision) : textConfig(graph.language, options.padTokenId);
  const config = { architectures: [TRANSFORMERS_CLASS[family].architecture], ...described, torch_dtype: "float32" };
  writeAtomic(join(out, "config.json"), JSON.stringify(config, null, 2) + "\n");
  if (component === "language" && options.tokenizerDir) {
    for (const f of TOKENIZER_FILES) if (existsSync(join(options.tokenizerDir, f))) copyFileSync(join(options.tokenizerDir, f), join(out, f));
  }
  return out;
}
