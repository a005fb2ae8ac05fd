/**
 * The decoder-only language models: Gemma (transformers `GemmaForCausalLM`) and Llama
 * (`LlamaForCausalLM`; Vicuna is a Llama). Keys `model.embed_tokens`, `model.layers.i.*`,
 * `model.norm`, `lm_head` (absent when tied to the embedding):
 *
 *   x = inputs_embeds (· √D for Gemma)           (every input embedding, LLaVA's image features too)
 *   layer: x += o_proj(attn(RoPE(q), RoPE(k), v)) on input_layernorm(x)
 *          x += down_proj(act(gate_proj(·)) ⊙ up_proj(·)) on post_attention_layernorm(x)
 *   logits = norm(x) · lm_headᵀ                  (the embedding when tied)
 *
 * transformers writes Gemma as a copy of Llama with changes; here the two are one decoder, and the
 * families differ only where marked. Each quirk as transformers 4.40 computes it
 * (modeling_gemma.py, modeling_llama.py):
 * - RMSNorm, in float32: Gemma multiplies by (1 + w) with weights starting at zero (GemmaRMSNorm);
 *   Llama by w, starting at one (LlamaRMSNorm).
 * - Gemma multiplies the input embeddings by √D, a tensor of the activation dtype (float32 here), so
 *   rounded first (GemmaModel.forward); Llama does not scale them.
 * - The gated MLP's activation `act`: tanh GELU for Gemma by default (GeGLU), SiLU for Llama (SwiGLU).
 *   Llama may have MLP biases (`mlpBias`, from transformers 4.41).
 * - RoPE rotates halves (rotate_half: [-x2, x1]), frequencies 1/θ^(2i/Dh) in float32. Llama's linear
 *   `rope_scaling` divides the positions by its factor first (LlamaLinearScalingRotaryEmbedding).
 * - Attention scores are scaled by 1/√head_dim; key/value heads are shared by G = H / KV query
 *   heads (multi-query when KV = 1). Gemma's head_dim is independent of width / heads.
 * - Masked scores get finfo(float32).min added; fully masked rows (left padding) attend uniformly.
 * - The embedding row of `padTokenId` starts at zero and gets no gradient (nn.Embedding's
 *   padding_idx; a negative id counts from the end, as torch counts it).
 * - hidden_states = (embeddings as the layers see them, layer 1 .. L-1 outputs, norm(layer L output)).
 *
 * Shapes: see the legend in common.ts.
 */
import { geglu, rmsNorm as fusedRmsNorm, rotateHalf } from "../backend/fused/index.js";
import { tf } from "../tf.js";
import { activate, attention, causalLmLoss, labelledLmLoss, labelledRows, linear, MASK_MIN, ParamView, Specs, dims } from "./common.js";
import type { ModelInputs } from "./forward.js";
import type { LanguageShape } from "./shapes.js";
import { normal, ones, zeros } from "./init.js";

/**
 * Parameters, initialised as the families' `_init_weights` do: linear weights N(0, initStd²),
 * biases zero, the embedding normal with its padding row zero; norm weights zero for Gemma (1 + w),
 * one for Llama.
 */
export function decoderSpecs(s: Specs, g: LanguageShape): void {
  const { width: D, heads: H, kv_heads: KV, head_dim: Dh, mlp: I } = g;
  const w = normal(g.initStd);
  const norm = g.family === "gemma" ? zeros : ones;
  const mlpBias = g.family === "llama" && g.mlpBias;
  const m = s.scope("model");
  m.add("embed_tokens.weight", [g.vocab, D], { kind: "normalPadded", std: g.initStd, zeroRow: paddingRow(g) ?? -1 });
  for (let i = 0; i < g.depth; i++) {
    const l = m.scope(`layers.${i}`);
    l.linear("self_attn.q_proj", D, H * Dh, { bias: g.bias, weight: w });
    l.linear("self_attn.k_proj", D, KV * Dh, { bias: g.bias, weight: w });
    l.linear("self_attn.v_proj", D, KV * Dh, { bias: g.bias, weight: w });
    l.linear("self_attn.o_proj", H * Dh, D, { bias: g.bias, weight: w });
    l.linear("mlp.gate_proj", D, I, { bias: mlpBias, weight: w });
    l.linear("mlp.up_proj", D, I, { bias: mlpBias, weight: w });
    l.linear("mlp.down_proj", I, D, { bias: mlpBias, weight: w });
    l.add("input_layernorm.weight", [D], norm);
    l.add("post_attention_layernorm.weight", [D], norm);
  }
  m.add("norm.weight", [D], norm);
  if (!g.tied) s.add("lm_head.weight", [g.vocab, D], w);
}

