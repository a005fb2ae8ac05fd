/**
 * The DeepSpeed configurations the stages name with --deepspeed (LLaVA's scripts/zero2.json and
 * zero3.json, LLaVA-Gemma's scripts/zero2_gaudi.json) and optimum-habana's gaudi_config.json, made
 * from the ZeRO stage and the accelerator.
 */

export interface DeepSpeedConfig {
  /** the ZeRO stage, 0 to 3 */
  readonly zero: number;
  readonly accelerator: "gpu" | "gaudi";
}

/** The file beside the scripts: `zero2.json`, `zero3.json`, `zero2_gaudi.json`, ... */
export function deepSpeedFile(config: DeepSpeedConfig): string {
  return config.accelerator === "gaudi" ? `zero${config.zero}_gaudi.json` : `zero${config.zero}.json`;
}

const stage3 = {
  stage3_prefetch_bucket_size: "auto",
  stage3_param_persistence_threshold: "auto",
  stage3_max_live_parameters: 1e9,
  stage3_max_reuse_distance: 1e9,
  stage3_gather_16bit_weights_on_model_save: true,
};

/** LLaVA-Gemma's zero2_gaudi.json: bf16 always, no overlapped communication. */
function gaudiZero(zero: number): Record<string, unknown> {
  return {
    train_batch_size: "auto",
    train_micro_batch_size_per_gpu: "auto",
    steps_per_print: 10,
    gradient_accumulation_steps: "auto",
    zero_optimization: {
      stage: zero,
      overlap_comm: false,
      contiguous_gradients: true,
      reduce_scatter: false,
      sub_group_size: 1e9,
      ...(zero === 3 ? stage3 : {}),
    },
    bf16: { enabled: true },
    fp16: { enabled: false },
  };
}

/** LLaVA's zero2.json and zero3.json: the precision follows the trainer's flags ("auto"). */
function gpuZero(zero: number): Record<string, unknown> {
  return {
    fp16: { enabled: "auto", loss_scale: 0, loss_scale_window: 1000, initial_scale_power: 16, hysteresis: 2, min_loss_scale: 1 },
    bf16: { enabled: "auto" },
    train_micro_batch_size_per_gpu: "auto",
    train_batch_size: "auto",
    gradient_accumulation_steps: "auto",
    zero_optimization: {
      stage: zero,
      overlap_comm: true,
      contiguous_gradients: true,
      sub_group_size: 1e9,
      reduce_bucket_size: "auto",
      ...(zero === 3 ? stage3 : {}),
    },
  };
}

/** The file's text, with 1e9 written as LLaVA's files write it. */
export function deepSpeedText(config: DeepSpeedConfig): string {
  const json = config.accelerator === "gaudi" ? gaudiZero(config.zero) : gpuZero(config.zero);
  return JSON.stringify(json, null, 4).replace(/: 1000000000\b/g, ": 1e9") + "\n";
}

export const gaudiConfigFile = "gaudi_config.json";

/** LLaVA-Gemma's scripts/gaudi_config.json (optimum-habana). */
export const gaudiConfigText =
  JSON.stringify({ use_torch_autocast: false, hmp_is_verbose: false, use_fused_adam: true, use_fused_clip_norm: true }, null, 2) + "\n";
