/**
 * From the typed graph descriptions (runtime/graph.ts) to models: each description becomes the
 * Hugging Face config of the same architecture, then a seeded model; a component whose `weights`
 * names a local Hugging Face folder is loaded from it (the paper's recipe: pretrained backbones, a
 * fresh connector).
 *
 * Field mapping (graph -> config.json): width -> hidden_size, depth -> num_hidden_layers,
 * heads -> num_attention_heads, mlp -> intermediate_size (DINOv2: mlp_ratio, chosen so that
 * transformers' rounding gives back `mlp`), act quick_gelu/gelu/gelu_tanh -> quick_gelu/gelu/
 * gelu_pytorch_tanh, norm_eps -> layer_norm_eps / rms_norm_eps, select_layer ->
 * vision_feature_layer, feature patch/cls_patch -> vision_feature_select_strategy default/full.
 */
import type { Connector, LanguageModel, LlavaModel, VisionEncoder } from "../graph.js";
import { capped, LoadError, loadPretrained } from "../pretrained.js";
import type { Json } from "./config.js";
import { createModel, type PretrainedModel } from "./model.js";

type Graph = LlavaModel<number, number> | VisionEncoder<number> | LanguageModel<number>;

const ACT = { quick_gelu: "quick_gelu", gelu: "gelu", gelu_tanh: "gelu_pytorch_tanh" } as const;

/** DINOv2 stores mlp_ratio; transformers takes int(width·ratio), then for SwiGLU (int(h·2/3) + 7) // 8 · 8. */
function dinoRatio(width: number, mlp: number, swiglu: boolean): number {
  const hiddenFor = (h: number) => (swiglu ? Math.floor((Math.trunc((h * 2) / 3) + 7) / 8) * 8 : h);
  const start = swiglu ? Math.max(1, Math.floor(((mlp - 8) * 3) / 2)) : mlp;
  for (let h = start; h <= (swiglu ? Math.ceil((mlp * 3) / 2) + 2 : mlp); h++) {
    if (hiddenFor(h) !== mlp) continue;
    const exact = h / width;
    return Math.trunc(width * exact) === h ? exact : (h + 0.5) / width;
  }
  throw new RangeError(`dinov2: a SwiGLU feed-forward width must be a multiple of 8 (transformers rounds it), got mlp ${mlp}`);
}

/** The config.json of a vision description. */
export function visionConfig(v: VisionEncoder<number>): Json {
  const c = v.config;
  const common = {
    hidden_size: c.width,
    num_hidden_layers: c.depth,
    num_attention_heads: c.heads,
    patch_size: c.patch,
    hidden_act: ACT[c.act],
    layer_norm_eps: c.normEps,
  };
  switch (v.family) {
    case "clip_vit":
      return { model_type: "clip_vision_model", ...common, intermediate_size: c.mlp, image_size: c.image };
    case "siglip":
      return { model_type: "siglip_vision_model", ...common, intermediate_size: c.mlp, image_size: c.image, vision_use_head: "head" in c ? c.head : true };
    case "dinov2": {
      const d = c as Extract<typeof c, { ffn: unknown }>;
      return {
        model_type: "dinov2",
        ...common,
        image_size: d.positionImage,
        mlp_ratio: dinoRatio(c.width, c.mlp, d.ffn === "swiglu"),
        use_swiglu_ffn: d.ffn === "swiglu",
        layerscale_value: d.layerScale,
        use_mask_token: d.maskToken,
      };
    }
  }
}

/** The config.json of a Gemma description. */
export function textConfig(l: LanguageModel<number>, padTokenId = 0): Json {
  const c = l.config;
  return {
    model_type: "gemma",
    vocab_size: c.vocab,
    hidden_size: c.width,
    intermediate_size: c.mlp,
    num_hidden_layers: c.depth,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    head_dim: c.headDim,
    hidden_activation: c.act === "gelu_tanh" ? "gelu_pytorch_tanh" : "gelu",
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.normEps,
    max_position_embeddings: c.maxPositions,
    pad_token_id: padTokenId,
  };
}

