/**
 * Hugging Face `config.json`, the one place that speaks its names: the class defaults of
 * transformers 4.40, reading a config into a model shape (checked), and writing a shape back as a
 * config for saving. Everything else in the runtime uses the shapes' names (shapes.ts: the spec's
 * names where the spec has the field).
 *
 * Names, spec/shape -> config.json: width -> hidden_size, depth -> num_hidden_layers,
 * heads -> num_attention_heads, kv_heads -> num_key_value_heads, mlp -> intermediate_size (DINOv2:
 * mlp_ratio), norm_eps -> rms_norm_eps (Gemma, Llama) / layer_norm_eps (vision), rope_theta, head_dim,
 * rope_scaling (a linear factor) -> rope_scaling {type: linear, factor}, tied -> tie_word_embeddings,
 * vocab -> vocab_size, max_positions -> max_position_embeddings, act -> hidden_activation (Gemma) /
 * hidden_act (Llama, vision), patch -> patch_size, position_image -> image_size, head -> vision_use_head,
 * ffn swiglu -> use_swiglu_ffn, layer_scale -> layerscale_value, mask_token -> use_mask_token;
 * LLaVA: select_layer -> vision_feature_layer, feature patch/cls_patch ->
 * vision_feature_select_strategy default/full, connector family/depth/act/bias -> projector_type /
 * projector_depth / projector_hidden_act / multimodal_projector_bias, language -> text_config,
 * vision -> vision_config.
 *
 * A config is checked as a whole and every problem is reported at once, naming the field and its
 * value.
 */
import { isDeepStrictEqual } from "node:util";
import { isActivation, type Activation } from "./common.js";
import type { ConnectorShape, GemmaShape, LanguageShape, LlamaShape, LlavaShape, ModelShape, VitShape } from "./shapes.js";

// ---------------------------------------------------------------------------------------------
// Class defaults: transformers saves only the fields that differ from a config class's defaults,
// so every absent field takes the default of its class (transformers 4.40: GemmaConfig, LlamaConfig,
// CLIPVisionConfig, SiglipVisionConfig, Dinov2Config, LlavaConfig).

/** A Hugging Face config.json object as read: its values are checked when a shape is made of it. */
export type HfConfig = Record<string, unknown>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** The families the runtime implements, by `model_type`. */
export const MODEL_TYPES = ["gemma", "llama", "clip_vision_model", "clip", "siglip_vision_model", "siglip", "dinov2", "llava"] as const;

const GEMMA_DEFAULTS: HfConfig = {
  vocab_size: 256000,
  hidden_size: 3072,
  intermediate_size: 24576,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 16,
  head_dim: 256,
  hidden_act: "gelu_pytorch_tanh",
  hidden_activation: null,
  max_position_embeddings: 8192,
  initializer_range: 0.02,
  rms_norm_eps: 1e-6,
  pad_token_id: 0,
  eos_token_id: 1,
  bos_token_id: 2,
  tie_word_embeddings: true,
  rope_theta: 10000.0,
  attention_bias: false,
};

/**
 * LlamaConfig (Llama-2-7B sizes). `num_key_value_heads` null means `num_attention_heads` (filled in by
 * withDefaults, as LlamaConfig does); `mlp_bias` is 4.41's, false as it was before; `head_dim` (newer
 * transformers) is hidden_size / num_attention_heads when absent.
 */
const LLAMA_DEFAULTS: HfConfig = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: null,
  hidden_act: "silu",
  max_position_embeddings: 2048,
  initializer_range: 0.02,
  rms_norm_eps: 1e-6,
  pad_token_id: null,
  bos_token_id: 1,
  eos_token_id: 2,
  pretraining_tp: 1,
  tie_word_embeddings: false,
  rope_theta: 10000.0,
  rope_scaling: null,
  attention_bias: false,
  attention_dropout: 0.0,
  mlp_bias: false,
};

