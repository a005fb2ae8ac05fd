/**
 * `PretrainedModel`: a family's forward pass over a map of tfjs variables named by Hugging Face keys.
 *
 * Families by config `model_type`: gemma (GemmaForCausalLM), clip_vision_model (CLIPVisionModel; a
 * full `clip` config gives its vision part), siglip_vision_model (SiglipVisionModel; likewise
 * `siglip`), dinov2 (Dinov2Model) and llava (LlavaForConditionalGeneration).
 */
import { tf } from "../tf.js";
import type { Component } from "../../plan/plan.js";
import { dims, ParamView, Specs, type ParamSpec } from "./common.js";
import { ConfigError, gemmaShape, llavaShape, vitShape, withDefaults, type GemmaShape, type Json } from "./config.js";
import { arangePositions, gemmaEmbed, gemmaForward, gemmaSpecs } from "./gemma.js";
import { initValues } from "./init.js";
import {
  CONNECTOR_PREFIX,
  LANGUAGE_PREFIX,
  llavaDecoderInputs,
  llavaForward,
  llavaSpecs,
  VISION_PREFIX,
  visionEncoder,
  type DecoderInputs,
} from "./llava.js";

export interface ModelInputs {
  /** int32 [B, T] token ids. */
  inputIds?: tf.Tensor;
  /** [B, T], 1 = attend, 0 = padding. */
  attentionMask?: tf.Tensor;
  /** int32 [B, T]; -100 is ignored. Shifted inside, as transformers does. */
  labels?: tf.Tensor;
  /** float32 [B, C, H, W], channels first. */
  pixelValues?: tf.Tensor;
  /** int32 [B, T] positions (default: 0..T-1; LLaVA "expand": from the merged mask). */
  positionIds?: tf.Tensor;
  outputHiddenStates?: boolean;
}

export interface ModelOutputs {
  logits?: tf.Tensor;
  lastHiddenState?: tf.Tensor;
  poolerOutput?: tf.Tensor;
  hiddenStates?: tf.Tensor[];
  loss?: tf.Scalar;
}

export interface PretrainedModel {
  readonly modelType: string;
  /** The resolved Hugging Face config (class defaults filled in). */
  readonly config: Readonly<Json>;
  /** Hugging Face checkpoint key -> variable. Tied weights appear once, under the embedding's key. */
  readonly parameters: Map<string, tf.Variable>;
  /** Synchronous, so it can run inside tf.variableGrads. Intermediate tensors are freed. */
  forward(inputs: ModelInputs): ModelOutputs;
  dispose(): void;
}

/** "vision" | "connector" | "language": the plan's component names (one definition, in plan.ts). */
export type { Component };

/** What a family provides. */
export interface Family {
  readonly modelType: string;
  readonly architecture: string;
  readonly specs: readonly ParamSpec[];
  /** Parameter-name prefixes of each component ("" = every parameter). */
  readonly components: Partial<Record<Component, string>>;
  forward(p: ParamView, inputs: ModelInputs): ModelOutputs;
  /** For text generation: the Gemma decoder, its key prefix, and how inputs become its embeddings. */
  readonly decoder?: {
    readonly text: GemmaShape;
    readonly prefix: string;
    inputs(p: ParamView, inputs: ModelInputs): DecoderInputs;
  };
}

