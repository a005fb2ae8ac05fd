/**
 * Building blocks shared by the model families: parameter specs and views, linear layers, norms,
 * activations, attention with folded heads, patch embedding and the causal-LM loss.
 *
 * Shape legend (all files in runtime/models):
 *   B batch, T query tokens, S key tokens, D width, H attention heads, KV key/value heads,
 *   G = H / KV query heads per key/value head, Dh head width, I MLP width, V vocabulary,
 *   C image channels, P patch size, h × w patch grid, N = h·w patches, L layers.
 *
 * Everything here is written for every tfjs backend (runtime.md): no conv2d (patches by reshape,
 * transpose and matMul: wasm has no Conv2DBackpropFilter), no einsum, no broadcast-batch matMul (its
 * gradient is broken in tfjs 4.22: grouped heads are folded into rows instead), no pow (x·x·x).
 */
import { crossEntropy as fusedCrossEntropy } from "../backend/fused/index.js";
import { tf } from "../tf.js";
import { Rng, type Init } from "./init.js";

// ---------------------------------------------------------------------------------------------
// Parameters

/** One parameter: its Hugging Face checkpoint key, shape and initialisation. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
  /** the weight of a torch nn.Linear (what LoRA adapts, runtime/models/lora.ts) */
  readonly linear?: true;
}

/** Collects the parameter specs of a module tree under a key prefix (`model.layers.0.`...). */
export class Specs {
  constructor(
    readonly list: ParamSpec[] = [],
    private readonly prefix = "",
  ) {}

  scope(name: string): Specs {
    return new Specs(this.list, `${this.prefix}${name}.`);
  }

  add(name: string, shape: readonly number[], init: Init): void {
    this.list.push({ name: this.prefix + name, shape, init });
  }

  /** A torch nn.Linear(inF, outF): `weight` [out, in], `bias` [out]. */
  linear(name: string, inF: number, outF: number, opts: { bias: boolean; weight: Init; biasInit?: Init }): void {
    this.list.push({ name: `${this.prefix}${name}.weight`, shape: [outF, inF], init: opts.weight, linear: true });
    if (opts.bias) this.add(`${name}.bias`, [outF], opts.biasInit ?? { kind: "constant", value: 0 });
  }

  /** A torch nn.LayerNorm(dim): weight ones, bias zeros. */
  layerNorm(name: string, dim: number): void {
    this.add(`${name}.weight`, [dim], { kind: "constant", value: 1 });
    this.add(`${name}.bias`, [dim], { kind: "constant", value: 0 });
  }
}

/**
 * How a view applies the LoRA adapters it finds beside a linear layer's weight (`NAME.lora_A.weight`
 * [r, in], `NAME.lora_B.weight` [out, r]; runtime/models/lora.ts adds them).
 */
export interface AdapterContext {
  /** lora_alpha / lora_r */
  readonly scale: number;
  /** the dropout rate on the adapters' input */
  readonly dropout: number;
  /** training: the seed of this forward pass's dropout masks; absent: no dropout (evaluation) */
  readonly seed?: number;
}

/** Read access to a model's parameters under a key prefix. */
export class ParamView {
  constructor(
    private readonly params: ReadonlyMap<string, tf.Tensor>,
    private readonly prefix = "",
    readonly adapters?: AdapterContext,
  ) {}

  scope(name: string): ParamView {
    return new ParamView(this.params, `${this.prefix}${name}.`, this.adapters);
  }

  /** The full key of a name in this view. */
  key(name: string): string {
    return this.prefix + name;
  }

  get(name: string): tf.Tensor {
    const t = this.params.get(this.prefix + name);
    if (t === undefined) throw new Error(`internal error: parameter \`${this.prefix + name}\` does not exist`);
    return t;
  }

  has(name: string): boolean {
    return this.params.has(this.prefix + name);
  }
}

// ---------------------------------------------------------------------------------------------
// Layers

/** A tensor's shape as a plain array (tfjs types it as a union of tuples). */
export function dims(t: tf.Tensor): number[] {
  return t.shape as number[];
}