const CLIP_VISION_DEFAULTS: HfConfig = {
  hidden_size: 768,
  intermediate_size: 3072,
  projection_dim: 512,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 32,
  hidden_act: "quick_gelu",
  layer_norm_eps: 1e-5,
  initializer_range: 0.02,
  initializer_factor: 1.0,
};

const SIGLIP_VISION_DEFAULTS: HfConfig = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 16,
  hidden_act: "gelu_pytorch_tanh",
  layer_norm_eps: 1e-6,
  vision_use_head: true,
};

const DINOV2_DEFAULTS: HfConfig = {
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  mlp_ratio: 4,
  hidden_act: "gelu",
  initializer_range: 0.02,
  layer_norm_eps: 1e-6,
  image_size: 224,
  patch_size: 16,
  num_channels: 3,
  qkv_bias: true,
  layerscale_value: 1.0,
  use_swiglu_ffn: false,
  use_mask_token: true,
};

/** LlavaConfig's default vision tower (CLIP ViT-L/14-336). */
const LLAVA_DEFAULT_VISION: HfConfig = {
  model_type: "clip_vision_model",
  intermediate_size: 4096,
  hidden_size: 1024,
  patch_size: 14,
  image_size: 336,
  num_hidden_layers: 24,
  num_attention_heads: 16,
  projection_dim: 768,
};

/**
 * LlavaConfig's defaults, plus the connector fields mmfm adds (docs/runtime-models.md):
 * `projector_type` "identity" | "linear" | "mlp" and `projector_depth` (mlp only, >= 2). The defaults
 * give transformers' two-layer `multi_modal_projector.linear_1/linear_2`, so HF configs need neither.
 * `multimodal_projector_bias` is transformers' own (newer versions).
 */
const LLAVA_DEFAULTS: HfConfig = {
  ignore_index: -100,
  image_token_index: 32000,
  projector_hidden_act: "gelu",
  vision_feature_select_strategy: "default",
  vision_feature_layer: -2,
  pad_token_id: null,
  multimodal_projector_bias: true,
  projector_type: "mlp",
  projector_depth: 2,
};

const NESTED_TYPES = ["gemma", "llama", "clip_vision_model", "siglip_vision_model", "dinov2"];

/** Returns the config with the class defaults filled in; the raw object is not changed. */
export function withDefaults(raw: HfConfig): HfConfig {
  const type = raw.model_type;
  switch (type) {
    case "gemma":
      return { ...GEMMA_DEFAULTS, ...raw };
    case "llama": {
      const out: HfConfig = { ...LLAMA_DEFAULTS, ...raw };
      if (out.num_key_value_heads == null) out.num_key_value_heads = out.num_attention_heads;
      return out;
    }
    case "clip_vision_model":
      return { ...CLIP_VISION_DEFAULTS, ...raw };
    case "siglip_vision_model":
      return { ...SIGLIP_VISION_DEFAULTS, ...raw };
    case "dinov2":
      return { ...DINOV2_DEFAULTS, ...raw };
    case "clip":
      return withDefaults({ ...(raw.vision_config as HfConfig | undefined), model_type: "clip_vision_model" });
    case "siglip":
      return withDefaults({ ...(raw.vision_config as HfConfig | undefined), model_type: "siglip_vision_model" });
    case "llava": {
      const vision = (raw.vision_config as HfConfig | undefined) ?? LLAVA_DEFAULT_VISION;
      const text = raw.text_config as HfConfig | undefined;
      const out: HfConfig = { ...LLAVA_DEFAULTS, ...raw };
      if (raw.image_token_index === undefined && typeof raw.image_token_id === "number") {
        out.image_token_index = raw.image_token_id;
      }
      // Nested configs of a family we lack keep their fields; llavaShape then says what is wrong.
      const nested = (c: HfConfig) => (NESTED_TYPES.includes(String(c.model_type)) ? withDefaults(c) : c);
      out.vision_config = nested({ model_type: "clip_vision_model", ...vision });
      out.text_config = nested({ model_type: "llama", ...text });
      return out;
    }
    default:
      throw new ConfigError(
        `model_type ${JSON.stringify(type)} is not supported (supported: ${MODEL_TYPES.join(", ")})`,
      );
  }
}


