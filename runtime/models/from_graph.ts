/**
 * From the typed graph descriptions (runtime/graph.ts) to models: a description becomes the shape of
 * the same architecture (shapes.ts) directly, field for field under the same names, and what it
 * does not say (initialisation, biases, tying...) is what transformers' config class says
 * (`defaultShape`). A component whose `weights` names a local Hugging Face folder is then loaded
 * from it (the paper's recipe: pretrained backbones, a fresh connector).
 *
 * The model keeps the shape's config.json as its `config` (for saveModel); `visionConfig`,
 * `textConfig` and `llavaConfig` give that config.json of a description.
 */
import type { Connector, LanguageModel, LlavaModel, VisionEncoder } from "../graph.js";
import type { Activation } from "./common.js";
import { configFromShape, defaultShape, type HfConfig } from "./hf_config.js";
import { createModelOfShape, type PretrainedModel } from "./model.js";
import { capped, LoadError, loadPretrained } from "./pretrained.js";
import type { ConnectorShape, LanguageShape, LlavaShape, VitShape } from "./shapes.js";

type Graph = LlavaModel<number, number> | VisionEncoder<number> | LanguageModel<number>;

/** The spec's activations by the runtime's (transformers') function names. */
const ACT: Record<"quick_gelu" | "gelu" | "gelu_tanh" | "silu", Activation> = { quick_gelu: "quick_gelu", gelu: "gelu", gelu_tanh: "gelu_pytorch_tanh", silu: "silu" };

/** The shape of a vision description. */
export function visionShape(v: VisionEncoder<number>): VitShape {
  const c = v.config;
  const common = {
    ...defaultShape(v.family),
    width: c.width,
    depth: c.depth,
    heads: c.heads,
    mlp: c.mlp,
    patch: c.patch,
    act: ACT[c.act],
    norm_eps: c.norm_eps,
  };
  switch (v.family) {
    case "clip_vit":
      return { ...common, position_image: c.image };
    case "siglip":
      return { ...common, position_image: c.image, head: "head" in c ? c.head : true };
    case "dinov2": {
      const d = c as Extract<typeof c, { ffn: unknown }>;
      return { ...common, position_image: d.position_image, ffn: d.ffn, layer_scale: d.layer_scale, mask_token: d.mask_token };
    }
  }
}

/**
 * The shape of a language description (Gemma or Llama). `padTokenId`, the embedding's padding row,
 * defaults to the config class's: 0 for Gemma, none for Llama.
 */
export function languageShape(l: LanguageModel<number>, padTokenId?: number): LanguageShape {
  const c = l.config;
  const common = {
    vocab: c.vocab,
    width: c.width,
    mlp: c.mlp,
    depth: c.depth,
    heads: c.heads,
    kv_heads: c.kv_heads,
    head_dim: c.head_dim,
    act: ACT[c.act],
    rope_theta: c.rope_theta,
    norm_eps: c.norm_eps,
    max_positions: c.max_positions,
    initStd: c.init_std,
  };
  if (l.family === "llama") {
    const base = defaultShape("llama");
    return { ...base, ...common, rope_scaling: l.config.rope_scaling, tied: l.config.tied, padTokenId: padTokenId ?? base.padTokenId };
  }
  return { ...defaultShape("gemma"), ...common, padTokenId: padTokenId ?? 0 };
}

function connectorShape(c: Connector<number, number>, base: ConnectorShape): ConnectorShape {
  return { ...base, family: c.family, depth: c.depth, act: c.act };
}

/** The shape of a LLaVA description. `imageTokenId` is the tokenizer's id of the image token. */
export function llavaShape(m: LlavaModel<number, number>, ids: { imageTokenId: number; padTokenId?: number }): LlavaShape {
  const base = defaultShape("llava");
  const v = m.vision.config;
  return {
    ...base,
    vision: visionShape(m.vision),
    connector: connectorShape(m.connector, base.connector),
    language: languageShape(m.language, ids.padTokenId),
    select_layer: v.select_layer,
    feature: v.feature,
    imageTokenId: ids.imageTokenId,
    padTokenId: ids.padTokenId ?? -1,
  };
}

/** The config.json of a vision description. */
export function visionConfig(v: VisionEncoder<number>): HfConfig {
  return configFromShape(visionShape(v));
}

/** The config.json of a language description (Gemma or Llama). */
export function textConfig(l: LanguageModel<number>, padTokenId?: number): HfConfig {
  return configFromShape(languageShape(l, padTokenId));
}

/** The config.json of a LLaVA description. `imageTokenId` is the tokenizer's id of the image token. */
export function llavaConfig(m: LlavaModel<number, number>, ids: { imageTokenId: number; padTokenId?: number }): HfConfig {
  return configFromShape(llavaShape(m, ids));
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
    const shape = graph.kind === "vision" ? visionShape(graph) : languageShape(graph, options.padTokenId);
    const model = createModelOfShape(shape, { seed: options.seed });
    if (graph.config.weights) await copyFrom(model, graph.config.weights, "");
    return model;
  }
  if (options.imageTokenId === undefined) {
    throw new Error("buildModel: a LLaVA model needs `imageTokenId`, the tokenizer's id of the image token");
  }
  const shape = llavaShape(graph, { imageTokenId: options.imageTokenId, padTokenId: options.padTokenId });
  const model = createModelOfShape(shape, { seed: options.seed });
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