/** x [..., in] · Wᵀ + b -> [..., out], W stored [out, in] as torch does. */
export function linear(x: tf.Tensor, p: ParamView, name: string): tf.Tensor {
  const w = p.get(`${name}.weight`); // [out, in]
  const shape = x.shape;
  const x2 = tf.reshape(x, [-1, shape[shape.length - 1]]); // [M, in]
  let y = tf.matMul(x2, w, false, true); // [M, out]
  if (p.has(`${name}.bias`)) y = tf.add(y, p.get(`${name}.bias`));
  if (p.has(`${name}.lora_A.weight`)) y = tf.add(y, loraDelta(x2, p, name)); // [M, out]
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[0]]); // [..., out]
}

/**
 * A LoRA adapter's share of a linear layer, as peft's lora.Linear computes it:
 * (alpha / r) · B(A(dropout(x))). The dropout mask is drawn from (seed, the layer's key) with this
 * file's generator, so a training step is the same on every backend and on a resumed run.
 * x [M, in] -> [M, out]
 */
function loraDelta(x: tf.Tensor, p: ParamView, name: string): tf.Tensor {
  const ctx = p.adapters;
  if (!ctx) throw new Error(`internal error: \`${p.key(name)}\` has LoRA adapters but the forward pass was given no adapter settings`);
  let input = x;
  if (ctx.seed !== undefined && ctx.dropout > 0) {
    const rng = new Rng(ctx.seed, p.key(name));
    const keep = 1 / (1 - ctx.dropout);
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < ctx.dropout ? 0 : keep;
    input = tf.mul(x, tf.tensor(mask, x.shape, "float32")); // [M, in]
  }
  const down = tf.matMul(input, p.get(`${name}.lora_A.weight`), false, true); // [M, r]
  const up = tf.matMul(down, p.get(`${name}.lora_B.weight`), false, true); // [M, out]
  return tf.mul(up, tf.scalar(ctx.scale, "float32"));
}

/** torch.nn.LayerNorm over the last axis (biased variance). */
export function layerNorm(x: tf.Tensor, p: ParamView, name: string, eps: number): tf.Tensor {
  const centered = tf.sub(x, tf.mean(x, -1, true)); // [..., D]
  const variance = tf.mean(tf.square(centered), -1, true); // [..., 1]
  const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, p.get(`${name}.weight`)), p.get(`${name}.bias`));
}

/** Activation names as transformers' ACT2FN spells them. */
export const ACTIVATIONS = [
  "gelu",
  "gelu_pytorch_tanh",
  "gelu_new",
  "gelu_fast",
  "quick_gelu",
  "silu",
  "swish",
  "relu",
  "tanh",
  "sigmoid",
] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export function isActivation(name: unknown): name is Activation {
  return typeof name === "string" && (ACTIVATIONS as readonly string[]).includes(name);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Applies an ACT2FN activation elementwise. */
export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case "gelu": // exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (torch nn.GELU())
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    case "gelu_pytorch_tanh": // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    case "gelu_new":
    case "gelu_fast": {
      const cube = tf.mul(tf.mul(x, x), x); // x³ without pow (pow is slow on wasm)
      const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), SQRT_2_OVER_PI);
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
    }
    case "quick_gelu": // CLIP: x·σ(1.702·x)
      return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case "silu":
    case "swish":
      return tf.mul(x, tf.sigmoid(x));
    case "relu":
      return tf.relu(x);
    case "tanh":
      return tf.tanh(x);
    case "sigmoid":
      return tf.sigmoid(x);
  }
}

/** Additive mask value for "may not attend": transformers uses torch.finfo(float32).min. */
export const MASK_MIN = -3.4028234663852886e38;

export interface AttentionShape {
  heads: number;
  kv_heads: number;
  head_dim: number;
  /** Multiplies the scores: 1/√Dh in every family here. */
  scale: number;
  /** Additive mask, [B or 1, 1, T, S]: 0 where allowed, MASK_MIN where not. */
  mask?: tf.Tensor;
}