// ---------------------------------------------------------------------------------------------
// The transformers class of each family

type ShapeFamily = ModelShape["family"];

/** `model_type` and the transformers class of each family. */
export const TRANSFORMERS_CLASS: Readonly<Record<ShapeFamily, { readonly modelType: string; readonly architecture: string }>> = {
  gemma: { modelType: "gemma", architecture: "GemmaForCausalLM" },
  llama: { modelType: "llama", architecture: "LlamaForCausalLM" },
  clip_vit: { modelType: "clip_vision_model", architecture: "CLIPVisionModel" },
  siglip: { modelType: "siglip_vision_model", architecture: "SiglipVisionModel" },
  dinov2: { modelType: "dinov2", architecture: "Dinov2Model" },
  llava: { modelType: "llava", architecture: "LlavaForConditionalGeneration" },
};

/** The `architectures` values each model_type may name. */
const ARCHITECTURES: Record<string, string[]> = {
  gemma: ["GemmaForCausalLM"],
  llama: ["LlamaForCausalLM"],
  clip_vision_model: ["CLIPVisionModel", "CLIPVisionModelWithProjection"],
  clip: ["CLIPModel"],
  siglip_vision_model: ["SiglipVisionModel"],
  siglip: ["SiglipModel"],
  dinov2: ["Dinov2Model"],
  llava: ["LlavaForConditionalGeneration"],
};

/** The `model_type` a config.json names (a full `clip` or `siglip` config stays itself here). */
export function modelTypeOf(raw: HfConfig): string {
  return String(raw.model_type);
}

/** `architectures`, when present, must be one this model type can be. `file` names the config in the error. */
export function checkArchitectures(raw: HfConfig, file: string): void {
  const type = modelTypeOf(raw);
  const archs = raw.architectures;
  if (Array.isArray(archs) && ARCHITECTURES[type] && !archs.some((a) => ARCHITECTURES[type].includes(a))) {
    throw new ConfigError(
      `${file}: architectures ${JSON.stringify(archs)} are not supported for model_type "${type}" ` +
        `(supported: ${ARCHITECTURES[type].join(", ")})`,
    );
  }
}

/** The config.json saveModel writes: the model's config with its class named, in float32. */
export function savedConfig(config: Readonly<HfConfig>, modelType: string, architecture: string | undefined): HfConfig {
  return {
    ...config,
    ...(architecture ? { architectures: [architecture] } : {}),
    model_type: modelType,
    torch_dtype: "float32",
  };
}

// ---------------------------------------------------------------------------------------------
// Reading: config.json -> shape

/** Collects problems for one config, then throws them together. */
class Checker {
  readonly problems: string[] = [];
  constructor(
    readonly cfg: HfConfig,
    private readonly where: string,
  ) {}

  int(field: string, min = 1): number {
    const v = this.cfg[field];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      this.problems.push(`${this.where}\`${field}\` must be an integer >= ${min}, got ${JSON.stringify(v)}`);
      return min;
    }
    return v;
  }

  num(field: string, positive = true): number {
    const v = this.cfg[field];
    if (typeof v !== "number" || !Number.isFinite(v) || (positive && v <= 0)) {
      this.problems.push(`${this.where}\`${field}\` must be a ${positive ? "positive " : ""}number, got ${JSON.stringify(v)}`);
      return 1;
    }
    return v;
  }

  bool(field: string): boolean {
    const v = this.cfg[field];
    if (typeof v !== "boolean") {
      this.problems.push(`${this.where}\`${field}\` must be true or false, got ${JSON.stringify(v)}`);
      return false;
    }
    return v;
  }

  act(field: string): Activation {
    const v = this.cfg[field];
    if (!isActivation(v)) {
      this.problems.push(`${this.where}\`${field}\` ${JSON.stringify(v)} is not a supported activation`);
      return "gelu";
    }
    return v;
  }

  require(ok: boolean, message: string): void {
    if (!ok) this.problems.push(this.where + message);
  }
}

