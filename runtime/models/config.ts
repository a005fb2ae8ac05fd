/**
 * Typed, checked views of resolved Hugging Face configs (defaults.ts fills in the class defaults).
 * A config is checked as a whole and every problem is reported at once, naming the field and its
 * value.
 */
import { isActivation, type Activation } from "./common.js";
import { ConfigError, type Json } from "./defaults.js";

export { ConfigError, MODEL_TYPES, withDefaults, type Json } from "./defaults.js";

/** Collects problems for one config, then throws them together. */
class Checker {
  readonly problems: string[] = [];
  constructor(
    readonly cfg: Json,
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

// ---------------------------------------------------------------------------------------------
// Typed views of resolved configs

export interface GemmaShape {
  vocab: number;
  width: number;
  mlpWidth: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  act: Activation;
  eps: number;
  ropeTheta: number;
  bias: boolean;
  tied: boolean;
  padTokenId: number | null;
  initStd: number;
}

export function gemmaShape(cfg: Json, where = ""): GemmaShape {
  const c = new Checker(cfg, where);
  if (cfg.model_type !== "gemma") {
    c.require(false, `model_type must be "gemma", got ${JSON.stringify(cfg.model_type)}`);
  }
  const heads = c.int("num_attention_heads");
  const kvHeads = c.int("num_key_value_heads");
  c.require(heads % kvHeads === 0, `\`num_attention_heads\` (${heads}) must be a multiple of \`num_key_value_heads\` (${kvHeads})`);
  // transformers 4.40 GemmaMLP: `hidden_activation` if set, else gelu_pytorch_tanh (`hidden_act` ignored, PR #29402).
  const act: Activation = cfg.hidden_activation == null ? "gelu_pytorch_tanh" : c.act("hidden_activation");
  const pad = cfg.pad_token_id;
  const shape: GemmaShape = {
    vocab: c.int("vocab_size"),
    width: c.int("hidden_size"),
    mlpWidth: c.int("intermediate_size"),
    layers: c.int("num_hidden_layers", 0),
    heads,
    kvHeads,
    headDim: c.int("head_dim"),
    act,
    eps: c.num("rms_norm_eps"),
    ropeTheta: c.num("rope_theta"),
    bias: c.bool("attention_bias"),
    tied: c.bool("tie_word_embeddings"),
    padTokenId: typeof pad === "number" ? pad : null,
    initStd: c.num("initializer_range"),
  };
  c.require(shape.headDim % 2 === 0, `\`head_dim\` (${shape.headDim}) must be even for rotary embeddings`);
  finish([c], "gemma");
  return shape;
}

export interface VitShape {
  family: "clip_vision_model" | "siglip_vision_model" | "dinov2";
  width: number;
  mlpWidth: number;
  layers: number;
  heads: number;
  channels: number;
  imageSize: number;
  patch: number;
  act: Activation;
  eps: number;
  /** CLIP and DINOv2 prepend a class token; SigLIP has none. */
  classToken: boolean;
  // CLIP
  initStd: number;
  initFactor: number;
  // SigLIP
  head: boolean;
  // DINOv2
  qkvBias: boolean;
  layerScale: number;
  swiglu: boolean;
  maskToken: boolean;
  /** DINOv2 position interpolation: "size" (current transformers) or "scale_factor" (<= 4.44). */
  interpolation: "size" | "scale_factor";
}

export function vitShape(cfg: Json, where = ""): VitShape {
  const c = new Checker(cfg, where);
  const family = cfg.model_type as VitShape["family"];
  if (!["clip_vision_model", "siglip_vision_model", "dinov2"].includes(family)) {
    c.require(false, `model_type ${JSON.stringify(cfg.model_type)} is not a vision encoder (clip_vision_model, siglip_vision_model, dinov2)`);
  }
  const width = c.int("hidden_size");
  const heads = c.int("num_attention_heads");
  c.require(width % heads === 0, `\`hidden_size\` (${width}) must be a multiple of \`num_attention_heads\` (${heads})`);
  const dino = family === "dinov2";
  let mlpWidth = dino ? Math.trunc(width * c.num("mlp_ratio")) : c.int("intermediate_size");
  const swiglu = dino && c.bool("use_swiglu_ffn");
  if (swiglu) mlpWidth = Math.floor((Math.trunc((mlpWidth * 2) / 3) + 7) / 8) * 8; // Dinov2SwiGLUFFN
  const shape: VitShape = {
    family,
    width,
    mlpWidth,
    layers: c.int("num_hidden_layers", 0),
    heads,
    channels: c.int("num_channels"),
    imageSize: c.int("image_size"),
    patch: c.int("patch_size"),
    act: c.act("hidden_act"),
    eps: c.num("layer_norm_eps"),
    classToken: family !== "siglip_vision_model",
    initStd: family === "siglip_vision_model" ? 0.02 : c.num("initializer_range"),
    initFactor: family === "clip_vision_model" ? c.num("initializer_factor") : 1,
    head: family === "siglip_vision_model" && c.bool("vision_use_head"),
    qkvBias: dino ? c.bool("qkv_bias") : true,
    layerScale: dino ? c.num("layerscale_value", false) : 1,
    swiglu,
    maskToken: dino && c.bool("use_mask_token"),
    interpolation: dino ? interpolationMode(cfg, c) : "size",
  };
  finish([c], family);
  return shape;
}

/**
 * transformers up to 4.44 interpolated DINOv2 positions with `scale_factor = (h + 0.1) / √N`; later
 * versions pass `size = (h, w)`. The two differ numerically, so a checkpoint saved by an older
 * transformers (its config's `transformers_version`) is run the old way; `mmfm_pos_interpolation`
 * ("size" | "scale_factor") overrides the choice.
 */
function interpolationMode(cfg: Json, c: Checker): "size" | "scale_factor" {
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

export type ProjectorType = "identity" | "linear" | "mlp";

export interface LlavaShape {
  vision: VitShape;
  text: GemmaShape;
  imageTokenId: number;
  ignoreIndex: number;
  /** hidden_states indices (negative counts from the end), one or several (concatenated). */
  featureLayers: number[];
  selectStrategy: "default" | "full";
  projector: ProjectorType;
  projectorDepth: number;
  projectorAct: Activation;
  projectorBias: boolean;
  /** LLaVA 4.40 compares the last token with this to detect left padding; -1 when unset. */
  padTokenId: number;
}

export function llavaShape(cfg: Json): LlavaShape {
  const c = new Checker(cfg, "");
  const text = cfg.text_config as Json;
  const vision = cfg.vision_config as Json;
  const checks = [c];
  let textShape: GemmaShape | null = null;
  let visionShape: VitShape | null = null;
  if (text.model_type !== "gemma") {
    c.require(false, `text_config.model_type must be "gemma" (the only language family here), got ${JSON.stringify(text.model_type)}`);
  } else {
    try {
      textShape = gemmaShape(text, "text_config.");
    } catch (e) {
      c.problems.push(...(e as Error).message.split("\n").slice(1).map((l) => l.trim()));
    }
  }
  try {
    visionShape = vitShape(vision, "vision_config.");
  } catch (e) {
    c.problems.push(...(e as Error).message.split("\n").slice(1).map((l) => l.trim()));
  }
  const rawLayers = cfg.vision_feature_layer;
  const featureLayers = Array.isArray(rawLayers) ? (rawLayers as unknown[]) : [rawLayers];
  const nHidden = (visionShape?.layers ?? 0) + 1;
  for (const l of featureLayers) {
    c.require(
      typeof l === "number" && Number.isInteger(l) && l >= -nHidden && l < nHidden,
      `\`vision_feature_layer\` ${JSON.stringify(l)} must index the ${nHidden} vision hidden states (from ${-nHidden} to ${nHidden - 1})`,
    );
  }
  // LLaVA's own names: "patch" drops the class token ("default"), "cls_patch" keeps it ("full").
  const aliases: Record<string, string> = { patch: "default", cls_patch: "full" };
  const rawStrategy = cfg.vision_feature_select_strategy;
  const strategy = typeof rawStrategy === "string" ? (aliases[rawStrategy] ?? rawStrategy) : rawStrategy;
  c.require(
    strategy === "default" || strategy === "full",
    `\`vision_feature_select_strategy\` must be "default" or "full" ("patch" or "cls_patch"), got ${JSON.stringify(rawStrategy)}`,
  );
  const projector = cfg.projector_type as ProjectorType;
  c.require(["identity", "linear", "mlp"].includes(projector), `\`projector_type\` must be "identity", "linear" or "mlp", got ${JSON.stringify(projector)}`);
  const depth = projector === "mlp" ? c.int("projector_depth", 2) : projector === "linear" ? 1 : 0;
  const imageTokenId = c.int("image_token_index", 0);
  const shape: LlavaShape = {
    vision: visionShape as VitShape,
    text: textShape as GemmaShape,
    imageTokenId,
    ignoreIndex: c.num("ignore_index", false),
    featureLayers: featureLayers as number[],
    selectStrategy: strategy as "default" | "full",
    projector,
    projectorDepth: depth,
    projectorAct: c.act("projector_hidden_act"),
    projectorBias: c.bool("multimodal_projector_bias"),
    padTokenId: typeof cfg.pad_token_id === "number" ? cfg.pad_token_id : -1,
  };
  if (visionShape && textShape && projector === "identity") {
    const featureWidth = visionShape.width * featureLayers.length;
    c.require(featureWidth === textShape.width, `an identity projector needs vision feature width ${featureWidth} to equal text hidden_size ${textShape.width}`);
  }
  finish(checks, "llava");
  return shape;
}