/**
 * Scaled dot-product attention with grouped key/value heads (MHA when KV = H, MQA when KV = 1).
 * Query head h uses key/value head floor(h / G), as transformers' repeat_kv. The G query heads of a
 * key/value head are folded into rows, so every matMul has equal batch dimensions.
 *
 * q [B, T, H, Dh], k and v [B, S, KV, Dh] -> [B, T, H·Dh]
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, s: AttentionShape): tf.Tensor {
  const [B, T] = dims(q);
  const S = dims(k)[1];
  const { heads: H, kv_heads: KV, head_dim: Dh } = s;
  const G = H / KV;
  const qf = tf.reshape(tf.transpose(tf.reshape(q, [B, T, KV, G, Dh]), [0, 2, 3, 1, 4]), [B * KV, G * T, Dh]); // [B·KV, G·T, Dh]
  const kf = tf.reshape(tf.transpose(k, [0, 2, 1, 3]), [B * KV, S, Dh]); // [B·KV, S, Dh]
  const vf = tf.reshape(tf.transpose(v, [0, 2, 1, 3]), [B * KV, S, Dh]); // [B·KV, S, Dh]
  let scores = tf.mul(tf.matMul(qf, kf, false, true), s.scale); // [B·KV, G·T, S]
  if (s.mask) scores = tf.reshape(tf.add(tf.reshape(scores, [B, H, T, S]), s.mask), [B * KV, G * T, S]);
  const probs = tf.softmax(scores); // [B·KV, G·T, S]
  const out = tf.matMul(probs, vf); // [B·KV, G·T, Dh]
  return tf.reshape(tf.transpose(tf.reshape(out, [B, KV, G, T, Dh]), [0, 3, 1, 2, 4]), [B, T, H * Dh]); // [B, T, H·Dh]
}

/** Splits the last axis into heads: [B, T, H·Dh] -> [B, T, H, Dh]. */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [B, T, HD] = dims(x);
  return tf.reshape(x, [B, T, heads, HD / heads]);
}

/**
 * A stride-P, kernel-P convolution (torch Conv2d patch embedding) as reshape + transpose + matMul.
 * Rows and columns past the last whole patch are dropped, as the convolution drops them.
 *
 * pixels [B, C, H, W], weight [D, C, P, P], bias [D] or none -> [B, h·w, D] (patches row-major)
 */
export function patchEmbed(pixels: tf.Tensor, p: ParamView, name: string, patch: number): { x: tf.Tensor; h: number; w: number } {
  const [B, C, Hpx, Wpx] = dims(pixels);
  const h = Math.floor(Hpx / patch);
  const w = Math.floor(Wpx / patch);
  if (h === 0 || w === 0) {
    throw new Error(`pixel_values of ${Hpx}×${Wpx} are smaller than one ${patch}×${patch} patch`);
  }
  let x = pixels;
  if (Hpx !== h * patch || Wpx !== w * patch) x = tf.slice(x, [0, 0, 0, 0], [B, C, h * patch, w * patch]);
  x = tf.reshape(x, [B * C, h, patch, w, patch]); // [B·C, h, P, w, P]
  x = tf.transpose(x, [0, 1, 3, 2, 4]); // [B·C, h, w, P, P]
  x = tf.reshape(x, [B, C, h * w, patch * patch]); // [B, C, N, P·P]
  x = tf.transpose(x, [0, 2, 1, 3]); // [B, N, C, P·P]
  const cols = tf.reshape(x, [B * h * w, C * patch * patch]); // [B·N, C·P·P]
  const weight = p.get(`${name}.weight`); // [D, C, P, P]
  const D = weight.shape[0];
  let y = tf.matMul(cols, tf.reshape(weight, [D, C * patch * patch]), false, true); // [B·N, D]
  if (p.has(`${name}.bias`)) y = tf.add(y, p.get(`${name}.bias`));
  return { x: tf.reshape(y, [B, h * w, D]), h, w }; // [B, N, D]
}

/** Checks pixel_values is [B, C, H, W] with the expected channel count. */
export function checkPixels(pixels: tf.Tensor, channels: number): void {
  if (pixels.rank !== 4 || pixels.shape[1] !== channels) {
    throw new Error(`pixel_values must be [batch, ${channels}, height, width], got [${pixels.shape.join(", ")}]`);
  }
}

/**
 * Mean cross-entropy over the rows whose label is not `ignoreIndex` (torch.nn.CrossEntropyLoss()).
 * With no such row the mean is 0/0 = NaN, as in PyTorch.
 *
 * logits [M, V], labels [M] int32 -> scalar
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, ignoreIndex = -100): tf.Scalar {
  return fusedCrossEntropy(logits, tf.cast(labels, "int32"), ignoreIndex); // one fused kernel each way on wasm
}

/**
 * Next-token loss: logits at t predict labels at t+1 (transformers' shift). Positions whose shifted
 * attention mask is 0 are ignored when `shiftMask` is given (LLaVA 4.40).
 *
 * logits [B, T, V], labels [B, T] -> scalar
 */