function finish(checkers: Checker[], modelType: string): void {
  const problems = checkers.flatMap((c) => c.problems);
  if (problems.length > 0) {
    throw new ConfigError(`invalid ${modelType} config:\n  ${problems.join("\n  ")}`);
  }
}

/** The fields Gemma and Llama read alike; `headDim` and `act` are each family's. */
function readDecoder(c: Checker, cfg: HfConfig, headDim: (width: number, heads: number) => number, act: Activation) {
  const heads = c.int("num_attention_heads");
  const kvHeads = c.int("num_key_value_heads");
  c.require(heads % kvHeads === 0, `\`num_attention_heads\` (${heads}) must be a multiple of \`num_key_value_heads\` (${kvHeads})`);
  const vocab = c.int("vocab_size");
  const width = c.int("hidden_size");
  const pad = cfg.pad_token_id;
  // nn.Embedding(vocab, width, padding_idx=pad_token_id) accepts -vocab <= pad < vocab
  c.require(pad == null || (typeof pad === "number" && Number.isInteger(pad) && pad >= -vocab && pad < vocab), `\`pad_token_id\` ${JSON.stringify(pad)} must be an embedding row (from ${-vocab} to ${vocab - 1}) or null`);
  const maxPositions = cfg.max_position_embeddings;
  const shape = {
    vocab,
    width,
    mlp: c.int("intermediate_size"),
    depth: c.int("num_hidden_layers", 0),
    heads,
    kv_heads: kvHeads,
    head_dim: headDim(width, heads),
    act,
    norm_eps: c.num("rms_norm_eps"),
    rope_theta: c.num("rope_theta"),
    max_positions: typeof maxPositions === "number" ? maxPositions : null,
    bias: c.bool("attention_bias"),
    tied: c.bool("tie_word_embeddings"),
    padTokenId: typeof pad === "number" ? pad : null,
    initStd: c.num("initializer_range"),
  };
  c.require(shape.head_dim % 2 === 0, `\`head_dim\` (${shape.head_dim}) must be even for rotary embeddings`);
  return shape;
}

function readGemma(cfg: HfConfig, where = ""): GemmaShape {
  const c = new Checker(cfg, where);
  if (cfg.model_type !== "gemma") {
    c.require(false, `model_type must be "gemma", got ${JSON.stringify(cfg.model_type)}`);
  }
  // transformers 4.40 GemmaMLP: `hidden_activation` if set, else gelu_pytorch_tanh (`hidden_act` ignored, PR #29402).
  const act: Activation = cfg.hidden_activation == null ? "gelu_pytorch_tanh" : c.act("hidden_activation");
  const shape: GemmaShape = { family: "gemma", ...readDecoder(c, cfg, () => c.int("head_dim"), act) };
  finish([c], "gemma");
  return shape;
}

/**
 * LlamaConfig: `head_dim` is hidden_size / num_attention_heads, which must divide (4.40 raises
 * otherwise); newer transformers read an explicit `head_dim`. `rope_scaling` is null or
 * {"type": "linear", "factor": f > 1} (newer configs spell `type` as `rope_type`; "default" is none);
 * LlamaDynamicNTKScalingRotaryEmbedding and later kinds are not implemented.
 */
function readLlama(cfg: HfConfig, where = ""): LlamaShape {
  const c = new Checker(cfg, where);
  if (cfg.model_type !== "llama") {
    c.require(false, `model_type must be "llama", got ${JSON.stringify(cfg.model_type)}`);
  }
  const headDim = (width: number, heads: number): number => {
    if (cfg.head_dim != null) return c.int("head_dim");
    c.require(width % heads === 0, `\`hidden_size\` (${width}) must be a multiple of \`num_attention_heads\` (${heads}), or \`head_dim\` given`);
    return Math.max(1, Math.floor(width / heads));
  };
  const shape: LlamaShape = {
    family: "llama",
    ...readDecoder(c, cfg, headDim, c.act("hidden_act")),
    rope_scaling: ropeScaling(cfg.rope_scaling, c),
    mlpBias: c.bool("mlp_bias"),
  };
  finish([c], "llama");
  return shape;
}

