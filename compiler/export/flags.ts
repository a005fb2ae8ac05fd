/**
 * The trainer's flags for a training stage (`deepspeed llava/train/train_mem.py`), and the model an
 * evaluation loads. The flags are LLaVA's (haotian-liu/LLaVA `scripts/v1_5/pretrain.sh` and
 * `finetune.sh`), as LLaVA-Gemma's fork also uses them (IntelLabs/multimodal_cognitive_ai
 * `LLaVA-Gemma/scripts/v1_5/*_gaudi.sh`), in their order; a flag whose value is the trainer's default
 * is written only where those scripts write it. Both code bases' train.py take the same arguments
 * (ModelArguments, DataArguments, TrainingArguments), the fork adding the Gaudi ones.
 *
 * A stage field that maps to a train.py argument of both code bases (LoRA's `--lora_enable`,
 * `--lora_r`, `--lora_alpha`, `--lora_dropout`, `--mm_projector_lr`, ...) goes into `trainFlags` at
 * the place LLaVA's scripts write it; one that only some code base has is checked in launch.ts against
 * the variant's code base first, and reported there when it has no flag.
 */
import type { Plan } from "../../plan/plan.js";
import { projectorType } from "./checkpoints.js";
import { stageZero } from "../memory.js";
import { deepSpeedFile, gaudiConfigFile } from "./deepspeed.js";
import type { TrainLaunch } from "./launch.js";
import { flagNumber, pyBool, specPath, type Flag } from "./shell.js";

/**
 * `--save_steps` of a stage: its `checkpoint_every`, or where the spec leaves it to the target,
 * LLaVA's (`scripts/v1_5/finetune.sh` saves every 50000 steps and keeps one: in practice only the
 * final weights, not a full 7B checkpoint every few minutes).
 */
export const defaultSaveSteps = 50000;

/** train.py's default `lora_dropout` (TrainingArguments), which LLaVA's LoRA scripts leave unwritten. */
const llavaLoraDropout = 0.05;

function saveSteps(s: TrainLaunch["plan"]): number {
  return s.checkpoint_every ?? defaultSaveSteps;
}