function connectorFields(c: Connector<number, number>): Json {
  if (c.family === "mlp") return { projector_type: "mlp", projector_depth: c.depth, projector_hidden_act: c.act };
  return { projector_type: c.family };
}

/** The config.json of a LLaVA description. `imageTokenId` is the tokenizer's id of the image token. */
export function llavaConfig(m: LlavaModel<number, number>, ids: { imageTokenId: number; padTokenId?: number }): Json {
  const v = m.vision.config;
  return {
    model_type: "llava",
    image_token_index: ids.imageTokenId,
    pad_token_id: ids.padTokenId ?? null,
    vision_feature_layer: v.selectLayer,
    vision_feature_select_strategy: v.feature === "cls_patch" ? "full" : "default",
    ...connectorFields(m.connector),
    vision_config: visionConfig(m.vision),
    text_config: textConfig(m.language, ids.padTokenId ?? 0),
  };
}

export interface BuildOptions {
  seed: number;
  /** LLaVA: the tokenizer's id of the image token (required). */
  imageTokenId?: number;
  padTokenId?: number;
}

/**
 * A model from a graph description, seeded; components with `weights` (a local Hugging Face folder)
 * are loaded from it, and must have the described architecture (every difference is reported).
 */
export async function buildModel(graph: Graph, options: BuildOptions): Promise<PretrainedModel> {
  if (graph.kind === "vision" || graph.kind === "language") {
    const config = graph.kind === "vision" ? visionConfig(graph) : textConfig(graph, options.padTokenId);
    const model = createModel(config, { seed: options.seed });
    if (graph.config.weights) await copyFrom(model, graph.config.weights, "");
    return model;
  }
  if (options.imageTokenId === undefined) {
    throw new Error("buildModel: a LLaVA model needs `imageTokenId`, the tokenizer's id of the image token");
  }
  const model = createModel(llavaConfig(graph, { imageTokenId: options.imageTokenId, padTokenId: options.padTokenId }), { seed: options.seed });
  if (graph.vision.config.weights) await copyFrom(model, graph.vision.config.weights, "vision_tower.");
  if (graph.language.config.weights) await copyFrom(model, graph.language.config.weights, "language_model.");
  return model;
}

/** Copies every parameter of the checkpoint in `dir` into `model` under `prefix`. */
async function copyFrom(model: PretrainedModel, dir: string, prefix: string): Promise<void> {
  const source = await loadPretrained(dir);
  try {
    const problems: string[] = [];
    const wanted = [...model.parameters.keys()].filter((k) => k.startsWith(prefix));
    for (const key of wanted) {
      const from = source.parameters.get(key.slice(prefix.length));
      const to = model.parameters.get(key)!;
      if (!from) problems.push(`\`${key.slice(prefix.length)}\` [${to.shape.join(", ")}] is missing`);
      else if (from.shape.join(",") !== to.shape.join(",")) {
        problems.push(`\`${key.slice(prefix.length)}\`: checkpoint [${from.shape.join(", ")}], described architecture [${to.shape.join(", ")}]`);
      }
    }
    for (const key of source.parameters.keys()) {
      if (!model.parameters.has(prefix + key)) problems.push(`\`${key}\` is not part of the described architecture`);
    }
    if (problems.length > 0) {
      throw new LoadError(
        `the weights in ${dir} do not fit the described ${source.modelType}:\n  ${capped(problems).join("\n  ")}\n` +
          `  help: make the component in the spec match ${dir}/config.json, or point \`weights\` at a folder of this architecture`,
      );
    }
    for (const key of wanted) model.parameters.get(key)!.assign(source.parameters.get(key.slice(prefix.length))!);
  } finally {
    source.dispose();
  }
}