/** The linear factor of a Llama `rope_scaling`, or null. */
function ropeScaling(v: unknown, c: Checker): number | null {
  if (v == null) return null;
  if (typeof v !== "object" || Array.isArray(v)) {
    c.require(false, `\`rope_scaling\` must be null or {"type": "linear", "factor": ...}, got ${JSON.stringify(v)}`);
    return null;
  }
  const o = v as Record<string, unknown>;
  const type = o.type ?? o.rope_type;
  if (type === "default") return null;
  if (type !== "linear") {
    c.require(false, `\`rope_scaling\` type ${JSON.stringify(type)} is not supported (supported: "linear")`);
    return null;
  }
  const factor = o.factor;
  if (typeof factor !== "number" || !Number.isFinite(factor) || factor <= 1) {
    c.require(false, `\`rope_scaling\` factor must be a number > 1 (transformers' check), got ${JSON.stringify(factor)}`);
    return null;
  }
  return factor;
}

/** A decoder-only language model's config (gemma or llama). */
function readLanguage(cfg: HfConfig, where = ""): LanguageShape {
  return cfg.model_type === "llama" ? readLlama(cfg, where) : readGemma(cfg, where);
}

const VISION_FAMILY: Record<string, VitShape["family"]> = { clip_vision_model: "clip_vit", siglip_vision_model: "siglip", dinov2: "dinov2" };

/** Dinov2SwiGLUFFN's hidden width from the `int(width · mlp_ratio)` it is given: (int(h·2/3) + 7) // 8 · 8. */
const swigluHidden = (h: number) => Math.floor((Math.trunc((h * 2) / 3) + 7) / 8) * 8;

function readVit(cfg: HfConfig, where = ""): VitShape {
  const c = new Checker(cfg, where);
  const modelType = String(cfg.model_type);
  const family = (Object.hasOwn(VISION_FAMILY, modelType) ? VISION_FAMILY[modelType] : undefined) as VitShape["family"];
  if (!family) {
    c.require(false, `model_type ${JSON.stringify(cfg.model_type)} is not a vision encoder (clip_vision_model, siglip_vision_model, dinov2)`);
  }
  const width = c.int("hidden_size");
  const heads = c.int("num_attention_heads");
  c.require(width % heads === 0, `\`hidden_size\` (${width}) must be a multiple of \`num_attention_heads\` (${heads})`);
  const dino = family === "dinov2";
  let mlp = dino ? Math.trunc(width * c.num("mlp_ratio")) : c.int("intermediate_size");
  const swiglu = dino && c.bool("use_swiglu_ffn");
  if (swiglu) mlp = swigluHidden(mlp);
  const shape: VitShape = {
    family,
    width,
    mlp,
    depth: c.int("num_hidden_layers", 0),
    heads,
    channels: c.int("num_channels"),
    position_image: c.int("image_size"),
    patch: c.int("patch_size"),
    act: c.act("hidden_act"),
    norm_eps: c.num("layer_norm_eps"),
    ffn: swiglu ? "swiglu" : "mlp",
    classToken: family !== "siglip",
    initStd: family === "siglip" ? 0.02 : c.num("initializer_range"),
    initFactor: family === "clip_vit" ? c.num("initializer_factor") : 1,
    head: family === "siglip" && c.bool("vision_use_head"),
    qkvBias: dino ? c.bool("qkv_bias") : true,
    layer_scale: dino ? c.num("layerscale_value", false) : 1,
    mask_token: dino && c.bool("use_mask_token"),
    interpolation: dino ? interpolationMode(cfg, c) : "size",
  };
  finish([c], modelType);
  return shape;
}

/**
 * transformers up to 4.44 interpolated DINOv2 positions with `scale_factor = (h + 0.1) / √N`; later
 * versions pass `size = (h, w)`. The two differ numerically, so a checkpoint saved by an older
 * transformers (its config's `transformers_version`) is run the old way; `mmfm_pos_interpolation`
 * ("size" | "scale_factor") overrides the choice.
 */
