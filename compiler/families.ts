/**
 * The families of LANGUAGE.md §5, described once as JSON Schemas. They are the single source of truth
 * for checking (ajv), documentation (`mmfmc doc`) and the plan (defaults filled in).
 *
 * Besides standard JSON Schema, field schemas use four annotation keywords of ours:
 * - `mmfmKind`: the value is a reference to a declaration of that kind (or one of those kinds);
 * - `mmfmSingleOk`: a list field that also accepts one element without brackets;
 * - `mmfmDefault`: a default computed from other fields, described in words (e.g. "4 × width");
 * - `mmfmRange`: a list of two numbers, `[min, max]`, whose first is not the larger (E0302).
 * Defaults follow the Hugging Face config classes of the real models unless said otherwise.
 */
import type { DeclKind } from "../grammar/ast.js";
import { CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, SIGLIP_MEAN, SIGLIP_STD, type Rgb } from "../plan/normalization.js";

export type ValueKind = DeclKind | "schedule" | "optimizer";

export interface FieldSchema {
  readonly type?: "integer" | "number" | "string" | "boolean" | "array";
  readonly description: string;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly enum?: readonly (string | number)[];
  readonly items?: Omit<FieldSchema, "description"> & { description?: string };
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly mmfmKind?: ValueKind | readonly ValueKind[];
  readonly mmfmSingleOk?: boolean;
  readonly mmfmDefault?: string;
  readonly mmfmRange?: boolean;
}

