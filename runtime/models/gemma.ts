/**
 * Gemma (transformers `GemmaForCausalLM`), keys `model.embed_tokens`, `model.layers.i.*`, `model.norm`,
 * `lm_head` (absent when tied to the embedding, the default):
 *
 *   x = inputs_embeds · √D                       (every input embedding, LLaVA's image features too)
 *   layer: x += o_proj(attn(RoPE(q), RoPE(k), v)) on input_layernorm(x)
 *          x += down_proj(act(gate_proj(·)) ⊙ up_proj(·)) on post_attention_layernorm(x)
 *   logits = norm(x) · embed_tokensᵀ
 *
 * Numeric quirks, each as transformers 4.40 modeling_gemma.py computes it:
 * - RMSNorm multiplies by (1 + w), weights start at zero, computed in float32.
 * - The √D normaliser is a tensor of the activation dtype (float32 here), so it is rounded first.
 * - RoPE rotates halves (rotate_half: [-x2, x1]), not interleaved pairs; frequencies 1/θ^(2i/Dh) in float32.
 * - Attention scores are scaled by 1/√head_dim, and head_dim is independent of width / heads.
 * - Key/value heads are shared by G = H / KV query heads (multi-query when KV = 1).
 * - Masked scores get finfo(float32).min added; fully masked rows (left padding) attend uniformly.
 * - hidden_states = (scaled embeddings, layer 1 .. L-1 outputs, norm(layer L output)).
 *
 * Shapes: see the legend in common.ts.
 */
import { geglu, rmsNorm as fusedRmsNorm, rotateHalf } from "../backend/fused/index.js";
import { tf } from "../tf.js";
import { activate, attention, causalLmLoss, linear, MASK_MIN, ParamView, Specs, dims } from "./common.js";
import type { ModelInputs } from "./forward.js";
import type { GemmaShape } from "./shapes.js";
import { normal, zeros } from "./init.js";

/** Parameters, initialised as GemmaPreTrainedModel._init_weights does (norm weights zero: 1 + w). */
export function gemmaSpecs(s: Specs, g: GemmaShape): void {
  const { width: D, heads: H, kv_heads: KV, head_dim: Dh, mlp: I } = g;
  const w = normal(g.initStd);
  const m = s.scope("model");
  m.add("embed_tokens.weight", [g.vocab, D], { kind: "normalPadded", std: g.initStd, zeroRow: g.padTokenId ?? -1 });
  for (let i = 0; i < g.depth; i++) {
    const l = m.scope(`layers.${i}`);
    l.linear("self_attn.q_proj", D, H * Dh, { bias: g.bias, weight: w });
    l.linear("self_attn.k_proj", D, KV * Dh, { bias: g.bias, weight: w });
    l.linear("self_attn.v_proj", D, KV * Dh, { bias: g.bias, weight: w });
    l.linear("self_attn.o_proj", H * Dh, D, { bias: g.bias, weight: w });
    l.linear("mlp.gate_proj", D, I, { bias: false, weight: w });
    l.linear("mlp.up_proj", D, I, { bias: false, weight: w });
    l.linear("mlp.down_proj", I, D, { bias: false, weight: w });
    l.add("input_layernorm.weight", [D], zeros);
    l.add("post_attention_layernorm.weight", [D], zeros);
  }
  m.add("norm.weight", [D], zeros);
  if (!g.tied) s.add("lm_head.weight", [g.vocab, D], w);
}

/** Per layer, the keys and values of the tokens seen so far: [B, S, KV, Dh] each. */
export interface KvCache {
  keys: tf.Tensor[];
  values: tf.Tensor[];
}

/** GemmaRMSNorm: x / √(mean(x²) + eps) · (1 + w), in float32 (one fused kernel on wasm). x [..., D] -> [..., D] */
function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return fusedRmsNorm(x, weight, { eps, offset: 1 });
}

/** cos and sin of the rotary angles. positions [B, T] -> [B, T, 1, Dh] each */
function rotary(positions: tf.Tensor, g: GemmaShape): { cos: tf.Tensor; sin: tf.Tensor } {
  const half = g.head_dim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    // float32 as torch: 1.0 / (base ** (arange(0, Dh, 2).float() / Dh))
    inv[i] = Math.fround(1 / Math.fround(Math.pow(g.rope_theta, Math.fround((2 * i) / g.head_dim))));
  }
  const [B, T] = dims(positions);
  const freqs = tf.mul(tf.reshape(tf.cast(positions, "float32"), [B, T, 1]), tf.tensor1d(inv)); // [B, T, Dh/2]
  const angles = tf.reshape(tf.concat([freqs, freqs], -1), [B, T, 1, g.head_dim]); // [B, T, 1, Dh]
  return { cos: tf.cos(angles), sin: tf.sin(angles) };
}