function interpolationMode(cfg: HfConfig, c: Checker): "size" | "scale_factor" {
  const forced = cfg.mmfm_pos_interpolation;
  if (forced !== undefined) {
    c.require(forced === "size" || forced === "scale_factor", `\`mmfm_pos_interpolation\` must be "size" or "scale_factor", got ${JSON.stringify(forced)}`);
    return forced === "scale_factor" ? "scale_factor" : "size";
  }
  const version = typeof cfg.transformers_version === "string" ? cfg.transformers_version : "";
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (m && (Number(m[1]) < 4 || (Number(m[1]) === 4 && Number(m[2]) < 45))) return "scale_factor";
  return "size";
}

/** LLaVA's own names for vision_feature_select_strategy: "patch" drops the class token ("default"), "cls_patch" keeps it ("full"). */
const STRATEGY_FEATURE: Record<string, LlavaShape["feature"]> = { default: "patch", full: "cls_patch", patch: "patch", cls_patch: "cls_patch" };

function readLlava(cfg: HfConfig): LlavaShape {
  const c = new Checker(cfg, "");
  const text = cfg.text_config as HfConfig;
  const vision = cfg.vision_config as HfConfig;
  const checks = [c];
  let language: LanguageShape | null = null;
  let visionShape: VitShape | null = null;
  if (text.model_type !== "gemma" && text.model_type !== "llama") {
    c.require(false, `text_config.model_type must be "gemma" or "llama" (the language families here), got ${JSON.stringify(text.model_type)}`);
  } else {
    try {
      language = readLanguage(text, "text_config.");
    } catch (e) {
      c.problems.push(...(e as Error).message.split("\n").slice(1).map((l) => l.trim()));
    }
  }
  try {
    visionShape = readVit(vision, "vision_config.");
  } catch (e) {
    c.problems.push(...(e as Error).message.split("\n").slice(1).map((l) => l.trim()));
  }
  const rawLayers = cfg.vision_feature_layer;
  const layers = Array.isArray(rawLayers) ? (rawLayers as unknown[]) : [rawLayers];
  const nHidden = (visionShape?.depth ?? 0) + 1;
  for (const l of layers) {
    c.require(
      typeof l === "number" && Number.isInteger(l) && l >= -nHidden && l < nHidden,
      `\`vision_feature_layer\` ${JSON.stringify(l)} must index the ${nHidden} vision hidden states (from ${-nHidden} to ${nHidden - 1})`,
    );
  }
  const rawStrategy = cfg.vision_feature_select_strategy;
  const feature = typeof rawStrategy === "string" && Object.hasOwn(STRATEGY_FEATURE, rawStrategy) ? STRATEGY_FEATURE[rawStrategy] : undefined;
  c.require(
    feature !== undefined,
    `\`vision_feature_select_strategy\` must be "default" or "full" ("patch" or "cls_patch"), got ${JSON.stringify(rawStrategy)}`,
  );
  const projector = cfg.projector_type as ConnectorShape["family"];
  c.require(["identity", "linear", "mlp"].includes(projector), `\`projector_type\` must be "identity", "linear" or "mlp", got ${JSON.stringify(projector)}`);
  const depth = projector === "mlp" ? c.int("projector_depth", 2) : projector === "linear" ? 1 : 0;
  const imageTokenId = c.int("image_token_index", 0);
  const shape: LlavaShape = {
    family: "llava",
    vision: visionShape as VitShape,
    connector: { family: projector, depth, act: c.act("projector_hidden_act"), bias: c.bool("multimodal_projector_bias") },
    language: language as LanguageShape,
    select_layer: Array.isArray(rawLayers) ? (rawLayers as number[]) : (rawLayers as number),
    feature: feature ?? "patch",
    imageTokenId,
    ignoreIndex: c.num("ignore_index", false),
    padTokenId: typeof cfg.pad_token_id === "number" ? cfg.pad_token_id : -1,
  };
  if (visionShape && language && projector === "identity") {
    const featureWidth = visionShape.width * layers.length;
    c.require(featureWidth === language.width, `an identity projector needs vision feature width ${featureWidth} to equal text hidden_size ${language.width}`);
  }
  finish(checks, "llava");
  return shape;
}

