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

/** The first `max` lines of a listing, and how many more there are: an error stays readable at any size. */
export function capped(lines: readonly string[], max = 20): string[] {
  return lines.length <= max ? [...lines] : [...lines.slice(0, max), `... and ${lines.length - max} more`];
}

/** The config fields that multiply the number of tensors a model has. */
const LAYER_FIELDS: readonly (readonly string[])[] = [["num_hidden_layers"], ["vision_config", "num_hidden_layers"], ["text_config", "num_hidden_layers"], ["projector_depth"]];

/** Up to this many layers the model's tensors are simply listed; above, their number is extrapolated first. */
const PROBE_LAYERS = 64;

function withField(raw: HfConfig, path: readonly string[], value: number): HfConfig {
  const [head, ...rest] = path;
  return { ...raw, [head]: rest.length ? withField(raw[head] as HfConfig, rest, value) : value };
}

/**
 * How many tensors the config's model has, computed without listing them when a layer count is large
 * (a damaged or hand-edited config.json may say 1e9 layers: listing 16e9 tensor names first would
 * take a minute and gigabytes). The count is linear in each layer count: it is measured at
 * PROBE_LAYERS and PROBE_LAYERS + 1 and extrapolated. Undefined when no layer count is large.
 */
function largeTensorCount(raw: HfConfig): { count: number; fields: string[] } | undefined {
  const large: { path: readonly string[]; value: number }[] = [];
  for (const path of LAYER_FIELDS) {
    const parent = path.length === 1 ? raw : (raw[path[0]] as HfConfig | undefined);
    const value = parent !== null && typeof parent === "object" && !Array.isArray(parent) ? parent[path[path.length - 1]] : undefined;
    if (typeof value === "number" && Number.isSafeInteger(value) && value > PROBE_LAYERS) large.push({ path, value });
  }
  if (large.length === 0) return undefined;
  const probe = large.reduce((r, f) => withField(r, f.path, PROBE_LAYERS), raw);
  const count = (config: HfConfig) => familyFromConfig(config).family.specs.length;
  const base = count(probe);
  let total = base;
  for (const f of large) total += (count(withField(probe, f.path, PROBE_LAYERS + 1)) - base) * (f.value - PROBE_LAYERS);
  return { count: total, fields: large.map((f) => `\`${f.path.join(".")}\` = ${f.value}`) };
}

export async function readConfig(dir: string): Promise<HfConfig> {
  const path = join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new LoadError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new LoadError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new LoadError(`${path} must hold a JSON object, got ${JSON.stringify(value).slice(0, 40)}`);
  return value as HfConfig;
}

/** Loads a Hugging Face folder (config.json + safetensors) for any supported family. */
export async function loadPretrained(dir: string): Promise<PretrainedModel> {
  await registerGradients(); // once per process: tfjs-core alone has none, and forward must be differentiable
  const raw = await readConfig(dir);
  checkArchitectures(raw, join(dir, "config.json"));
  const type = modelTypeOf(raw);
  // counts first: a config that needs far more tensors than the checkpoint holds is refused before its tensors are listed
  const large = largeTensorCount(raw);
  const resolved = large ? undefined : familyFromConfig(raw); // config errors first when listing is cheap
  const ckpt = await openCheckpoint(dir);
  const byKey = new Map<string, CheckpointEntry>();
  for (const [key, entry] of ckpt.entries) {
    if (ignored(key, type)) continue;
    byKey.set(canonicalKey(key, type), entry);
  }
  if (large && large.count > byKey.size) {
    throw new LoadError(
      `the checkpoint in ${dir} does not fit its config.json: ${large.fields.join(", ")} makes a model of ${large.count} tensors, ` +
        `but the checkpoint holds ${byKey.size}\n  help: check ${large.fields.length > 1 ? "these values" : "this value"} in ${join(dir, "config.json")}`,
    );
  }
  const { config, family } = resolved ?? familyFromConfig(raw);
  const unexpected: string[] = [];
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
      missing.length ? `missing (${missing.length}):\n    ${capped(missing).join("\n    ")}` : "",
      unexpected.length ? `unexpected (${unexpected.length}):\n    ${capped(unexpected).join("\n    ")}` : "",
      misshaped.length ? `mis-shaped (${misshaped.length}):\n    ${capped(misshaped).join("\n    ")}` : "",
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
