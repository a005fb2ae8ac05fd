/**
 * The model side of the mmfm runtime: families that equal the transformers implementations, seeded
 * creation, Hugging Face checkpoints, and greedy generation.
 */
export {
  createModel,
  configParameterCount,
  componentPrefixes,
  parameterCount,
  trainableParameters,
  type ModelInputs,
  type ModelOutputs,
  type PretrainedModel,
} from "./model.js";
export { loadPretrained, saveModel, LoadError } from "./pretrained.js";
export { generate, type GenerateOptions } from "./generate.js";
export { sampleTokens, samplingDistribution, TRANSFORMERS_TOP_K, type SamplingOptions } from "./sampling.js";
export { ConfigError, MODEL_TYPES, withDefaults } from "./hf_config.js";
export { ACTIVATIONS, type Activation } from "./common.js";
export { SafetensorsError } from "../weights/safetensors.js";
export { addAdapters, adapterNames, LORA_A, LORA_B, loraTargets, mergeAdapters, type LoraOptions, type LoraTarget } from "./lora.js";
export { buildModel, llavaConfig, textConfig, visionConfig, type BuildOptions } from "./from_graph.js";
