/**
 * Parameter updates as small composable pieces (in the spirit of optax's `chain`), each written in
 * the exact operation order of PyTorch 1.13's `torch.optim.AdamW` (`_single_tensor_adamw`):
 *
 *   param.mul_(1 - lr * weight_decay)                           decoupledWeightDecay
 *   exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)             adam
 *   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *   denom = (exp_avg_sq.sqrt() / sqrt(1 - beta2**step)).add_(eps)
 *   param.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1**step))
 *
 * Scalars are computed in float64 (as Python does) and applied as float32, as torch applies Python
 * scalars to float32 tensors; torch's kernels evaluate `self + alpha*other`, `self + value*t1*t2` and
 * `self + value*t1/t2` left to right, and so do these.
 *
 * A piece is pure: it returns new tensors and leaves its inputs alone; the optimizer owns them.
 */
import { tf } from "../tf.js";

export interface UpdateContext {
  /** This parameter's update count including this one (torch's per-parameter `state['step']`). */
  step: number;
  /** The learning rate of this update (base rate times the schedule). */
  lr: number;
  /** Multiplies the gradient first (clipping's coefficient, as clip_grad_norm_ applies it in place). */
  gradScale?: tf.Scalar;
}

export interface UpdateResult {
  param: tf.Tensor;
  slots: tf.Tensor[];
}

export interface ParamUpdate {
  /** Names of this piece's per-parameter state tensors, in order (torch's names where torch has one). */
  readonly slots: readonly string[];
  apply(param: tf.Tensor, grad: tf.Tensor, slots: readonly tf.Tensor[], ctx: UpdateContext): UpdateResult;
}

/** `param *= 1 - lr * weightDecay`, AdamW's decoupled weight decay (skipped when weightDecay is 0). */
export function decoupledWeightDecay(weightDecay: number): ParamUpdate {
  checkNonNegative("weightDecay", weightDecay);
  return {
    slots: [],
    apply(param, _grad, _slots, { lr }) {
      if (weightDecay === 0) return { param: param.clone(), slots: [] };
      return { param: tf.mul(param, scalar(1 - lr * weightDecay)), slots: [] };
    },
  };
}

export interface AdamConfig {
  betas?: readonly [number, number];
  eps?: number;
}

/** Adam with bias correction, epsilon added after the corrected square root, as torch orders it. */
export function adam(config: AdamConfig = {}): ParamUpdate {
  const [beta1, beta2] = config.betas ?? [0.9, 0.999];
  const eps = config.eps ?? 1e-8;
  checkBeta("betas[0]", beta1);
  checkBeta("betas[1]", beta2);
  checkNonNegative("eps", eps);
  return {
    slots: ["exp_avg", "exp_avg_sq"],
    apply(param, rawGrad, [expAvg, expAvgSq], { step, lr, gradScale }) {
      const s = adamScalars(beta1, beta2, eps, step, lr);
      const grad = gradScale == null ? rawGrad : tf.mul(rawGrad, gradScale);
      const m = tf.add(tf.mul(expAvg, scalar(beta1)), tf.mul(scalar(1 - beta1), grad));
      const v = tf.add(tf.mul(expAvgSq, scalar(beta2)), tf.mul(tf.mul(scalar(1 - beta2), grad), grad));
      const denom = tf.add(tf.div(tf.sqrt(v), scalar(s.biasCorrection2Sqrt)), scalar(eps));
      const next = tf.add(param, tf.div(tf.mul(scalar(-s.stepSize), m), denom));
      return { param: next, slots: [m, v] };
    },
  };
}

export interface AdamScalars {
  stepSize: number;
  biasCorrection2Sqrt: number;
}

/** torch's float64 scalars: step_size = lr / (1 - beta1^t), sqrt(1 - beta2^t). */
export function adamScalars(beta1: number, beta2: number, _eps: number, step: number, lr: number): AdamScalars {
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  return { stepSize: lr / biasCorrection1, biasCorrection2Sqrt: Math.sqrt(biasCorrection2) };
}

/** Runs pieces in order; each sees the parameter as the previous one left it. Slots are concatenated. */
export function chain(...pieces: ParamUpdate[]): ParamUpdate {
  const slots = pieces.flatMap((p) => p.slots);
  const dup = slots.find((s, i) => slots.indexOf(s) !== i);
  if (dup !== undefined) throw new Error(`chain: two pieces use the state slot \`${dup}\``);
  return {
    slots,
    apply(param, grad, allSlots, ctx) {
      let current = param;
      const out: tf.Tensor[] = [];
      let offset = 0;
      for (const piece of pieces) {
        const mine = allSlots.slice(offset, offset + piece.slots.length);
        offset += piece.slots.length;
        const r = piece.apply(current, grad, mine, ctx);
        if (current !== param) current.dispose();
        current = r.param;
        out.push(...r.slots);
      }
      return { param: current === param ? param.clone() : current, slots: out };
    },
  };
}

function scalar(x: number): tf.Scalar {
  return tf.scalar(x, "float32");
}

function checkBeta(name: string, b: number) {
  if (!(b >= 0 && b < 1)) throw new Error(`adam: ${name} must be in [0, 1), got ${b}`);
}

function checkNonNegative(name: string, x: number) {
  if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`optimizer: ${name} must be a finite number >= 0, got ${x}`);
}