/**
 * A raw config.json: its class defaults filled in (`config`, what a model keeps and saves) and the
 * shape it describes, checked (every problem at once, in a ConfigError).
 */
export function shapeFromConfig(raw: HfConfig): { config: HfConfig; shape: ModelShape } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`a model config must be a JSON object, got ${JSON.stringify(raw)}`);
  }
  const config = withDefaults(raw);
  switch (config.model_type) {
    case "gemma":
      return { config, shape: readGemma(config) };
    case "llama":
      return { config, shape: readLlama(config) };
    case "clip_vision_model":
    case "siglip_vision_model":
    case "dinov2":
      return { config, shape: readVit(config) };
    case "llava":
      return { config, shape: readLlava(config) };
    default:
      throw new ConfigError(`model_type ${JSON.stringify(config.model_type)} is not supported`);
  }
}

type ShapeOf<F extends ShapeFamily> = Extract<ModelShape, { family: F }>;

/**
 * The shape of a family's class defaults: what a description leaves unsaid (initialisation, biases,
 * tying...) is what transformers' config class says. LLaVA's is LlavaConfig's over a default Gemma
 * (its language is replaced by the description's, Gemma or Llama).
 */
export function defaultShape<F extends ShapeFamily>(family: F): ShapeOf<F> {
  const modelType = TRANSFORMERS_CLASS[family].modelType;
  const raw: HfConfig = family === "llava" ? { model_type: modelType, text_config: { model_type: "gemma" } } : { model_type: modelType };
  return shapeFromConfig(raw).shape as ShapeOf<F>;
}

// ---------------------------------------------------------------------------------------------
// Writing: shape -> config.json

/**
 * Hugging Face's DINOv2 config stores the feed-forward width as `mlp_ratio`; transformers takes
 * int(width · ratio), then for SwiGLU (int(h · 2/3) + 7) // 8 · 8. This finds a ratio that gives
 * back `mlp` through that rounding: only config.json needs it, the shapes hold `mlp` itself.
 */
function dinoRatio(width: number, mlp: number, swiglu: boolean): number {
  const hiddenFor = (h: number) => (swiglu ? swigluHidden(h) : h);
  const start = swiglu ? Math.max(1, Math.floor(((mlp - 8) * 3) / 2)) : mlp;
  for (let h = start; h <= (swiglu ? Math.ceil((mlp * 3) / 2) + 2 : mlp); h++) {
    if (hiddenFor(h) !== mlp) continue;
    const exact = h / width;
    return Math.trunc(width * exact) === h ? exact : (h + 0.5) / width;
  }
  throw new RangeError(`dinov2: a SwiGLU feed-forward width must be a multiple of 8 (transformers rounds it), got mlp ${mlp}`);
}

/** The fields of `values` that differ from the class default (transformers saves only those). */
function unlessDefault(defaults: HfConfig, values: HfConfig): HfConfig {
  return Object.fromEntries(Object.entries(values).filter(([k, v]) => !isDeepStrictEqual(defaults[k], v)));
}

/** What GemmaConfig and LlamaConfig spell alike. */
function decoderFields(g: LanguageShape): HfConfig {
  return {
    vocab_size: g.vocab,
    hidden_size: g.width,
    intermediate_size: g.mlp,
    num_hidden_layers: g.depth,
    num_attention_heads: g.heads,
    num_key_value_heads: g.kv_heads,
    head_dim: g.head_dim,
  };
}

function writeGemma(g: GemmaShape): HfConfig {
  return {
    model_type: "gemma",
    ...decoderFields(g),
    hidden_activation: g.act,
    rope_theta: g.rope_theta,
    rms_norm_eps: g.norm_eps,
    max_position_embeddings: g.max_positions,
    pad_token_id: g.padTokenId,
    ...unlessDefault(GEMMA_DEFAULTS, { attention_bias: g.bias, tie_word_embeddings: g.tied, initializer_range: g.initStd }),
  };
}

