/**
 * Hugging Face model folders: `loadPretrained(dir)` and `saveModel(model, dir)`.
 *
 * A folder holds `config.json` and `model.safetensors` (or shards with `model.safetensors.index.json`).
 * Loading resolves the config, checks it against the architecture, then compares the checkpoint with
 * the parameters the architecture needs and reports every missing, unexpected and mis-shaped tensor in
 * one error before reading any data. Known non-parameters are skipped (`*.position_ids` buffers, rotary
 * `inv_freq`, the text tower of a full CLIP/SigLIP checkpoint). Tied weights load once: a checkpoint
 * that kept `lm_head.weight` instead of the embedding gives it to the embedding.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { registerGradients } from "../backend/gradients.js";
import { checkArchitectures, modelTypeOf, savedConfig, type HfConfig } from "./hf_config.js";
import { familyFromConfig, Model, type PretrainedModel } from "./model.js";
import { openCheckpoint, writeCheckpoint, type CheckpointEntry } from "../weights/checkpoint.js";
import type { HostTensor } from "../weights/safetensors.js";

export class LoadError extends Error {
  override readonly name = "LoadError";
}

/** Checkpoint keys that are not parameters of the model we build from this config. */
function ignored(key: string, modelType: string): boolean {
  if (/(^|\.)position_ids$/.test(key) || /rotary_emb\.inv_freq$/.test(key)) return true;
  if (modelType === "clip" || modelType === "siglip") return !key.startsWith("vision_model.");
  if (modelType === "clip_vision_model") return key === "visual_projection.weight";
  return false;
}

/** Newer transformers (>= 4.52) save LLaVA as `model.{vision_tower,multi_modal_projector,language_model}` + `lm_head`. */
function canonicalKey(key: string, modelType: string): string {
  if (modelType !== "llava") return key;
  const moves: [string, string][] = [
    ["model.language_model.", "language_model.model."],
    ["model.vision_tower.", "vision_tower."],
    ["model.multi_modal_projector.", "multi_modal_projector."],
    ["lm_head.", "language_model.lm_head."],
  ];
  for (const [from, to] of moves) if (key.startsWith(from)) return to + key.slice(from.length);
  return key;
}

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;

export async function readConfig(dir: string): Promise<HfConfig> {
  const path = join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new LoadError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as HfConfig;
  } catch (e) {
    throw new LoadError(`${path} is not valid JSON (${(e as Error).message})`);
  }
}

/** Loads a Hugging Face folder (config.json + safetensors) for any supported family. */
export async function loadPretrained(dir: string): Promise<PretrainedModel> {
  await registerGradients(); // once per process: tfjs-core alone has none, and forward must be differentiable
  const raw = await readConfig(dir);
  checkArchitectures(raw, join(dir, "config.json"));
  const type = modelTypeOf(raw);
  const { config, family } = familyFromConfig(raw);
  const ckpt = await openCheckpoint(dir);

  const byKey = new Map<string, CheckpointEntry>();
  const unexpected: string[] = [];
  for (const [key, entry] of ckpt.entries) {
    if (ignored(key, type)) continue;
    byKey.set(canonicalKey(key, type), entry);
  }
  const wanted = new Map(family.specs.map((s) => [s.name, s]));
  const embedKey = [...wanted.keys()].find((k) => k.endsWith("model.embed_tokens.weight"));
  if (embedKey) {
    const headKey = embedKey.replace(/model\.embed_tokens\.weight$/, "lm_head.weight");
    if (!wanted.has(headKey) && byKey.has(headKey)) {
      // Tied: one tensor. Keep the embedding; a checkpoint that stored only the head gives it to the embedding.
      if (!byKey.has(embedKey)) byKey.set(embedKey, byKey.get(headKey)!);
      byKey.delete(headKey);
    }
  }
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const [name, spec] of wanted) {
    const entry = byKey.get(name);
    if (!entry) missing.push(`\`${name}\` ${shapeText(spec.shape)}`);
    else if (entry.shape.join(",") !== spec.shape.join(",")) {
      misshaped.push(`\`${name}\`: checkpoint ${shapeText(entry.shape)}, model expects ${shapeText(spec.shape)}`);
    } else if (!["F32", "F16", "BF16", "F64"].includes(entry.dtype)) {
      misshaped.push(`\`${name}\`: checkpoint dtype ${entry.dtype}, a parameter must be floating point`);
    }
  }
  for (const [key, entry] of byKey) if (!wanted.has(key)) unexpected.push(`\`${key}\` ${shapeText(entry.shape)}`);
  if (missing.length + unexpected.length + misshaped.length > 0) {
    const parts = [
      missing.length ? `missing (${missing.length}):\n    ${missing.join("\n    ")}` : "",
      unexpected.length ? `unexpected (${unexpected.length}):\n    ${unexpected.join("\n    ")}` : "",
      misshaped.length ? `mis-shaped (${misshaped.length}):\n    ${misshaped.join("\n    ")}` : "",
    ].filter(Boolean);
    throw new LoadError(`the checkpoint in ${dir} does not fit ${family.architecture} as configured:\n  ${parts.join("\n  ")}`);
  }

  const values = new Map<string, Float32Array>();
  for (const name of wanted.keys()) {
    const entry = byKey.get(name)!;
    const host: HostTensor = await ckpt.read(entry.name);
    values.set(name, host.data as Float32Array);
  }
  return new Model(config, family, (spec) => values.get(spec.name)!);
}

/**
 * Writes `config.json` and `model.safetensors` (float32) in the Hugging Face layout, so
 * loadPretrained (and transformers) read it back. `maxShardBytes` splits large models into shards.
 */
export async function saveModel(model: PretrainedModel, dir: string, options: { maxShardBytes?: number } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const architecture = model instanceof Model ? model.family.architecture : undefined;
  const config = savedConfig(model.config, model.modelType, architecture);
  const tensors = [];
  for (const [name, v] of model.parameters) {
    tensors.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
  }
  await writeCheckpoint(dir, tensors, options);
  await writeFile(join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n");
}
