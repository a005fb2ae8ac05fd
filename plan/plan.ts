/**
 * The plan: one variant fully resolved, as `mmfmc build` writes it (`plan.json`) and the runtime
 * executes it. Every value is explicit (defaults filled in, connector widths inferred, parameter
 * counts and steps computed). Keys are the language's field names. `schema/plan.schema.json` is the
 * JSON Schema of this type; ajv checks every plan written and read.
 */

export type Aspect = "crop" | "pad";
export type Template = "gemma" | "plain" | "vicuna_v1";

interface Named {
  /** the declared name this component came from (absent for an anonymous family use) */
  readonly name?: string;
}

interface VisionCommon extends Named {
  readonly image: number;
  readonly patch: number;
  readonly width: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlp: number;
  readonly act: "quick_gelu" | "gelu" | "gelu_tanh";
  readonly norm_eps: number;
  readonly select_layer: number;
  readonly feature: "patch" | "cls_patch";
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly resize: number;
  readonly aspect: Aspect;
  readonly weights: string | null;
  readonly hub_id: string | null;
}

export interface ClipVitPlan extends VisionCommon {
  readonly family: "clip_vit";
}

export interface Dinov2Plan extends VisionCommon {
  readonly family: "dinov2";
  readonly ffn: "mlp" | "swiglu";
  readonly layer_scale: number;
  readonly position_image: number;
  readonly mask_token: boolean;
}

export interface SiglipPlan extends VisionCommon {
  readonly family: "siglip";
  readonly head: boolean;
}

export type VisionPlan = ClipVitPlan | Dinov2Plan | SiglipPlan;

export interface ConnectorPlan extends Named {
  readonly family: "identity" | "linear" | "mlp";
  /** mlp only: number of linear layers */
  readonly depth?: number;
  readonly act?: "gelu";
  readonly in: number;
  readonly out: number;
}

export interface GemmaPlan extends Named {
  readonly family: "gemma";
  readonly vocab: number;
  readonly width: number;
  readonly depth: number;
  readonly heads: number;
  readonly kv_heads: number;
  readonly head_dim: number;
  readonly mlp: number;
  readonly act: "gelu_tanh" | "gelu";
  readonly rope_theta: number;
  readonly norm_eps: number;
  readonly max_positions: number;
  /** standard deviation of the random start (initializer_range) */
  readonly init_std: number;
  readonly tokenizer: string | null;
  readonly weights: string | null;
  readonly hub_id: string | null;
}

export interface LlamaPlan extends Named {
  readonly family: "llama";
  readonly vocab: number;
  readonly width: number;
  readonly depth: number;
  readonly heads: number;
  readonly kv_heads: number;
  readonly head_dim: number;
  readonly mlp: number;
  readonly act: "silu" | "gelu" | "gelu_tanh";
  readonly rope_theta: number;
  /** linear RoPE scaling factor (> 1), or null for none */
  readonly rope_scaling: number | null;
  readonly norm_eps: number;
  readonly max_positions: number;
  /** the output head is the token embedding */
  readonly tied: boolean;
  /** standard deviation of the random start (initializer_range) */
  readonly init_std: number;
  readonly tokenizer: string | null;
  readonly weights: string | null;
  readonly hub_id: string | null;
}

export type LanguagePlan = GemmaPlan | LlamaPlan;

export interface ParamCounts {
  readonly total: number;
  readonly vision: number;
  readonly connector: number;
  readonly language: number;
}

export interface ModelPlan {
  readonly vision: VisionPlan;
  readonly connector: ConnectorPlan;
  readonly language: LanguagePlan;
  readonly template: Template;
  readonly image_token: string;
  readonly params: ParamCounts;
  /** tokens one image becomes in the language model's sequence */
  readonly image_tokens: number;
}

export interface LlavaJsonPlan extends Named {
  readonly family: "llava_json";
  readonly annotations: string;
  readonly images: string | null;
  readonly size: number | null;
  readonly seed: number | null;
}

export interface SyntheticShapesPlan extends Named {
  readonly family: "synthetic_shapes";
  /** `text`: scenes told in words, no images (for pretraining a language model) */
  readonly split: "train" | "caption" | "text" | "test";
  readonly size: number;
  readonly seed: number;
  readonly image: number;
  /** at most this many shapes per image */
  readonly shapes: number;
  /** question/answer turns per conversation of the train and text splits (1-5) */
  readonly questions: number;
}

export interface BenchmarkPlan extends Named {
  readonly family: "vqav2" | "gqa" | "pope" | "mme" | "scienceqa" | "mmvp";
  readonly annotations: string;
  readonly images: string;
  readonly split: string | null;
  readonly size: number | null;
}

export type DatasetPlan = LlavaJsonPlan | SyntheticShapesPlan | BenchmarkPlan;