/** x·cos + rotate_half(x)·sin. x [B, T, heads, Dh] -> same */
function applyRotary(x: tf.Tensor, r: { cos: tf.Tensor; sin: tf.Tensor }): tf.Tensor {
  const rotated = rotateHalf(x); // [B, T, heads, Dh]: [-x2, x1] of the halves
  return tf.add(tf.mul(x, r.cos), tf.mul(rotated, r.sin));
}

/**
 * The additive attention mask: causal (query t at absolute position past + t sees keys 0 ..= past + t)
 * and, when given, padding (keys whose attention_mask is 0 are hidden).
 * attentionMask [B, S] or undefined -> [B or 1, 1, T, S], or null when nothing is hidden.
 */
export function gemmaMask(attentionMask: tf.Tensor | undefined, T: number, S: number): tf.Tensor | null {
  const past = S - T;
  if (!attentionMask && T === 1) return null;
  const keyPos = tf.reshape(tf.range(0, S, 1, "int32"), [1, S]); // [1, S]
  const queryPos = tf.reshape(tf.range(past, past + T, 1, "int32"), [T, 1]); // [T, 1]
  let allowed = tf.reshape(tf.lessEqual(keyPos, queryPos), [1, 1, T, S]); // [1, 1, T, S]
  if (attentionMask) {
    const B = dims(attentionMask)[0];
    allowed = tf.logicalAnd(allowed, tf.reshape(tf.notEqual(attentionMask, 0), [B, 1, 1, S])); // [B, 1, T, S]
  }
  return tf.mul(tf.sub(1, tf.cast(allowed, "float32")), MASK_MIN); // 0 or finfo.min, exactly
}

/** One decoder layer. x [B, T, D] -> [B, T, D], plus this layer's keys and values [B, S, KV, Dh]. */
function decoderLayer(
  x: tf.Tensor,
  p: ParamView,
  g: GemmaShape,
  rope: { cos: tf.Tensor; sin: tf.Tensor },
  mask: tf.Tensor | null,
  past: { k: tf.Tensor; v: tf.Tensor } | null,
): { x: tf.Tensor; k: tf.Tensor; v: tf.Tensor } {
  const [B, T] = dims(x);
  const h = rmsNorm(x, p.get("input_layernorm.weight"), g.norm_eps); // [B, T, D]
  const q = applyRotary(tf.reshape(linear(h, p, "self_attn.q_proj"), [B, T, g.heads, g.head_dim]), rope); // [B, T, H, Dh]
  let k = applyRotary(tf.reshape(linear(h, p, "self_attn.k_proj"), [B, T, g.kv_heads, g.head_dim]), rope); // [B, T, KV, Dh]
  let v = tf.reshape(linear(h, p, "self_attn.v_proj"), [B, T, g.kv_heads, g.head_dim]); // [B, T, KV, Dh]
  if (past) {
    k = tf.concat([past.k, k], 1); // [B, S, KV, Dh]
    v = tf.concat([past.v, v], 1); // [B, S, KV, Dh]
  }
  const attn = attention(q, k, v, {
    heads: g.heads,
    kv_heads: g.kv_heads,
    head_dim: g.head_dim,
    scale: 1 / Math.sqrt(g.head_dim),
    mask: mask ?? undefined,
  }); // [B, T, H·Dh]
  const x1 = tf.add(x, linear(attn, p, "self_attn.o_proj")); // [B, T, D]
  const h2 = rmsNorm(x1, p.get("post_attention_layernorm.weight"), g.norm_eps); // [B, T, D]
  const gate = linear(h2, p, "mlp.gate_proj"); // [B, T, I]
  const up = linear(h2, p, "mlp.up_proj"); // [B, T, I]
  // GeGLU: tanh GELU is one fused kernel on wasm; exact GELU stays composed
  const gated = g.act === "gelu_pytorch_tanh" ? geglu(gate, up) : tf.mul(activate(gate, g.act), up); // [B, T, I]
  return { x: tf.add(x1, linear(gated, p, "mlp.down_proj")), k, v };
}

export interface DecoderOptions {
  /** Absolute positions of the T new tokens, [B, T] or [1, T]. */
  positions: tf.Tensor;
  /** [B, S] over the cached and new tokens (1 attend, 0 padding); omitted: all attend. */
  attentionMask?: tf.Tensor;
  cache?: KvCache;
  outputHiddenStates?: boolean;
}

