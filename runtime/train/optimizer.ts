/**
 * The optimizer: a `ParamUpdate` (see `updates.ts`) plus the per-parameter state it needs.
 *
 * State is created lazily, at a parameter's first update, as torch creates it, so frozen parameters
 * never get any. Per-parameter step counts are kept as torch keeps them (a parameter without a
 * gradient in a step is not updated and its count does not advance).
 *
 * Parameter groups (torch's `param_groups`, optax's `multi_transform` by label): a group names some
 * parameters and its own peak learning rate; the schedule scales every group alike, so a group's
 * rate at a step is its peak times the factor `lr / config.lr` of the rate `apply` is given. LLaVA's
 * `mm_projector_lr` is such a group.
 *
 * Memory ownership: the optimizer owns its state tensors (kept out of every tidy, disposed when
 * replaced and by `dispose()`); `apply` assigns new values to the caller's variables and disposes
 * nothing of the caller's. `exportState()` returns copies the caller owns; `importState()` copies in.
 */
import { tf } from "../tf.js";
import { fusedAdamW, hasFusedAdamW } from "./fused_adamw.js";
import { adam, chain, decoupledWeightDecay, type ParamUpdate } from "./updates.js";

export interface OptimizerConfig {
  /** Base learning rate, multiplied by the schedule (torch's default 1e-3). */
  lr?: number;
  /** torch's defaults: [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** torch's default: 1e-8. */
  eps?: number;
  /** Decoupled weight decay (torch's AdamW default: 1e-2). */
  weightDecay?: number;
  /** Parameters with their own peak learning rate; a parameter in no group uses `lr`. */
  groups?: readonly ParamGroup[];
}

/** Some parameters and their own peak learning rate (the schedule scales it as it scales `lr`). */
export interface ParamGroup {
  readonly name: string;
  readonly lr: number;
  readonly params: ReadonlySet<string>;
}

/** The state of an optimizer as flat tensors: `<slot>/<param>` and `step/<param>` (a float32 scalar). */
export interface OptimizerState {
  /** Optimizer steps taken (calls of `apply`). */
  step: number;
  tensors: Map<string, tf.Tensor>;
}

export interface Optimizer {
  readonly config: Required<OptimizerConfig>;
  readonly update: ParamUpdate;
  /** Optimizer steps taken so far; the schedule's argument for the next step. */
  readonly step: number;
  /**
   * Updates every parameter named in `grads` with learning rate `lr`, the gradients first multiplied
   * by `gradScale` when given (clipping); the caller keeps the grads and the scale.
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number, gradScale?: tf.Scalar): void;
  exportState(): OptimizerState;
  /** Replaces the state with copies of `state`'s tensors; checks every name and shape first. */
  importState(state: OptimizerState): Promise<void>;
  dispose(): void;
}

interface Slot {
  step: number;
  tensors: tf.Tensor[];
}

/** AdamW exactly as torch.optim.AdamW, fused into one kernel on wasm and cpu. */
export function createOptimizer(config: OptimizerConfig, params: ReadonlyMap<string, tf.Variable>): Optimizer {
  const full: Required<OptimizerConfig> = {
    lr: config.lr ?? 1e-3,
    betas: config.betas ?? [0.9, 0.999],
    eps: config.eps ?? 1e-8,
    weightDecay: config.weightDecay ?? 1e-2,
    groups: config.groups ?? [],
  };
  if (!(full.lr >= 0)) throw new Error(`optimizer: lr must be >= 0, got ${full.lr}`);
  checkGroups(full, params);
  const composed = chain(decoupledWeightDecay(full.weightDecay), adam({ betas: full.betas, eps: full.eps }));
  const update: ParamUpdate = {
    slots: composed.slots,
    apply(param, grad, slots, ctx) {
      if (!hasFusedAdamW()) return composed.apply(param, grad, slots, ctx);
      const [p, m, v] = fusedAdamW(param, grad, slots[0], slots[1], {
        beta1: full.betas[0],
        beta2: full.betas[1],
        eps: full.eps,
        weightDecay: full.weightDecay,
        lr: ctx.lr,
        step: ctx.step,
      }, ctx.gradScale);
      return { param: p, slots: [m, v] };
    },
  };
  return new StatefulOptimizer(full, update, params);
}

/** An optimizer from any update rule (e.g. `chain(...)` of the pieces in `updates.ts`). */
export function optimizerFromUpdate(update: ParamUpdate, params: ReadonlyMap<string, tf.Variable>): Optimizer {
  return new StatefulOptimizer({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, groups: [] }, update, params);
}