export function causalLmLoss(logits: tf.Tensor, labels: tf.Tensor, shiftMask?: tf.Tensor): tf.Scalar {
  const [B, T, V] = dims(logits);
  if (labels.rank !== 2 || labels.shape[0] !== B || labels.shape[1] !== T) {
    throw new Error(`labels must be [${B}, ${T}] like the sequence, got [${labels.shape.join(", ")}]`);
  }
  const shiftLogits = tf.reshape(tf.slice(logits, [0, 0, 0], [B, T - 1, V]), [-1, V]); // [B·(T-1), V]
  let shiftLabels = tf.cast(tf.slice(labels, [0, 1], [B, T - 1]), "int32"); // [B, T-1]
  if (shiftMask) {
    const keep = tf.notEqual(tf.slice(shiftMask, [0, 1], [B, T - 1]), 0);
    shiftLabels = tf.where(keep, shiftLabels, tf.fill(shiftLabels.shape, -100, "int32"));
  }
  return crossEntropy(shiftLogits, tf.reshape(shiftLabels, [-1]));
}

/** The flat positions (b·T + t) whose next label counts, and those labels. */
export interface LabelledRows {
  readonly rows: readonly number[];
  readonly targets: readonly number[];
}

/**
 * The positions `causalLmLoss` counts: t such that the label at t+1 is not -100 (and, with
 * `shiftMask`, the mask at t+1 is not 0). Read on the host: call it before any kernel uses `labels`
 * or `shiftMask` (on WebGPU a tensor's values leave the host once a kernel has read it), as the
 * LLaVA merge reads ids, mask and labels first. labels [B, T], shiftMask [B, T]
 */
export function labelledRows(labels: tf.Tensor, shiftMask?: tf.Tensor): LabelledRows {
  if (labels.rank !== 2) throw new Error(`labels must be [batch, length], got [${labels.shape.join(", ")}]`);
  const [B, T] = dims(labels);
  const y = labels.dataSync();
  const m = shiftMask ? shiftMask.dataSync() : null;
  const rows: number[] = [];
  const targets: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      const next = b * T + t + 1;
      if (y[next] === -100 || (m && m[next] === 0)) continue;
      rows.push(b * T + t);
      targets.push(y[next]);
    }
  }
  return { rows, targets };
}

/**
 * The loss of `causalLmLoss` computed from the labelled positions alone (`labelledRows`): their
 * hidden states are gathered and only their logits made (`logitsOf`), where `causalLmLoss` needs the
 * logits of every position. Training needs nothing else, and the output head is a fifth of a tiny
 * decoder's work (a 512-word vocabulary at width 64) while a sequence holds ~10 labels in ~120
 * positions. The same mean over the same rows; the head's gradient sums the same terms in another
 * grouping, so equal to float rounding, not bit for bit. With no labelled position the loss is NaN,
 * as there.
 *
 * hidden [B, T, D] -> scalar
 */
export function labelledLmLoss(hidden: tf.Tensor, labelled: LabelledRows, logitsOf: (rows: tf.Tensor) => tf.Tensor): tf.Scalar {
  const [B, T, D] = dims(hidden);
  if (labelled.rows.length === 0) return tf.div(tf.scalar(0), tf.scalar(0)) as tf.Scalar; // 0/0, as torch's mean over no rows
  if (labelled.rows[labelled.rows.length - 1] >= B * T) throw new Error(`labelled rows reach ${labelled.rows[labelled.rows.length - 1]}, past the sequence's ${B}×${T}`);
  const picked = tf.gather(tf.reshape(hidden, [B * T, D]), tf.tensor1d(labelled.rows as number[], "int32")); // [N, D]
  return crossEntropy(logitsOf(picked), tf.tensor1d(labelled.targets as number[], "int32")); // logits [N, V]
}

/** Reads a small integer tensor on the host (ids, masks, labels) as rows of numbers. */
export function readRows(t: tf.Tensor): number[][] {
  if (t.rank !== 2) throw new Error(`expected a [batch, length] tensor, got [${t.shape.join(", ")}]`);
  const flat = t.dataSync();
  const [B, T] = dims(t);
  const rows: number[][] = [];
  for (let b = 0; b < B; b++) rows.push(Array.from(flat.subarray(b * T, (b + 1) * T), Number));
  return rows;
}
