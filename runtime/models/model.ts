/**
 * `PretrainedModel`: a family's forward pass over a map of tfjs variables named by Hugging Face keys.
 *
 * Families by shape (shapes.ts): gemma (GemmaForCausalLM), llama (LlamaForCausalLM), clip_vit (CLIPVisionModel), siglip
 * (SiglipVisionModel), dinov2 (Dinov2Model) and llava (LlavaForConditionalGeneration). A model is made
 * from a shape (a graph description's, from_graph.ts) or from a Hugging Face config.json
 * (hf_config.ts reads it into a shape; a full CLIP or SigLIP config gives its vision part).
 */
import { isDeepStrictEqual } from "node:util";
import { InternalError } from "../../core/errors.js";
import { tf } from "../tf.js";
import type { Component } from "../../plan/plan.js";
import { dims, ParamView, Specs, type AdapterContext, type ParamSpec } from "./common.js";
import type { ModelInputs, ModelOutputs } from "./forward.js";
import { configFromShape, shapeFromConfig, TRANSFORMERS_CLASS, type HfConfig } from "./hf_config.js";
import { arangePositions, causalLmForward, decoderSpecs, embedTokens } from "./decoder.js";
import { initValues } from "./init.js";
import {
  CONNECTOR_PREFIX,
  LANGUAGE_PREFIX,
  llavaForward,
  llavaSequence,
  llavaSpecs,
  VISION_PREFIX,
  visionEncoder,
  type DecoderSequence,
} from "./llava.js";
import type { LanguageShape, ModelShape } from "./shapes.js";

export type { ModelInputs, ModelOutputs };

export interface PretrainedModel {
  readonly modelType: string;
  /** The resolved Hugging Face config (class defaults filled in). */
  readonly config: Readonly<HfConfig>;
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
  readonly shape: ModelShape;
  readonly specs: readonly ParamSpec[];
  /** Parameter-name prefixes of each component ("" = every parameter). */
  readonly components: Partial<Record<Component, string>>;
  forward(p: ParamView, inputs: ModelInputs): ModelOutputs;
  /** For text generation: the language decoder, its key prefix, and the sequence a forward call's inputs make. */
  readonly decoder?: {
    readonly language: LanguageShape;
    readonly prefix: string;
    sequence(p: ParamView, inputs: ModelInputs): DecoderSequence;
  };
}

/** The family a shape describes: its parameters, components and forward pass. */
export function familyOf(shape: ModelShape): Family {
  const { modelType, architecture } = TRANSFORMERS_CLASS[shape.family];
  const s = new Specs();
  switch (shape.family) {
    case "gemma":
    case "llama": {
      const g = shape;
      decoderSpecs(s, g);
      return {
        modelType,
        architecture,
        shape,
        specs: s.list,
        components: { language: "" },
        forward: (p, inputs) => causalLmForward(p, g, inputs),
        decoder: {
          language: g,
          prefix: "",
          sequence: (p, inputs) => {
            if (!inputs.inputIds) throw new Error(`${g.family} needs inputIds [batch, length]`);
            return {
              embeds: embedTokens(p, g, inputs.inputIds),
              attentionMask: inputs.attentionMask,
              positions: inputs.positionIds ?? arangePositions(dims(inputs.inputIds)[1]),
            };
          },
        },
      };
    }
    case "clip_vit":
    case "siglip":
    case "dinov2": {
      const v = shape;
      const encoder = visionEncoder(v);
      encoder.specs(s);
      return {
        modelType,
        architecture,
        shape,
        specs: s.list,
        components: { vision: "" },
        forward: (p, inputs) => {
          if (!inputs.pixelValues) throw new Error(`${modelType} needs pixelValues [batch, ${v.channels}, height, width]`);
          return encoder.forward(p, inputs.pixelValues, inputs.outputHiddenStates === true);
        },
      };
    }
    case "llava": {
      const l = shape;
      llavaSpecs(s, l);
      return {
        modelType,
        architecture,
        shape,
        specs: s.list,
        components: { vision: `${VISION_PREFIX}.`, connector: `${CONNECTOR_PREFIX}.`, language: `${LANGUAGE_PREFIX}.` },
        forward: (p, inputs) => llavaForward(p, l, inputs),
        decoder: { language: l.language, prefix: LANGUAGE_PREFIX, sequence: (p, inputs) => llavaSequence(p, l, inputs) },
      };
    }
  }
}

/** A raw Hugging Face config: resolved (defaults, checks) and the family it describes. */
export function familyFromConfig(raw: HfConfig): { config: HfConfig; family: Family } {
  const { config, shape } = shapeFromConfig(raw);
  return { config, family: familyOf(shape) };
}

let serial = 0;

/** A model over its own variables. Variable names are unique per model, so models can coexist. */
export class Model implements PretrainedModel {
  readonly modelType: string;
  readonly parameters = new Map<string, tf.Variable>();
  /** the settings of LoRA adapters among `parameters` (runtime/models/lora.ts), while there are any */
  adapters: Omit<AdapterContext, "seed"> | undefined;
  private disposed = false;

  constructor(
    readonly config: Readonly<HfConfig>,
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
    const view = new ParamView(this.parameters, "", this.adapters && { ...this.adapters, seed: inputs.dropoutSeed });
    const out = tf.tidy(() => this.family.forward(view, inputs) as unknown as tf.TensorContainer);
    return out as unknown as ModelOutputs;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.parameters.values()) v.dispose();
  }
}

function checkSeed(options: { seed: number }): void {
  if (!Number.isInteger(options?.seed)) throw new Error(`createModel needs an integer seed, got ${JSON.stringify(options?.seed)}`);
}

/** A new model with seeded initialisation (identical values on every backend for the same seed). */
export function createModel(config: object, options: { seed: number }): PretrainedModel {
  checkSeed(options);
  const { config: resolved, family } = familyFromConfig(config as HfConfig);
  return new Model(resolved, family, (spec) => initValues(options.seed, spec.name, spec.shape, spec.init));
}

/**
 * A new seeded model of a shape (as createModel). Its `config`, for saveModel, is the shape's
 * config.json, which is checked here as any config is and must read back to this very shape: what
 * saveModel writes, loadPretrained builds again.
 */
export function createModelOfShape(shape: ModelShape, options: { seed: number }): PretrainedModel {
  checkSeed(options);
  const { config, shape: readBack } = shapeFromConfig(configFromShape(shape));
  if (!isDeepStrictEqual(readBack, shape)) {
    throw new InternalError(`the config.json of a ${shape.family} shape reads back as another shape:\n${JSON.stringify(shape)}\n${JSON.stringify(readBack)}`);
  }
  return new Model(config, familyOf(shape), (spec) => initValues(options.seed, spec.name, spec.shape, spec.init));
}

/** Total number of parameter elements (tied weights once). */
export function parameterCount(model: PretrainedModel): number {
  let n = 0;
  for (const v of model.parameters.values()) n += v.size;
  return n;
}

/** Parameter count of a config, without allocating anything. */
export function configParameterCount(config: object): number {
  return familyFromConfig(config as HfConfig).family.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Parameter-name prefixes of each component the model has ("" = all parameters). */
export function componentPrefixes(model: PretrainedModel): Partial<Record<Component, string>> {
  return model instanceof Model ? model.family.components : familyFromConfig(model.config as HfConfig).family.components;
}

/**
 * The variables of the given components, by key. For LLaVA: vision = `vision_tower.*`,
 * connector = `multi_modal_projector.*`, language = `language_model.*`. A Gemma or Llama model has only
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