/** The embedding row torch's padding_idx names (a negative id counts from the end), or null. */
export function paddingRow(g: LanguageShape): number | null {
  const pad = g.padTokenId;
  if (pad === null || pad >= g.vocab || pad < -g.vocab) return null;
  return pad < 0 ? g.vocab + pad : pad;
}

/** Per layer, the keys and values of the tokens seen so far: [B, S, KV, Dh] each. */
export interface KvCache {
  keys: tf.Tensor[];
  values: tf.Tensor[];
}

/** RMSNorm: x / √(mean(x²) + eps) · (1 + w) for Gemma, · w for Llama, in float32 (one fused kernel on wasm). x [..., D] -> [..., D] */
function rmsNorm(x: tf.Tensor, weight: tf.Tensor, g: LanguageShape): tf.Tensor {
  return fusedRmsNorm(x, weight, { eps: g.norm_eps, offset: g.family === "gemma" ? 1 : 0 });
}

/** cos and sin of the rotary angles. positions [B, T] -> [B, T, 1, Dh] each */
function rotary(positions: tf.Tensor, g: LanguageShape): { cos: tf.Tensor; sin: tf.Tensor } {
  const half = g.head_dim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    // float32 as torch: 1.0 / (base ** (arange(0, Dh, 2).float() / Dh))
    inv[i] = Math.fround(1 / Math.fround(Math.pow(g.rope_theta, Math.fround((2 * i) / g.head_dim))));
  }
  const [B, T] = dims(positions);
  let t = tf.cast(positions, "float32"); // [B, T]
  // Llama's linear scaling: position_ids.float() / scaling_factor, in float32
  if (g.family === "llama" && g.rope_scaling !== null) t = tf.div(t, tf.scalar(g.rope_scaling, "float32"));
  const freqs = tf.mul(tf.reshape(t, [B, T, 1]), tf.tensor1d(inv)); // [B, T, Dh/2]
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
export function decoderMask(attentionMask: tf.Tensor | undefined, T: number, S: number): tf.Tensor | null {
  const past = S - T;
  if (!attentionMask && T === 1) return null;
  // The causal part depends only on T and S: made on the host. Combining it with the padding part by
  // a float product keeps every op to what the wasm backend broadcasts quickly (XNNPACK's mul); its
  // logicalAnd / lessEqual broadcast element by element, and cost a fifth of a tiny training step.
  const causal = new Float32Array(T * S);
  for (let t = 0; t < T; t++) causal.fill(1, t * S, t * S + Math.min(S, past + t + 1));
  let allowed = tf.tensor4d(causal, [1, 1, T, S]); // [1, 1, T, S]: 1 where key s <= query past + t
  if (attentionMask) {
    const B = dims(attentionMask)[0];
    const keys = tf.reshape(tf.cast(tf.notEqual(attentionMask, 0), "float32"), [B, 1, 1, S]); // [B, 1, 1, S]
    allowed = tf.mul(allowed, keys); // [B, 1, T, S]
  }
  return tf.mul(tf.sub(1, allowed), MASK_MIN); // 0 or finfo.min, exactly
}