function writeLlama(g: LlamaShape): HfConfig {
  return {
    model_type: "llama",
    ...decoderFields(g),
    hidden_act: g.act,
    rope_theta: g.rope_theta,
    rope_scaling: g.rope_scaling === null ? null : { type: "linear", factor: g.rope_scaling },
    rms_norm_eps: g.norm_eps,
    max_position_embeddings: g.max_positions,
    tie_word_embeddings: g.tied,
    pad_token_id: g.padTokenId,
    ...unlessDefault(LLAMA_DEFAULTS, { attention_bias: g.bias, mlp_bias: g.mlpBias, initializer_range: g.initStd }),
  };
}

function writeLanguage(g: LanguageShape): HfConfig {
  return g.family === "llama" ? writeLlama(g) : writeGemma(g);
}

function writeVit(v: VitShape): HfConfig {
  const common = {
    hidden_size: v.width,
    num_hidden_layers: v.depth,
    num_attention_heads: v.heads,
    patch_size: v.patch,
    hidden_act: v.act,
    layer_norm_eps: v.norm_eps,
  };
  switch (v.family) {
    case "clip_vit":
      return {
        model_type: "clip_vision_model",
        ...common,
        intermediate_size: v.mlp,
        image_size: v.position_image,
        ...unlessDefault(CLIP_VISION_DEFAULTS, { num_channels: v.channels, initializer_range: v.initStd, initializer_factor: v.initFactor }),
      };
    case "siglip":
      return {
        model_type: "siglip_vision_model",
        ...common,
        intermediate_size: v.mlp,
        image_size: v.position_image,
        vision_use_head: v.head,
        ...unlessDefault(SIGLIP_VISION_DEFAULTS, { num_channels: v.channels }),
      };
    case "dinov2":
      return {
        model_type: "dinov2",
        ...common,
        image_size: v.position_image,
        mlp_ratio: dinoRatio(v.width, v.mlp, v.ffn === "swiglu"),
        use_swiglu_ffn: v.ffn === "swiglu",
        layerscale_value: v.layer_scale,
        use_mask_token: v.mask_token,
        ...unlessDefault(DINOV2_DEFAULTS, { num_channels: v.channels, initializer_range: v.initStd, qkv_bias: v.qkvBias }),
        ...(v.interpolation === "size" ? {} : { mmfm_pos_interpolation: v.interpolation }),
      };
  }
}

function writeLlava(l: LlavaShape): HfConfig {
  const c = l.connector;
  return {
    model_type: "llava",
    image_token_index: l.imageTokenId,
    pad_token_id: l.padTokenId === -1 ? null : l.padTokenId,
    vision_feature_layer: l.select_layer,
    vision_feature_select_strategy: l.feature === "cls_patch" ? "full" : "default",
    projector_type: c.family,
    ...(c.family === "mlp"
      ? { projector_depth: c.depth, projector_hidden_act: c.act }
      : unlessDefault(LLAVA_DEFAULTS, { projector_hidden_act: c.act })),
    vision_config: writeVit(l.vision),
    text_config: writeLanguage(l.language),
    ...unlessDefault(LLAVA_DEFAULTS, { ignore_index: l.ignoreIndex, multimodal_projector_bias: c.bias }),
  };
}

/**
 * The config.json of a shape, as transformers would save it: every field the spec describes, and
 * the others where they differ from the class default. `shapeFromConfig` reads it back to the same
 * shape (tested for every family).
 */
export function configFromShape(shape: ModelShape): HfConfig {
  switch (shape.family) {
    case "gemma":
      return writeGemma(shape);
    case "llama":
      return writeLlama(shape);
    case "clip_vit":
    case "siglip":
    case "dinov2":
      return writeVit(shape);
    case "llava":
      return writeLlava(shape);
  }
}