function checkGroups(config: Required<OptimizerConfig>, params: ReadonlyMap<string, tf.Variable>): void {
  const seen = new Map<string, string>();
  for (const g of config.groups) {
    if (!(g.lr >= 0) || !Number.isFinite(g.lr)) throw new Error(`optimizer: the learning rate of group \`${g.name}\` must be finite and >= 0, got ${g.lr}`);
    if (g.params.size > 0 && !(config.lr > 0)) throw new Error(`optimizer: group \`${g.name}\` needs a base lr above 0 to follow its schedule`);
    for (const name of g.params) {
      if (!params.has(name)) throw new Error(`optimizer: group \`${g.name}\` names \`${name}\`, which is not one of its parameters`);
      const other = seen.get(name);
      if (other !== undefined) throw new Error(`optimizer: \`${name}\` is in groups \`${other}\` and \`${g.name}\``);
      seen.set(name, g.name);
    }
  }
}

class StatefulOptimizer implements Optimizer {
  private readonly state = new Map<string, Slot>();
  private steps = 0;
  /** a grouped parameter's peak learning rate */
  private readonly peak = new Map<string, number>();

  constructor(
    readonly config: Required<OptimizerConfig>,
    readonly update: ParamUpdate,
    private readonly params: ReadonlyMap<string, tf.Variable>,
  ) {
    for (const g of config.groups) for (const name of g.params) this.peak.set(name, g.lr);
  }

  get step(): number {
    return this.steps;
  }

  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number, gradScale?: tf.Scalar): void {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`optimizer: learning rate must be finite and >= 0, got ${lr}`);
    for (const name of grads.keys()) {
      const v = this.params.get(name);
      if (v == null) throw new Error(`optimizer: gradient for \`${name}\`, which is not one of its parameters`);
      const g = grads.get(name) as tf.Tensor;
      if (g.shape.join(",") !== v.shape.join(",")) {
        throw new Error(`optimizer: gradient of \`${name}\` has shape [${g.shape}], the parameter [${v.shape}]`);
      }
    }
    for (const [name, grad] of grads) {
      const variable = this.params.get(name) as tf.Variable;
      const slot = this.state.get(name) ?? {
        step: 0,
        tensors: this.update.slots.map(() => tf.keep(tf.zerosLike(variable))),
      };
      slot.step += 1;
      const peak = this.peak.get(name);
      const ctx = { step: slot.step, lr: peak === undefined ? lr : peak * (lr / this.config.lr), gradScale };
      const next = tf.tidy(() => {
        const r = this.update.apply(variable, grad, slot.tensors, ctx);
        variable.assign(r.param);
        return r.slots;
      });
      for (const t of slot.tensors) t.dispose();
      slot.tensors = next;
      this.state.set(name, slot);
    }
    this.steps += 1;
  }

  exportState(): OptimizerState {
    const tensors = new Map<string, tf.Tensor>();
    for (const [name, slot] of this.state) {
      this.update.slots.forEach((s, i) => tensors.set(`${s}/${name}`, slot.tensors[i].clone()));
      tensors.set(`step/${name}`, tf.scalar(slot.step, "float32"));
    }
    return { step: this.steps, tensors };
  }

  async importState(state: OptimizerState): Promise<void> {
    const next = new Map<string, Slot>();
    const problems: string[] = [];
    const used = new Set<string>();
    for (const key of state.tensors.keys()) {
      if (!key.startsWith("step/")) continue;
      const name = key.slice("step/".length);
      const variable = this.params.get(name);
      if (variable == null) {
        problems.push(`state for unknown parameter \`${name}\``);
        continue;
      }
      used.add(key);
      const step = (await (state.tensors.get(key) as tf.Tensor).data())[0];
      const tensors: tf.Tensor[] = [];
      for (const s of this.update.slots) {
        const k = `${s}/${name}`;
        const t = state.tensors.get(k);
        used.add(k);
        if (t == null) problems.push(`missing \`${k}\``);
        else if (t.shape.join(",") !== variable.shape.join(",")) {
          problems.push(`\`${k}\` has shape [${t.shape}], the parameter [${variable.shape}]`);
        } else tensors.push(t);
      }
      if (tensors.length === this.update.slots.length) next.set(name, { step, tensors });
    }
    for (const key of state.tensors.keys()) if (!used.has(key)) problems.push(`unexpected \`${key}\``);
    if (problems.length > 0) throw new Error(`optimizer state does not fit: ${problems.join("; ")}`);
    this.disposeState();
    for (const [name, slot] of next) {
      this.state.set(name, { step: slot.step, tensors: slot.tensors.map((t) => tf.keep(t.clone())) });
    }
    this.steps = state.step;
  }

  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const slot of this.state.values()) for (const t of slot.tensors) t.dispose();
    this.state.clear();
  }
}