/** Resolves a raw config (defaults, checks) and builds its family. */
export function familyOf(raw: Json): { config: Json; family: Family } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`a model config must be a JSON object, got ${JSON.stringify(raw)}`);
  }
  const config = withDefaults(raw);
  const s = new Specs();
  switch (config.model_type) {
    case "gemma": {
      const g = gemmaShape(config);
      gemmaSpecs(s, g);
      return {
        config,
        family: {
          modelType: "gemma",
          architecture: "GemmaForCausalLM",
          specs: s.list,
          components: { language: "" },
          forward: (p, inputs) => gemmaForward(p, g, inputs),
          decoder: {
            text: g,
            prefix: "",
            inputs: (p, inputs) => {
              if (!inputs.inputIds) throw new Error("gemma needs inputIds [batch, length]");
              return {
                embeds: gemmaEmbed(p, g, inputs.inputIds),
                attentionMask: inputs.attentionMask,
                positions: inputs.positionIds ?? arangePositions(dims(inputs.inputIds)[1]),
              };
            },
          },
        },
      };
    }
    case "clip_vision_model":
    case "siglip_vision_model":
    case "dinov2": {
      const v = vitShape(config);
      const encoder = visionEncoder(v);
      encoder.specs(s);
      const names = { clip_vision_model: "CLIPVisionModel", siglip_vision_model: "SiglipVisionModel", dinov2: "Dinov2Model" };
      return {
        config,
        family: {
          modelType: v.family,
          architecture: names[v.family],
          specs: s.list,
          components: { vision: "" },
          forward: (p, inputs) => {
            if (!inputs.pixelValues) throw new Error(`${v.family} needs pixelValues [batch, ${v.channels}, height, width]`);
            return encoder.forward(p, inputs.pixelValues, inputs.outputHiddenStates === true);
          },
        },
      };
    }
    case "llava": {
      const l = llavaShape(config);
      llavaSpecs(s, l);
      return {
        config,
        family: {
          modelType: "llava",
          architecture: "LlavaForConditionalGeneration",
          specs: s.list,
          components: { vision: `${VISION_PREFIX}.`, connector: `${CONNECTOR_PREFIX}.`, language: `${LANGUAGE_PREFIX}.` },
          forward: (p, inputs) => llavaForward(p, l, inputs),
          decoder: { text: l.text, prefix: LANGUAGE_PREFIX, inputs: (p, inputs) => llavaDecoderInputs(p, l, inputs) },
        },
      };
    }
    default:
      throw new ConfigError(`model_type ${JSON.stringify(config.model_type)} is not supported`);
  }
}

let serial = 0;

/** A model over its own variables. Variable names are unique per model, so models can coexist. */
export class Model implements PretrainedModel {
  readonly modelType: string;
  readonly parameters = new Map<string, tf.Variable>();
  private disposed = false;

  constructor(
    readonly config: Readonly<Json>,
    readonly family: Family,
    values: (spec: ParamSpec) => Float32Array,
  ) {
    this.modelType = family.modelType;
    const id = `mmfm.model${serial++}`;
    for (const spec of family.specs) {
      const initial = tf.tensor(values(spec), [...spec.shape], "float32");
      this.parameters.set(spec.name, tf.variable(initial, true, `${id}/${spec.name}`));
      initial.dispose();
    }
  }

  forward(inputs: ModelInputs): ModelOutputs {
    if (this.disposed) throw new Error(`this ${this.modelType} model was disposed`);
    const view = new ParamView(this.parameters);
    const out = tf.tidy(() => this.family.forward(view, inputs) as unknown as tf.TensorContainer);
    return out as unknown as ModelOutputs;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.parameters.values()) v.dispose();
  }
}

/** A new model with seeded initialisation (identical values on every backend for the same seed). */
export function createModel(config: object, options: { seed: number }): PretrainedModel {
  if (!Number.isInteger(options?.seed)) throw new Error(`createModel needs an integer seed, got ${JSON.stringify(options?.seed)}`);
  const { config: resolved, family } = familyOf(config as Json);
  return new Model(resolved, family, (spec) => initValues(options.seed, spec.name, spec.shape, spec.init));
}

/** Total number of parameter elements (tied weights once). */
export function parameterCount(model: PretrainedModel): number {
  let n = 0;
  for (const v of model.parameters.values()) n += v.size;
  return n;
}

/** Parameter count of a config, without allocating anything. */
export function configParameterCount(config: object): number {
  return familyOf(config as Json).family.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Parameter-name prefixes of each component the model has ("" = all parameters). */
export function componentPrefixes(model: PretrainedModel): Partial<Record<Component, string>> {
  return model instanceof Model ? model.family.components : familyOf(model.config as Json).family.components;
}

/**
 * The variables of the given components, by key. For LLaVA: vision = `vision_tower.*`,
 * connector = `multi_modal_projector.*`, language = `language_model.*`. A Gemma model has only
 * "language", a vision encoder only "vision"; asking for a component a model lacks is an error.
 */
export function trainableParameters(model: PretrainedModel, components: readonly Component[]): Map<string, tf.Variable> {
  const prefixes = componentPrefixes(model);
  const out = new Map<string, tf.Variable>();
  for (const c of components) {
    const prefix = prefixes[c];
    if (prefix === undefined) {
      throw new Error(`a ${model.modelType} model has no \`${c}\` component (it has: ${Object.keys(prefixes).join(", ")})`);
    }
    for (const [name, v] of model.parameters) if (name.startsWith(prefix)) out.set(name, v);
  }
  return out;
}