/** One decoder layer. x [B, T, D] -> [B, T, D], plus this layer's keys and values [B, S, KV, Dh]. */
function decoderLayer(
  x: tf.Tensor,
  p: ParamView,
  g: LanguageShape,
  rope: { cos: tf.Tensor; sin: tf.Tensor },
  mask: tf.Tensor | null,
  past: { k: tf.Tensor; v: tf.Tensor } | null,
): { x: tf.Tensor; k: tf.Tensor; v: tf.Tensor } {
  const [B, T] = dims(x);
  const h = rmsNorm(x, p.get("input_layernorm.weight"), g); // [B, T, D]
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
  const h2 = rmsNorm(x1, p.get("post_attention_layernorm.weight"), g); // [B, T, D]
  const gate = linear(h2, p, "mlp.gate_proj"); // [B, T, I]
  const up = linear(h2, p, "mlp.up_proj"); // [B, T, I]
  // GeGLU with tanh GELU is one fused kernel on wasm; other activations (SwiGLU, exact GELU) stay composed
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
 * GemmaModel / LlamaModel: input embeddings (before Gemma's √D scale) to the final-norm hidden states.
 * embeds [B, T, D] -> hidden [B, T, D], with the updated cache.
 */
export function runDecoder(
  p: ParamView,
  g: LanguageShape,
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
  const mask = decoderMask(opts.attentionMask, T, S);
  const rope = rotary(opts.positions, g);
  // Gemma only: the normaliser √D, rounded to float32
  let x = g.family === "gemma" ? tf.mul(embeds, tf.scalar(Math.sqrt(g.width), "float32")) : embeds; // [B, T, D]
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
  const hidden = rmsNorm(x, m.get("norm.weight"), g); // [B, T, D]
  if (opts.outputHiddenStates) states.push(hidden);
  return { hidden, hiddenStates: opts.outputHiddenStates ? states : undefined, cache };
}

/**
 * The identity forward; backward, the gradient where `keep` is 1 and none where it is 0 (torch's
 * `padding_idx` rows are never updated). x [N, D], keep [N, 1] of 0 and 1 -> [N, D]
 */
const keepGradient = tf.customGrad((...args) => {
  const [x, keep] = args as tf.Tensor[];
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => [tf.mul(dy, keep), tf.zerosLike(keep)] };
});

/**
 * Token embeddings (before Gemma's scaling); the padding row passes no gradient. The gradient is
 * masked by a product, which the wasm backend broadcasts quickly, where a `where` over [B·T, D]
 * would broadcast its condition by a tile, element by element. ids [B, T] -> [B, T, D]
 */
export function embedTokens(p: ParamView, g: LanguageShape, ids: tf.Tensor): tf.Tensor {
  const [B, T] = dims(ids);
  const flat = tf.reshape(tf.cast(ids, "int32"), [B * T]); // [B·T]
  const rows = tf.gather(p.get("model.embed_tokens.weight"), flat); // [B·T, D]
  const pad = paddingRow(g);
  const embeds = pad === null ? rows : (keepGradient(rows, tf.reshape(tf.cast(tf.notEqual(flat, pad), "float32"), [B * T, 1])) as tf.Tensor); // [B·T, D]
  return tf.reshape(embeds, [B, T, g.width]); // [B, T, D]
}

/** The LM head (tied to embed_tokens unless `lm_head.weight` exists). hidden [B, T, D] -> [B, T, V] */
export function lmLogits(p: ParamView, g: LanguageShape, hidden: tf.Tensor): tf.Tensor {
  const [B, T, D] = dims(hidden);
  return tf.reshape(headLogits(p, g, tf.reshape(hidden, [B * T, D])), [B, T, g.vocab]); // [B, T, V]
}

/** The LM head on rows of hidden states. rows [N, D] -> [N, V] */
export function headLogits(p: ParamView, g: LanguageShape, rows: tf.Tensor): tf.Tensor {
  const head = g.tied ? p.get("model.embed_tokens.weight") : p.get("lm_head.weight"); // [V, D]
  return tf.matMul(rows, head, false, true); // [N, V]
}

/** Positions 0 .. T-1 for every row: [1, T]. */
export function arangePositions(T: number, offset = 0): tf.Tensor {
  return tf.reshape(tf.range(offset, offset + T, 1, "int32"), [1, T]);
}

/**
 * GemmaForCausalLM.forward / LlamaForCausalLM.forward. The loss is the mean next-token cross-entropy
 * over labels != -100 (4.40 ignores the attention mask in these models' loss).
 */
export function causalLmForward(p: ParamView, g: LanguageShape, inputs: ModelInputs) {
  const ids = inputs.inputIds;
  if (!ids || ids.rank !== 2) {
    throw new Error(`${g.family} needs inputIds [batch, length], got ${ids ? `[${ids.shape.join(", ")}]` : "none"}`);
  }
  const [B, T] = dims(ids);
  const mask = inputs.attentionMask;
  if (mask && (mask.rank !== 2 || dims(mask)[0] !== B || dims(mask)[1] !== T)) {
    throw new Error(`attentionMask must be [${B}, ${T}] like inputIds, got [${mask.shape.join(", ")}]`);
  }
  // read before any kernel uses the labels (lossOnly: the loss from the labelled positions alone)
  const labelled = inputs.lossOnly && inputs.labels ? labelledRows(inputs.labels) : null;
  const out = runDecoder(p, g, embedTokens(p, g, ids), {
    positions: inputs.positionIds ?? arangePositions(T),
    attentionMask: inputs.attentionMask,
    outputHiddenStates: inputs.outputHiddenStates,
  });
  if (labelled) {
    const loss = labelledLmLoss(out.hidden, labelled, (rows) => headLogits(p, g, rows));
    return { lastHiddenState: out.hidden, hiddenStates: out.hiddenStates, loss };
  }
  const logits = lmLogits(p, g, out.hidden);
  return {
    logits,
    lastHiddenState: out.hidden,
    hiddenStates: out.hiddenStates,
    loss: inputs.labels ? causalLmLoss(logits, inputs.labels) : undefined,
  };
}