export interface Family {
  /** the name used in source (`clip_vit`); for kinds without families, the kind itself */
  readonly name: string;
  readonly kind: ValueKind;
  /** true for the kinds that have no family (`stage`, `eval`, `model`, `experiment`) */
  readonly implicit: boolean;
  readonly description: string;
  readonly fields: Readonly<Record<string, FieldSchema>>;
  readonly required: readonly string[];
  /** names other tools give a field (LLaVA's trainer arguments), suggested when one is written */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** The stage fields `objective = "self_distill"` alone reads: W0301 on other stages, and in no other stage's cache key. */
export const SELF_DISTILL_FIELDS = ["hue_jitter", "global_crops", "local_crops"] as const;

// ---- field helpers -------------------------------------------------------------------------------

function int(description: string, def?: number, minimum?: number): FieldSchema {
  return { type: "integer", description, default: def, minimum };
}

function float(description: string, def?: number, extra: Partial<FieldSchema> = {}): FieldSchema {
  return { type: "number", description, default: def, ...extra };
}

function str(description: string, def?: string): FieldSchema {
  return { type: "string", description, default: def };
}

function oneOf(description: string, values: readonly string[], def?: string): FieldSchema {
  return { type: "string", enum: values, description, default: def };
}

function bool(description: string, def?: boolean): FieldSchema {
  return { type: "boolean", description, default: def };
}

function rgb(description: string, def: Rgb): FieldSchema {
  return { type: "array", items: { type: "number" }, minItems: 3, maxItems: 3, description, default: def };
}

/** `[min, max]`: a range of a crop's area, a fraction of the image's */
function cropScale(description: string, def: readonly [number, number]): FieldSchema {
  return { type: "array", items: { type: "number", exclusiveMinimum: 0, maximum: 1 }, minItems: 2, maxItems: 2, mmfmRange: true, description, default: [...def] };
}

function ref(kind: ValueKind | readonly ValueKind[], description: string): FieldSchema {
  return { mmfmKind: kind, description };
}

// ---- vision ---------------------------------------------------------------------------------------

function visionFields(defaults: {
  patch: number;
  act: string;
  eps: number;
  mean: Rgb;
  std: Rgb;
  resize: string;
}): Record<string, FieldSchema> {
  return {
    image: int("input image side in pixels (images are square after preprocessing)", 224, 1),
    patch: int("patch side in pixels; an image gives floor(image / patch)² patches", defaults.patch, 1),
    width: int("hidden size of the transformer (hidden_size)", 768, 1),
    depth: int("number of transformer layers (num_hidden_layers)", 12, 1),
    heads: int("attention heads (num_attention_heads); must divide `width`", 12, 1),
    mlp: { ...int("hidden size of each layer's feed-forward block (intermediate_size)", undefined, 1), mmfmDefault: "4 × width" },
    act: oneOf("activation of the feed-forward block", ["quick_gelu", "gelu", "gelu_tanh"], defaults.act),
    norm_eps: float("epsilon of the layer norms", defaults.eps, { exclusiveMinimum: 0 }),
    select_layer: int(
      "which hidden state feeds the connector, indexed like transformers' hidden_states (0 = embeddings, -1 = last layer; LLaVA uses -2)",
      -2,
    ),
    feature: oneOf("`patch`: patch tokens only (LLaVA drops the class token); `cls_patch`: class token too", ["patch", "cls_patch"], "patch"),
    mean: rgb("per-channel mean for normalisation (also the `pad` colour, as int(mean*255))", defaults.mean),
    std: rgb("per-channel standard deviation for normalisation", defaults.std),
    resize: { ...int("shortest image edge after resizing, before the centre crop to `image`", undefined, 1), mmfmDefault: defaults.resize },
    aspect: oneOf("how non-square images are made square: `crop` (resize and centre-crop) or `pad` (LLaVA's expand-to-square with the mean colour)", ["crop", "pad"], "crop"),
    weights: str("pretrained weights: a Hugging Face style folder or a .safetensors file; random initialisation when absent"),
    hub_id: str("the Hugging Face model id of the real checkpoint (used by `mmfmc export`)"),
  };
}

const clipVit: Family = {
  name: "clip_vit",
  kind: "vision",
  implicit: false,
  description:
    "CLIP's vision transformer (transformers' CLIPVisionModel): class token, pre- and post-layernorm, conv patch embedding without bias, quick_gelu MLP.",
  fields: visionFields({ patch: 32, act: "quick_gelu", eps: 1e-5, mean: CLIP_MEAN, std: CLIP_STD, resize: "image" }),
  required: [],
};

const dinov2: Family = {
  name: "dinov2",
  kind: "vision",
  implicit: false,
  description:
    "DINOv2 (transformers' Dinov2Model): class and mask tokens, layer scale, MLP or SwiGLU feed-forward, final layernorm; positions are interpolated (bicubic) when `image` differs from `position_image`.",
  fields: {
    ...visionFields({ patch: 16, act: "gelu", eps: 1e-6, mean: IMAGENET_MEAN, std: IMAGENET_STD, resize: "image × 8/7, rounded down (256 for 224)" }),
    mlp: {
      ...int("hidden size of each layer's feed-forward block", undefined, 1),
      mmfmDefault: "4 × width for `mlp`; for `swiglu`, ((int(4 × width × 2/3) + 7) // 8) × 8 as transformers computes it",
    },
    ffn: oneOf("feed-forward block: `mlp` (fc1, GELU, fc2) or `swiglu` (weights_in, SiLU gate, weights_out; ViT-g)", ["mlp", "swiglu"], "mlp"),
    layer_scale: float("initial value of the layer-scale parameters", 1.0),
    position_image: {
      ...int("image side the position embeddings are laid out for (config image_size; 518 for the released checkpoints)", undefined, 1),
      mmfmDefault: "image",
    },
    mask_token: bool("whether the checkpoint carries the mask token (the facebook/dinov2-* checkpoints do)", true),
  },
  required: [],
};

const siglip: Family = {
  name: "siglip",
  kind: "vision",
  implicit: false,
  description:
    "SigLIP's vision transformer (transformers' SiglipVisionModel): no class token, conv patch embedding with bias, post-layernorm and an attention-pooling head. `patch` features are all patches (there is no class token to drop).",
  fields: {
    ...visionFields({ patch: 16, act: "gelu_tanh", eps: 1e-6, mean: SIGLIP_MEAN, std: SIGLIP_STD, resize: "image (resized straight to image × image, no crop)" }),
    head: bool("whether the attention-pooling head is part of the model (it is in the released checkpoints)", true),
  },
  required: [],
};

// ---- connector -------------------------------------------------------------------------------------

const connectorIo = {
  in: { ...int("input width; inferred from the model's vision width (an explicit value must agree)", undefined, 1), mmfmDefault: "the vision width" },
  out: { ...int("output width; inferred from the model's language width (an explicit value must agree)", undefined, 1), mmfmDefault: "the language width" },
};

const identity: Family = {
  name: "identity",
  kind: "connector",
  implicit: false,
  description: "Passes vision features through unchanged; the vision and language widths must be equal.",
  fields: { ...connectorIo },
  required: [],
};

const linearConnector: Family = {
  name: "linear",
  kind: "connector",
  implicit: false,
  description: "One linear layer with bias (LLaVA's `linear` projector).",
  fields: { ...connectorIo },
  required: [],
};

const mlp: Family = {
  name: "mlp",
  kind: "connector",
  implicit: false,
  description:
    "`depth` linear layers with bias and an activation between them (LLaVA's `mlpNx_gelu`; depth 2 is `mlp2x_gelu`). GELU is the exact (erf) GELU of torch.nn.GELU().",
  fields: {
    depth: int("number of linear layers", 2, 1),
    act: oneOf("activation between the layers (torch.nn.GELU(): exact erf GELU)", ["gelu"], "gelu"),
    ...connectorIo,
  },
  required: [],
};

// ---- language --------------------------------------------------------------------------------------

/** The random start of a language model (transformers' `initializer_range`), the same for every family. */
const initStd = float(
  "standard deviation of the random start (initializer_range): linear weights and the token embedding draw from N(0, init_std²) when `weights` is absent; 0.02 (transformers' default) suits widths near 2048, a tiny model learns to attend far sooner near 1/√width",
  0.02,
  { exclusiveMinimum: 0 },
);

const gemma: Family = {
  name: "gemma",
  kind: "language",
  implicit: false,
  description:
    "Gemma (transformers' GemmaForCausalLM): RMSNorm with (1 + w), sqrt(width) embedding scale applied to every input embedding (image features too), GeGLU, RoPE, multi-query or grouped attention, tied output head. Defaults are GemmaConfig's (Gemma-7B sizes).",
  fields: {
    vocab: int("vocabulary size (vocab_size)", 256000, 1),
    width: int("hidden size (hidden_size)", 3072, 1),
    depth: int("number of decoder layers (num_hidden_layers)", 28, 1),
    heads: int("query heads (num_attention_heads); must divide `width`", 16, 1),
    kv_heads: int("key/value heads (num_key_value_heads); must divide `heads` (1 = multi-query)", 16, 1),
    head_dim: { ...int("size of each attention head; independent of width (Gemma-7B: 16 × 256 = 4096 ≠ 3072)", undefined, 1), mmfmDefault: "width / heads" },
    mlp: int("hidden size of the GeGLU feed-forward block (intermediate_size)", 24576, 1),
    act: oneOf(
      "GeGLU activation: `gelu_tanh` (gelu_pytorch_tanh, transformers' default since 4.39) or exact `gelu` (what LLaVA-Gemma's converted config names)",
      ["gelu_tanh", "gelu"],
      "gelu_tanh",
    ),
    rope_theta: float("RoPE base", 10000, { exclusiveMinimum: 0 }),
    norm_eps: float("epsilon of the RMS norms", 1e-6, { exclusiveMinimum: 0 }),
    max_positions: int("maximum sequence length (max_position_embeddings)", 8192, 1),
    init_std: initStd,
    tokenizer: str("a folder holding tokenizer.json (Hugging Face format); defaults to `weights` when that is a folder"),
    weights: str("pretrained weights: a Hugging Face style folder or a .safetensors file; random initialisation when absent"),
    hub_id: str("the Hugging Face model id of the real checkpoint (used by `mmfmc export`)"),
  },
  required: [],
};

const llama: Family = {
  name: "llama",
  kind: "language",
  implicit: false,
  description:
    "Llama (transformers' LlamaForCausalLM; Vicuna is a Llama): RMSNorm with w (not 1 + w), SwiGLU, RoPE with `rope_theta` and optional linear `rope_scaling`, multi-head, grouped or multi-query attention, an output head of its own (untied) and no embedding scale. Defaults are LlamaConfig's (Llama-2-7B sizes).",
  fields: {
    vocab: int("vocabulary size (vocab_size)", 32000, 1),
    width: int("hidden size (hidden_size)", 4096, 1),
    depth: int("number of decoder layers (num_hidden_layers)", 32, 1),
    heads: int("query heads (num_attention_heads); must divide `width`", 32, 1),
    kv_heads: { ...int("key/value heads (num_key_value_heads); must divide `heads` (1 = multi-query)", undefined, 1), mmfmDefault: "heads" },
    head_dim: {
      ...int("size of each attention head; transformers 4.40 takes width / heads, later versions read `head_dim` from the config", undefined, 1),
      mmfmDefault: "width / heads",
    },
    mlp: int("hidden size of the SwiGLU feed-forward block (intermediate_size)", 11008, 1),
    act: oneOf("activation of the gated feed-forward block (hidden_act): `silu` (SwiGLU, as every Llama), `gelu` or `gelu_tanh`", ["silu", "gelu", "gelu_tanh"], "silu"),
    rope_theta: float("RoPE base", 10000, { exclusiveMinimum: 0 }),
    rope_scaling: float(
      "linear RoPE scaling: positions are divided by this factor (transformers' `rope_scaling = {type: linear, factor}`; it must be above 1); absent: no scaling",
      undefined,
      { exclusiveMinimum: 1 },
    ),
    norm_eps: float("epsilon of the RMS norms (rms_norm_eps; Llama 2 and Vicuna use 1e-5)", 1e-6, { exclusiveMinimum: 0 }),
    max_positions: int("maximum sequence length (max_position_embeddings)", 2048, 1),
    tied: bool("whether the output head is the token embedding (tie_word_embeddings); Llama's has its own", false),
    init_std: initStd,
    tokenizer: str("a folder holding tokenizer.json (Hugging Face format); defaults to `weights` when that is a folder"),
    weights: str("pretrained weights: a Hugging Face style folder or a .safetensors file; random initialisation when absent"),
    hub_id: str("the Hugging Face model id of the real checkpoint (used by `mmfmc export`)"),
  },
  required: [],
};

// ---- datasets --------------------------------------------------------------------------------------

const datasetSize = int("number of samples; used to derive the steps of a stage from `epochs` when the file is not read", undefined, 1);

const llavaJson: Family = {
  name: "llava_json",
  kind: "dataset",
  implicit: false,
  description:
    "A LLaVA conversation file: a JSON list of {id, image?, conversations: [{from: human|gpt, value}]}; images relative to `images`.",
  fields: {
    annotations: str("path of the JSON file (relative to the spec's folder)"),
    images: str("folder the samples' `image` paths are relative to"),
    size: datasetSize,
    seed: int("seed of the sample order (default: the experiment's seed)"),
  },
  required: ["annotations"],
};

const syntheticShapes: Family = {
  name: "synthetic_shapes",
  kind: "dataset",
  implicit: false,
  description:
    "Generated images of coloured shapes with questions about colour, shape, count and position (deterministic from `seed`); `mmfmc data shapes` writes it to disk.",
  fields: {
    split: oneOf(
      "`train` (questions), `caption` (descriptions, for connector pretraining), `text` (questions about scenes told in words, no images: for pretraining a language model) or `test` (held-out questions, scored)",
      ["train", "caption", "text", "test"],
      "train",
    ),
    size: int("number of samples", 1000, 1),
    seed: int("generator seed (test and train splits use disjoint streams)", 0),
    image: int("image side in pixels", 64, 8),
    shapes: { ...int("at most this many shapes per image (fewer make an easier task)", 4, 1), maximum: 4 },
    questions: {
      ...int("question/answer turns per conversation of the `train` and `text` splits, each of another question type (colour, shape, count, position, yes/no)", 3, 1),
      maximum: 5,
    },
  },
  required: [],
};

function benchmark(name: string, description: string, annotations: string, images: string, split?: string): Family {
  return {
    name,
    kind: "dataset",
    implicit: false,
    description,
    fields: {
      annotations: str("questions file, as LLaVA's eval scripts lay it out", annotations),
      images: str("image folder", images),
      split: str("benchmark split", split),
      size: int("evaluate only the first N items (all when absent)", undefined, 1),
    },
    required: [],
  };
}

const benchmarks: Family[] = [
  benchmark("vqav2", "VQAv2 (LLaVA layout: llava_vqav2_mscoco_test-dev2015.jsonl, test2015 images); scored by the official VQA accuracy.", "playground/data/eval/vqav2/llava_vqav2_mscoco_test-dev2015.jsonl", "playground/data/eval/vqav2/test2015", "test-dev2015"),
  benchmark("gqa", "GQA testdev-balanced (LLaVA layout); exact-match accuracy.", "playground/data/eval/gqa/llava_gqa_testdev_balanced.jsonl", "playground/data/eval/gqa/data/images", "testdev_balanced"),
  benchmark("pope", "POPE on COCO val2014 (adversarial, popular, random); accuracy and F1 per category.", "playground/data/eval/pope/llava_pope_test.jsonl", "playground/data/eval/pope/val2014", "test"),
  benchmark("mme", "MME (14 subtasks); perception and cognition scores.", "playground/data/eval/MME/llava_mme.jsonl", "playground/data/eval/MME/MME_Benchmark_release_version", "test"),
  benchmark("scienceqa", "ScienceQA (LLaVA layout: llava_test_CQM-A.json, problems.json); IMG accuracy is over problems with an image.", "playground/data/eval/scienceqa/llava_test_CQM-A.json", "playground/data/eval/scienceqa/images/test", "test"),
  benchmark("mmvp", "MMVP (300 questions in 150 pairs); pair accuracy.", "playground/data/eval/mmvp/Questions.csv", "playground/data/eval/mmvp/MMVP Images", "test"),
];

// ---- schedules and optimizers ------------------------------------------------------------------------

function schedule(name: string, description: string): Family {
  return {
    name,
    kind: "schedule",
    implicit: false,
    description,
    fields: { warmup: float("linear warmup as a ratio of the stage's steps (warmup steps = ceil(ratio × steps), as transformers)", 0, { minimum: 0, exclusiveMaximum: 1 }) },
    required: [],
  };
}

const schedules: Family[] = [
  schedule("constant", "Constant learning rate after warmup (get_constant_schedule_with_warmup)."),
  schedule("cosine", "Cosine decay to zero after warmup (get_cosine_schedule_with_warmup, half a cycle)."),
  schedule("linear", "Linear decay to zero after warmup (get_linear_schedule_with_warmup)."),
];

const adamw: Family = {
  name: "adamw",
  kind: "optimizer",
  implicit: false,
  description: "AdamW exactly as torch.optim.AdamW (decoupled weight decay from the stage's `weight_decay`).",
  fields: {
    beta1: float("first-moment decay", 0.9, { minimum: 0, exclusiveMaximum: 1 }),
    beta2: float("second-moment decay", 0.999, { minimum: 0, exclusiveMaximum: 1 }),
    eps: float("added to the denominator", 1e-8, { exclusiveMinimum: 0 }),
  },
  required: [],
};

// ---- kinds without families --------------------------------------------------------------------------

const components = ["vision", "connector", "language"];

const stage: Family = {
  name: "stage",
  kind: "stage",
  implicit: true,
  description: "A training stage: which data, which components are trained, and how. Each stage starts from the weights the previous one left.",
  fields: {
    data: {
      type: "array",
      items: { mmfmKind: "dataset" },
      minItems: 1,
      mmfmSingleOk: true,
      description:
        "the training data: one dataset, or a list of datasets trained on as one (their concatenation, as LLaVA's one data file; `mixture` gives other proportions)",
    },
    mixture: {
      type: "array",
      items: { type: "number", exclusiveMinimum: 0 },
      minItems: 1,
      description:
        "relative weights of the datasets in `data`, one each, in order: an epoch keeps the concatenation's length (the sum of the sizes) and takes each dataset's share of it by weight, repeating a small dataset and subsampling a large one, drawn afresh each epoch from the seed; absent: the plain concatenation",
    },
    train: {
      type: "array",
      items: { type: "string", enum: components },
      uniqueItems: true,
      minItems: 1,
      description:
        "the components this stage updates (`vision`, `connector`, `language`); all others are frozen. With `lora`, `language` is trained through its adapters",
    },
    objective: oneOf(
      "what the stage minimises: `llava` (next-token loss on the assistant's replies), or a backbone's own pretraining, which trains that backbone alone: `lm` (the language model on every text token), `sft` (the language model on the replies only: instruction tuning, as Gemma's `-it` checkpoints), `contrastive` (the vision tower against the texts, as CLIP) or `self_distill` (the vision tower against an EMA teacher on crops, as DINO)",
      ["llava", "lm", "sft", "contrastive", "self_distill"],
      "llava",
    ),
    hue_jitter: float(
      "`self_distill` only: how far the colour jitter turns a view's hue, a uniform fraction of a turn in [-h, h] (torchvision ColorJitter's `hue`, 0.5 its largest); the other jitters stay DINO's (p 0.8 brightness 0.4, contrast 0.4, saturation 0.2; p 0.2 grey)",
      0.1,
      { minimum: 0, maximum: 0.5 },
    ),
    global_crops: cropScale(
      "`self_distill` only: the area of each of its 2 global crops, drawn uniformly in [min, max] as a fraction of the image's (DINO's `global_crops_scale`; here 0.35 to 1), each resized to the tower's image size",
      [0.35, 1],
    ),
    local_crops: cropScale(
      "`self_distill` only: the area of each of its 4 local crops, drawn uniformly in [min, max] as a fraction of the image's (DINO's `local_crops_scale`; here 0.1 to 0.35), each resized to half the tower's image size",
      [0.1, 0.35],
    ),
    epochs: float("passes over the data (default 1 when `steps` is not given)", undefined, { exclusiveMinimum: 0 }),
    steps: int("optimizer steps (instead of `epochs`)", undefined, 1),
    batch: int("global batch size (samples per optimizer step)", 1, 1),
    micro_batch: { ...int("samples per forward pass; gradients are accumulated to `batch`", undefined, 1), mmfmDefault: "batch" },
    lr: float("peak learning rate", 5e-5, { exclusiveMinimum: 0 }),
    connector_lr: float(
      "peak learning rate of the connector's parameters, under the same schedule (LLaVA's `mm_projector_lr`); absent: `lr`",
      undefined,
      { exclusiveMinimum: 0 },
    ),
    vision_lr: float(
      "peak learning rate of the vision backbone's parameters when `train` holds `vision`, under the same schedule (`mm_vision_tower_lr` of later LLaVA versions); absent: `lr`",
      undefined,
      { exclusiveMinimum: 0 },
    ),
    lora: bool(
      "train the language model through LoRA adapters (LLaVA's `lora_enable`): every linear layer of the language model except the output head gets W x + (lora_alpha / lora_r) · B A dropout(x), with A from kaiming_uniform(a=√5) and B zero as peft makes them; its own weights stay frozen and the adapters are merged into them at the end of the stage. Needs `language` in `train`",
      false,
    ),
    lora_r: int("rank of the LoRA adapters (LLaVA's `lora_r`)", 64, 1),
    lora_alpha: int("LoRA scaling numerator: the adapters' output is multiplied by lora_alpha / lora_r (LLaVA's `lora_alpha`)", 16, 1),
    lora_dropout: float("dropout on the adapters' input during training (LLaVA's `lora_dropout`)", 0.05, { minimum: 0, exclusiveMaximum: 1 }),
    schedule: { ...ref("schedule", "learning-rate schedule (`constant`, `cosine`, `linear`, each with `warmup`)"), default: "cosine { warmup = 0.03 }" },
    optimizer: { ...ref("optimizer", "optimizer (`adamw { beta1, beta2, eps }`)"), default: "adamw" },
    weight_decay: float("decoupled weight decay", 0, { minimum: 0 }),
    grad_clip: float("clip gradients to this global norm (0 = no clipping)", 1.0, { minimum: 0 }),
    max_length: int("maximum tokens per sample, image tokens included (model_max_length)", 2048, 1),
    template: { ...oneOf("chat template for this stage", ["gemma", "plain", "vicuna_v1"]), mmfmDefault: "the model's template" },
    aspect: { ...oneOf("image aspect handling for this stage", ["crop", "pad"]), mmfmDefault: "the vision backbone's aspect" },
    precision: oneOf("training precision on the cluster (`mmfmc export`); the tfjs runtime computes in fp32", ["fp32", "bf16", "fp16"], "bf16"),
    group_by_modality: bool(
      "LLaVA's `group_by_modality_length`, as its LengthGroupedSampler orders an epoch: each global batch holds only image samples or only text-only samples (but for one or two mixed batches at its end), dealt longest first (words of the conversation) into micro-batches of even total length",
      false,
    ),
    gradient_checkpointing: bool("recompute activations in the backward pass (cluster training)", false),
    checkpoint_every: int(
      "write a resumable checkpoint every N optimizer steps (0: only at the end); absent: the target's default, every 50 steps on the tfjs runtime, LLaVA's `--save_steps 50000` in `mmfmc export`",
      undefined,
      0,
    ),
    // how the stage runs on the cluster (`mmfmc export`); the tfjs runtime ignores these
    accelerator: oneOf(
      "what `mmfmc export` launches this stage on: `gpu` (CUDA, LLaVA's scripts) or `gaudi` (Intel Gaudi through optimum-habana, LLaVA-Gemma's *_gaudi.sh scripts)",
      ["gpu", "gaudi"],
      "gpu",
    ),
    keep_checkpoints: int("checkpoints the cluster trainer keeps on disk (`--save_total_limit`)", 1, 1),
    dataloader_workers: int("data-loading processes per device on the cluster (`--dataloader_num_workers`)", 4, 0),
    tf32: bool("allow TF32 matrix multiplies on the cluster (`--tf32`); absent: the trainer's default, no flag"),
    report_to: oneOf("where the cluster trainer logs (`--report_to`)", ["none", "tensorboard", "wandb"], "tensorboard"),
    zero: {
      ...int("DeepSpeed ZeRO stage of this stage on the cluster (0 to 3; `--deepspeed zeroN.json`), as LLaVA-1.5 pretrains with ZeRO-2 and finetunes with ZeRO-3; absent: the experiment's `zero`", undefined, 0),
      maximum: 3,
    },
  },
  required: ["data", "train"],
  aliases: {
    lora_enable: "lora",
    mm_projector_lr: "connector_lr",
    mm_vision_tower_lr: "vision_lr",
    group_by_modality_length: "group_by_modality",
  },
};

const evalKind: Family = {
  name: "eval",
  kind: "eval",
  implicit: true,
  description:
    "An evaluation: generates an answer per benchmark item (greedy, as LLaVA's eval scripts, unless `temperature` > 0), writes LLaVA's answers file, and scores it by the benchmark's rules where ground truth exists. Trains nothing.",
  fields: {
    data: { type: "array", items: { mmfmKind: "dataset" }, minItems: 1, mmfmSingleOk: true, description: "the benchmark datasets" },
    max_new_tokens: int("longest answer generated; absent: each benchmark's LLaVA eval script (128; ScienceQA and MMVP 1024)", undefined, 1),
    temperature: float("sampling temperature; absent: each benchmark's script (0 = greedy); above 0 samples, seeded from the experiment's seed", undefined, { minimum: 0 }),
    top_p: float("nucleus sampling with `temperature` > 0: keep the most likely tokens whose probabilities sum to `top_p`; absent: no top-p filter", undefined, { exclusiveMinimum: 0, maximum: 1 }),
    batch: int("items generated at once", 8, 1),
  },
  required: ["data"],
};

const model: Family = {
  name: "model",
  kind: "model",
  implicit: true,
  description: "A LLaVA-style model: vision backbone -> connector -> language backbone.",
  fields: {
    vision: ref("vision", "the vision backbone"),
    connector: ref("connector", "the connector (its `in`/`out` widths are inferred)"),
    language: ref("language", "the language backbone"),
    template: {
      ...oneOf(
        "chat template: `gemma` (<start_of_turn>user / model), LLaVA-1.5's `vicuna_v1` (system message, USER: / ASSISTANT:, `</s>` after each answer) or LLaVA's `plain`",
        ["gemma", "plain", "vicuna_v1"],
      ),
      mmfmDefault: "`vicuna_v1` for a `llama` language model, `gemma` otherwise",
    },
    image_token: str("the placeholder for an image in the text", "<image>"),
  },
  required: ["vision", "connector", "language"],
};

const experiment: Family = {
  name: "experiment",
  kind: "experiment",
  implicit: true,
  description: "A model, an ordered list of stages, a seed, and the ablation grid (`ablate`, `ablate zip`, `exclude`).",
  fields: {
    model: ref("model", "the model"),
    stages: {
      type: "array",
      items: { mmfmKind: ["stage", "eval"] },
      minItems: 1,
      description: "stages and evaluations in order; each starts from the weights the previous one left",
    },
    seed: int("seed of initialisation and data order", 0),
    repeats: int("runs of each variant, with the seeds seed, seed + 1, ..., seed + N - 1 (an implicit `seed` axis after the others, labels `seed42`, ...); the report shows mean ± std and effect intervals", 1, 1),
    devices: int("accelerators per variant on the cluster (`mmfmc export`)", 8, 1),
    device_memory: float("memory per accelerator in GiB (for the memory estimate)", 80, { exclusiveMinimum: 0 }),
    zero: { ...int("DeepSpeed ZeRO stage for `mmfmc export` (0 to 3)", 2, 0), maximum: 3 },
  },
  required: ["model", "stages"],
};

// ---- registry --------------------------------------------------------------------------------------

export const families: readonly Family[] = [
  clipVit,
  dinov2,
  siglip,
  identity,
  linearConnector,
  mlp,
  gemma,
  llama,
  llavaJson,
  syntheticShapes,
  ...benchmarks,
  ...schedules,
  adamw,
  stage,
  evalKind,
  model,
  experiment,
];

export const benchmarkFamilies: ReadonlySet<string> = new Set(benchmarks.map((b) => b.name));

/** Families by name; a name can have one family per kind (`linear` is a connector and a schedule). */
const byName = new Map<string, Family[]>();
for (const f of families) {
  if (f.implicit) continue;
  byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
}

export function familiesNamed(name: string): readonly Family[] {
  return byName.get(name) ?? [];
}

export function implicitFamily(kind: DeclKind): Family | undefined {
  return families.find((f) => f.implicit && f.kind === kind);
}

export function familyNames(kind?: ValueKind): string[] {
  return families.filter((f) => !f.implicit && (kind === undefined || f.kind === kind)).map((f) => f.name);
}

/** Kinds whose declarations need a family as base (the others may stand alone). */
export function needsFamily(kind: DeclKind): boolean {
  return kind === "vision" || kind === "connector" || kind === "language" || kind === "dataset";
}

/** The JSON Schema of a family's fields, for ajv and for the plan schema. */
export function jsonSchema(family: Family): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(family.fields)) properties[name] = field;
  // a JSON round trip drops the keys the field helpers left undefined
  return JSON.parse(
    JSON.stringify({ $id: `mmfm:${family.kind}/${family.name}`, type: "object", additionalProperties: false, properties, required: family.required }),
  ) as Record<string, unknown>;
}