/**
 * GemmaModel: input embeddings (before the √D scale) to the final-norm hidden states.
 * embeds [B, T, D] -> hidden [B, T, D], with the updated cache.
 */
export function gemmaDecoder(
  p: ParamView,
  g: GemmaShape,
  embeds: tf.Tensor,
  opts: DecoderOptions,
): { hidden: tf.Tensor; hiddenStates?: tf.Tensor[]; cache: KvCache } {
  const m = p.scope("model");
  const [, T] = dims(embeds);
  const pastLen = opts.cache && opts.cache.keys.length > 0 ? dims(opts.cache.keys[0])[1] : 0;
  const S = pastLen + T;
  if (opts.attentionMask && dims(opts.attentionMask)[1] !== S) {
    throw new Error(`attention_mask covers ${dims(opts.attentionMask)[1]} tokens but the sequence has ${S}`);
  }
  const mask = gemmaMask(opts.attentionMask, T, S);
  const rope = rotary(opts.positions, g);
  let x = tf.mul(embeds, tf.scalar(Math.sqrt(g.width), "float32")); // [B, T, D] (the normaliser, rounded to float32)
  const states: tf.Tensor[] = [];
  const cache: KvCache = { keys: [], values: [] };
  for (let i = 0; i < g.depth; i++) {
    if (opts.outputHiddenStates) states.push(x);
    const past = pastLen > 0 ? { k: opts.cache!.keys[i], v: opts.cache!.values[i] } : null;
    const out = decoderLayer(x, m.scope(`layers.${i}`), g, rope, mask, past);
    x = out.x;
    cache.keys.push(out.k);
    cache.values.push(out.v);
  }
  const hidden = rmsNorm(x, m.get("norm.weight"), g.norm_eps); // [B, T, D]
  if (opts.outputHiddenStates) states.push(hidden);
  return { hidden, hiddenStates: opts.outputHiddenStates ? states : undefined, cache };
}

/** Token embeddings (before scaling). ids [B, T] -> [B, T, D] */
export function gemmaEmbed(p: ParamView, g: GemmaShape, ids: tf.Tensor): tf.Tensor {
  const [B, T] = dims(ids);
  const flat = tf.reshape(tf.cast(ids, "int32"), [B * T]); // [B·T]
  return tf.reshape(tf.gather(p.get("model.embed_tokens.weight"), flat), [B, T, g.width]); // [B, T, D]
}

/** The LM head (tied to embed_tokens unless `lm_head.weight` exists). hidden [B, T, D] -> [B, T, V] */
export function gemmaLogits(p: ParamView, g: GemmaShape, hidden: tf.Tensor): tf.Tensor {
  const [B, T, D] = dims(hidden);
  const head = g.tied ? p.get("model.embed_tokens.weight") : p.get("lm_head.weight"); // [V, D]
  return tf.reshape(tf.matMul(tf.reshape(hidden, [B * T, D]), head, false, true), [B, T, g.vocab]); // [B, T, V]
}

/** Positions 0 .. T-1 for every row: [1, T]. */
export function arangePositions(T: number, offset = 0): tf.Tensor {
  return tf.reshape(tf.range(offset, offset + T, 1, "int32"), [1, T]);
}

/**
 * GemmaForCausalLM.forward. The loss is the mean next-token cross-entropy over labels != -100
 * (4.40 ignores the attention mask in this model's loss).
 */
export function gemmaForward(p: ParamView, g: GemmaShape, inputs: ModelInputs) {
  const ids = inputs.inputIds;
  if (!ids || ids.rank !== 2) {
    throw new Error(`gemma needs inputIds [batch, length], got ${ids ? `[${ids.shape.join(", ")}]` : "none"}`);
  }
  const [B, T] = dims(ids);
  const mask = inputs.attentionMask;
  if (mask && (mask.rank !== 2 || dims(mask)[0] !== B || dims(mask)[1] !== T)) {
    throw new Error(`attentionMask must be [${B}, ${T}] like inputIds, got [${mask.shape.join(", ")}]`);
  }
  const out = gemmaDecoder(p, g, gemmaEmbed(p, g, ids), {
    positions: inputs.positionIds ?? arangePositions(T),
    attentionMask: inputs.attentionMask,
    outputHiddenStates: inputs.outputHiddenStates,
  });
  const logits = gemmaLogits(p, g, out.hidden);
  return {
    logits,
    lastHiddenState: out.hidden,
    hiddenStates: out.hiddenStates,
    loss: inputs.labels ? causalLmLoss(logits, inputs.labels) : undefined,
  };
}