export interface SchedulePlan extends Named {
  readonly family: "constant" | "cosine" | "linear";
  readonly warmup: number;
}

export interface OptimizerPlan extends Named {
  readonly family: "adamw";
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

export type Component = "vision" | "connector" | "language";

export interface TrainStagePlan {
  readonly kind: "stage";
  readonly name: string;
  /** one or more datasets, trained on as one (runtime/data/mixture.ts) */
  readonly data: readonly (LlavaJsonPlan | SyntheticShapesPlan)[];
  /** relative weights of `data`, one each; null: the plain concatenation */
  readonly mixture: readonly number[] | null;
  readonly train: readonly Component[];
  /** what the stage minimises: LLaVA's loss, or a backbone's pretraining objective (runtime/train/objectives.ts) */
  readonly objective: "llava" | "lm" | "sft" | "contrastive" | "self_distill";
  /** `self_distill`: the colour jitter's hue range (DINO's 0.1); no other objective reads it, nor is it in their cache keys */
  readonly hue_jitter: number;
  /** `self_distill`: the area range of its global and local crops, fractions of the image's (DINO's 0.35-1 and 0.1-0.35); read by that objective alone, and in its cache keys alone */
  readonly global_crops: readonly [number, number];
  readonly local_crops: readonly [number, number];
  readonly epochs: number | null;
  /** optimizer steps; null when the dataset size is unknown until the data is read */
  readonly steps: number | null;
  readonly batch: number;
  readonly micro_batch: number;
  readonly lr: number;
  /** the connector's peak learning rate (LLaVA's mm_projector_lr); null: `lr` */
  readonly connector_lr: number | null;
  /** the vision backbone's peak learning rate (mm_vision_tower_lr); null: `lr` */
  readonly vision_lr: number | null;
  /** LoRA on the language model (LLaVA's lora_enable); `trainable` then counts the adapters, not the language model */
  readonly lora: boolean;
  readonly lora_r: number;
  readonly lora_alpha: number;
  readonly lora_dropout: number;
  readonly schedule: SchedulePlan;
  readonly optimizer: OptimizerPlan;
  readonly weight_decay: number;
  readonly grad_clip: number;
  readonly max_length: number;
  readonly template: Template;
  readonly aspect: Aspect;
  readonly precision: "fp32" | "bf16" | "fp16";
  readonly group_by_modality: boolean;
  readonly gradient_checkpointing: boolean;
  /** null: the target's default (`mmfmc run` every 50 steps, `mmfmc export` LLaVA's `--save_steps 50000`) */
  readonly checkpoint_every: number | null;
  /** cluster only (`mmfmc export`): the accelerator the stage is launched on */
  readonly accelerator: "gpu" | "gaudi";
  /** cluster only: `--save_total_limit` */
  readonly keep_checkpoints: number;
  /** cluster only: `--dataloader_num_workers` */
  readonly dataloader_workers: number;
  /** cluster only: `--tf32` (null: no flag, the trainer's default) */
  readonly tf32: boolean | null;
  /** cluster only: `--report_to` */
  readonly report_to: "none" | "tensorboard" | "wandb";
  /** cluster only: the stage's DeepSpeed ZeRO stage (null: the experiment's, `cluster.zero`) */
  readonly zero: number | null;
  /** parameters this stage updates */
  readonly trainable: number;
  /** hash of this stage's configuration chained with the keys of the stages before it */
  readonly cache_key: string;
}

export interface EvalStagePlan {
  readonly kind: "eval";
  readonly name: string;
  readonly data: readonly (BenchmarkPlan | SyntheticShapesPlan)[];
  /** null: each benchmark's LLaVA eval script default (plan/generation.ts) */
  readonly max_new_tokens: number | null;
  /** null: the script's (0, greedy); above 0 samples, seeded from the plan's seed */
  readonly temperature: number | null;
  /** nucleus sampling; null: no top-p filter */
  readonly top_p: number | null;
  readonly batch: number;
  readonly trainable: 0;
  readonly cache_key: string;
}

export type StagePlan = TrainStagePlan | EvalStagePlan;

export interface SourceRange {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface Plan {
  readonly version: 1;
  readonly experiment: string;
  /** `EXPERIMENT/labels` */
  readonly id: string;
  /** sha256 of the canonical JSON of the resolved configuration */
  readonly hash: string;
  readonly axes: Readonly<Record<string, string>>;
  /** the spec, as a folder relative to this plan's folder and a file name; relative data paths are relative to that folder */
  readonly source: { readonly dir: string; readonly file: string };
  readonly seed: number;
  readonly cluster: { readonly devices: number; readonly device_memory: number; readonly zero: number };
  readonly model: ModelPlan;
  readonly stages: readonly StagePlan[];
  /** where each value was set: JSON pointer into this plan -> source range */
  readonly spans: Readonly<Record<string, SourceRange>>;
}
