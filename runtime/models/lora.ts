/**
 * LoRA on the language model, as LLaVA's train.py sets it up with peft (`lora_enable`):
 *
 * - targets: `find_all_linear_names`, every torch nn.Linear of the model outside the vision tower and
 *   the projector, less `lm_head`; here every linear weight of the `language` component but the head;
 * - each target of in -> out features gets `NAME.lora_A.weight` [r, in], from kaiming_uniform_(a=√5)
 *   (U(±1/√in)), and `NAME.lora_B.weight` [out, r], zeros, so a fresh adapter changes nothing;
 * - the layer computes W x + b + (alpha / r) · B A dropout(x) (common.ts `linear`), dropout only in
 *   training (a forward pass given `dropoutSeed`); `bias = "none"`: no bias is adapted.
 *
 * The adapters are variables beside the frozen weights in `model.parameters`, so the training step,
 * the optimizer and checkpoints see them as any parameter. `mergeAdapters` folds them in,
 * W ← W + (alpha / r) · B A, as peft's merge_and_unload (LLaVA's scripts/merge_lora_weights.py) does,
 * and removes them: the model is then the plain architecture again.
 */
import { tf } from "../tf.js";
import { initValues, zeros } from "./init.js";
import { Model, type PretrainedModel } from "./model.js";

export interface LoraOptions {
  /** rank (lora_r) */
  readonly r: number;
  /** scaling numerator (lora_alpha): the adapters' output is multiplied by alpha / r */
  readonly alpha: number;
  /** dropout on the adapters' input during training (lora_dropout) */
  readonly dropout: number;
  /** seed of A's initialisation */
  readonly seed: number;
}

/** A linear layer LoRA adapts: its key without `.weight`, and its features. */
export interface LoraTarget {
  readonly module: string;
  readonly in: number;
  readonly out: number;
}

export const LORA_A = "lora_A.weight";
export const LORA_B = "lora_B.weight";

function familyModel(model: PretrainedModel): Model {
  if (!(model instanceof Model)) throw new Error(`LoRA needs a model made by mmfm's runtime, got a ${model.modelType}`);
  return model;
}

/** The linear layers of the language model, in parameter order (LLaVA's `find_all_linear_names`). */
export function loraTargets(model: PretrainedModel): LoraTarget[] {
  const m = familyModel(model);
  const prefix = m.family.components.language;
  if (prefix === undefined) throw new Error(`a ${m.modelType} model has no language model to adapt with LoRA`);
  const out: LoraTarget[] = [];
  for (const spec of m.family.specs) {
    if (!spec.linear || !spec.name.startsWith(prefix)) continue;
    const module = spec.name.slice(0, -".weight".length);
    if (module.split(".").pop() === "lm_head") continue;
    out.push({ module, in: spec.shape[1], out: spec.shape[0] });
  }
  return out;
}

/** The names of the adapters' parameters in `model.parameters` (empty when it has none). */
export function adapterNames(model: PretrainedModel): string[] {
  return [...model.parameters.keys()].filter((n) => n.endsWith(`.${LORA_A}`) || n.endsWith(`.${LORA_B}`));
}

/** Adds fresh adapters to every target and returns their parameter names. */
export function addAdapters(model: PretrainedModel, options: LoraOptions): string[] {
  const m = familyModel(model);
  const { r, alpha, dropout } = options;
  if (!Number.isInteger(r) || r < 1) throw new Error(`lora_r must be a positive integer, got ${r}`);
  if (!(alpha > 0)) throw new Error(`lora_alpha must be positive, got ${alpha}`);
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`lora_dropout must be in [0, 1), got ${dropout}`);
  if (m.adapters || adapterNames(m).length > 0) throw new Error("the model has LoRA adapters already: merge them first");
  const names: string[] = [];
  const add = (name: string, shape: [number, number], values: Float32Array) => {
    const initial = tf.tensor(values, shape, "float32");
    m.parameters.set(name, tf.variable(initial, true));
    initial.dispose();
    names.push(name);
  };
  for (const t of loraTargets(m)) {
    const a = `${t.module}.${LORA_A}`;
    add(a, [r, t.in], initValues(options.seed, a, [r, t.in], { kind: "uniform", bound: 1 / Math.sqrt(t.in) }));
    const b = `${t.module}.${LORA_B}`;
    add(b, [t.out, r], initValues(options.seed, b, [t.out, r], zeros));
  }
  m.adapters = { scale: alpha / r, dropout };
  return names;
}

/** Folds the adapters into their layers' weights (W ← W + (alpha / r) · B A) and removes them. */
export function mergeAdapters(model: PretrainedModel): void {
  const m = familyModel(model);
  const settings = m.adapters;
  if (!settings) throw new Error("the model has no LoRA adapters to merge");
  for (const t of loraTargets(m)) {
    const a = m.parameters.get(`${t.module}.${LORA_A}`);
    const b = m.parameters.get(`${t.module}.${LORA_B}`);
    if (!a || !b) continue;
    const weight = m.parameters.get(`${t.module}.weight`) as tf.Variable;
    const merged = tf.tidy(() => tf.add(weight, tf.mul(tf.matMul(b, a), tf.scalar(settings.scale, "float32")))); // [out, in]
    weight.assign(merged);
    merged.dispose();
    for (const [name, v] of [[`${t.module}.${LORA_A}`, a], [`${t.module}.${LORA_B}`, b]] as const) {
      m.parameters.delete(name);
      v.dispose();
    }
  }
  m.adapters = undefined;
}