export function trainFlags(plan: Plan, launch: TrainLaunch, tower: string): Flag[] {
  const s = launch.plan;
  // one dataset: launch.ts refuses several
  const data = s.data[0].family === "llava_json" ? s.data[0] : undefined;
  const flags: Flag[] = [];
  // LoRA and the connector's learning rate first, as scripts/v1_5/finetune_lora.sh writes them
  // (`--lora_dropout` only where it is not train.py's 0.05, which that script leaves)
  if (s.lora) {
    flags.push(["--lora_enable", "True"], ["--lora_r", String(s.lora_r)], ["--lora_alpha", String(s.lora_alpha)]);
    if (s.lora_dropout !== llavaLoraDropout) flags.push(["--lora_dropout", flagNumber(s.lora_dropout)]);
  }
  // LLaVATrainer gives mm_projector_lr to the projector's parameters; a frozen projector has none to give it to
  if (s.connector_lr !== null && s.train.includes("connector")) flags.push(["--mm_projector_lr", flagNumber(s.connector_lr)]);
  flags.push(
    ["--deepspeed", `"$EXPORT_DIR/${deepSpeedFile({ zero: stageZero(s, plan.cluster), accelerator: s.accelerator })}"`],
    ["--model_name_or_path", launch.model],
    ["--version", launch.version],
    ["--data_path", specPath(data?.annotations ?? "")],
    ["--image_folder", specPath(data?.images ?? "")],
    ["--vision_tower", tower],
  );
  if (launch.adapter) flags.push(["--pretrain_mm_mlp_adapter", launch.adapter]);
  flags.push(["--mm_projector_type", projectorType(plan)]);
  if (launch.connectorOnly) flags.push(["--tune_mm_mlp_adapter", "True"]);
  if (!s.train.includes("connector")) flags.push(["--freeze_mm_mlp_adapter", "True"]);
  flags.push(["--mm_vision_select_layer", String(plan.model.vision.select_layer)]);
  if (plan.model.vision.feature !== "patch") flags.push(["--mm_vision_select_feature", plan.model.vision.feature]);
  flags.push(["--mm_use_im_start_end", "False"], ["--mm_use_im_patch_token", "False"]);
  if (s.aspect === "pad") flags.push(["--image_aspect_ratio", "pad"]);
  if (s.group_by_modality) flags.push(["--group_by_modality_length", "True"]);
  if (s.precision === "fp32") flags.push(["--bf16", "False"]);
  else flags.push([s.precision === "bf16" ? "--bf16" : "--fp16", "True"]);
  flags.push(["--output_dir", `"$OUTPUT_DIR"`]);
  if (s.epochs !== null) flags.push(["--num_train_epochs", flagNumber(s.epochs)]);
  else flags.push(["--max_steps", String(s.steps)]);
  flags.push(
    ["--per_device_train_batch_size", String(launch.perDevice)],
    ["--per_device_eval_batch_size", "4"],
    ["--gradient_accumulation_steps", String(launch.accumulation)],
    ["--evaluation_strategy", '"no"'],
    ["--save_strategy", saveSteps(s) > 0 ? '"steps"' : '"no"'],
  );
  if (saveSteps(s) > 0) flags.push(["--save_steps", String(saveSteps(s))]);
  flags.push(
    ["--save_total_limit", String(s.keep_checkpoints)],
    ["--learning_rate", flagNumber(s.lr)],
    ["--weight_decay", s.weight_decay === 0 ? "0." : flagNumber(s.weight_decay)],
    ["--warmup_ratio", flagNumber(s.schedule.warmup)],
    ["--lr_scheduler_type", `"${s.schedule.family === "constant" ? (s.schedule.warmup > 0 ? "constant_with_warmup" : "constant") : s.schedule.family}"`],
  );
  // torch.optim.AdamW's and the Trainer's defaults are not written, as in LLaVA's scripts
  const o = s.optimizer;
  if (o.beta1 !== 0.9) flags.push(["--adam_beta1", flagNumber(o.beta1)]);
  if (o.beta2 !== 0.999) flags.push(["--adam_beta2", flagNumber(o.beta2)]);
  if (o.eps !== 1e-8) flags.push(["--adam_epsilon", flagNumber(o.eps)]);
  if (s.grad_clip !== 1) flags.push(["--max_grad_norm", flagNumber(s.grad_clip)]);
  flags.push(["--logging_steps", "1"]);
  if (s.tf32 !== null) flags.push(["--tf32", pyBool(s.tf32)]);
  flags.push(
    ["--model_max_length", String(s.max_length)],
    ["--gradient_checkpointing", pyBool(s.gradient_checkpointing)],
    ["--dataloader_num_workers", String(s.dataloader_workers)],
    ["--lazy_preprocess", "True"],
  );
  // the Trainer's default seed is 42; the data order follows the dataset's own seed when it has one
  if (plan.seed !== 42) flags.push(["--seed", String(plan.seed)]);
  if (data && data.seed !== null && data.seed !== plan.seed) flags.push(["--data_seed", String(data.seed)]);
  if (s.accelerator === "gaudi") {
    flags.push(["--use_habana", null], ["--use_lazy_mode", null], ["--distribution_strategy", "fast_ddp"], ["--gaudi_config", `"$EXPORT_DIR/${gaudiConfigFile}"`]);
  }
  flags.push(["--report_to", s.report_to]);
  return flags;
}

/** The model an evaluation loads: the last checkpoint, with its base when only the projector was saved. */
export function evalModel(after: TrainLaunch): Flag[] {
  const flags: Flag[] = [["--model-path", `"${after.outputDir}"`]];
  // the projector alone, or LoRA adapters with the trained projector: rebuilt over the stage's base
  if (after.connectorOnly || after.plan.lora) flags.push(["--model-base", after.model]);
  return flags;
}
