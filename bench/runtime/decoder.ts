/**
 * The benchmark's tiny Gemma-style decoder, written here so that the benchmark does not depend on the
 * model files; `decoder_step.py` builds the same network in PyTorch from the same weights.
 *
 * Legend: B batch, T sequence, D width, H query heads, Hd head dim, F mlp width, V vocab.
 * Gemma's quirks: RMSNorm scales by (1 + w); embeddings are multiplied by sqrt(D); GeGLU with
 * tanh-GELU; RoPE with rotate-half; one key/value head shared by all query heads (multi-query),
 * computed by folding the heads into rows; the LM head is the embedding (tied).
 * Linear weights use Hugging Face's [out, in] layout and names.
 */
import { tf } from "../../runtime/tf.js";
import { crossEntropy, geglu, rmsNorm as fusedRmsNorm, rotateHalf as fusedRotateHalf } from "../../runtime/backend/fused/index.js";

export interface DecoderConfig {
  layers: number;
  width: number;
  heads: number;
  kvHeads: 1;
  headDim: number;
  mlp: number;
  vocab: number;
  seq: number;
  batch: number;
  ropeTheta: number;
  rmsEps: number;
}

export const TINY_DECODER: DecoderConfig = {
  layers: 4,
  width: 256,
  heads: 4,
  kvHeads: 1,
  headDim: 64,
  mlp: 1024,
  vocab: 1024,
  seq: 128,
  batch: 8,
  ropeTheta: 10000,
  rmsEps: 1e-6,
};

/** Parameter names and shapes, in Hugging Face Gemma's naming. */
export function decoderShapes(c: DecoderConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  shapes.set("model.embed_tokens.weight", [c.vocab, c.width]);
  for (let i = 0; i < c.layers; i++) {
    const p = `model.layers.${i}`;
    shapes.set(`${p}.input_layernorm.weight`, [c.width]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [c.heads * c.headDim, c.width]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [c.kvHeads * c.headDim, c.width]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [c.kvHeads * c.headDim, c.width]);
    shapes.set(`${p}.self_attn.o_proj.weight`, [c.width, c.heads * c.headDim]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [c.width]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [c.mlp, c.width]);
    shapes.set(`${p}.mlp.up_proj.weight`, [c.mlp, c.width]);
    shapes.set(`${p}.mlp.down_proj.weight`, [c.width, c.mlp]);
  }
  shapes.set("model.norm.weight", [c.width]);
  return shapes;
}

/**
 * Seeded weights: normal(0, 0.02) matrices; norm weights random small too, so (1 + w) is exercised.
 * `fill` sets every weight to that scale instead: made on the device in one pass, for sizes whose
 * random values would take minutes to draw in JavaScript (the GPU check's largest-model probe).
 */
export function initDecoder(c: DecoderConfig, seed: number, init: "normal" | "fill" = "normal"): Map<string, tf.Variable> {
  const params = new Map<string, tf.Variable>();
  let k = 0;
  for (const [name, shape] of decoderShapes(c)) {
    const std = shape.length === 1 ? 0.1 : 0.02;
    const value = init === "fill" ? tf.fill(shape, std) : tf.randomNormal(shape, 0, std, "float32", seed * 1000 + k++);
    params.set(name, tf.variable(value, true, `bench.${name}`));
    value.dispose();
  }
  return params;
}

/** The number of multiply-adds' worth of FLOPs in one forward + backward (6 N tokens + attention). */
export function stepFlops(c: DecoderConfig): number {
  let matmulParams = 0;
  for (const [name, shape] of decoderShapes(c)) if (shape.length === 2 && !name.includes("embed")) matmulParams += shape[0] * shape[1];
  matmulParams += c.vocab * c.width; // the tied LM head is a matmul
  const tokens = c.batch * c.seq;
  const attention = 12 * c.layers * c.seq * c.heads * c.headDim * tokens;
  return 6 * matmulParams * tokens + attention;
}

/** cos and sin tables [T, Hd] for rotate-half RoPE. */
function rope(c: DecoderConfig): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = c.headDim / 2;
  const cos = new Float32Array(c.seq * c.headDim);
  const sin = new Float32Array(c.seq * c.headDim);
  for (let t = 0; t < c.seq; t++) {
    for (let j = 0; j < half; j++) {
      const invFreq = 1 / c.ropeTheta ** ((2 * j) / c.headDim);
      const angle = t * Math.fround(invFreq);
      for (const o of [0, half]) {
        cos[t * c.headDim + o + j] = Math.cos(angle);
        sin[t * c.headDim + o + j] = Math.sin(angle);
      }
    }
  }
  return { cos: tf.tensor2d(cos, [c.seq, c.headDim]), sin: tf.tensor2d(sin, [c.seq, c.headDim]) };
}

/** Additive causal mask [H*T, T] for query rows folded as (head, position). */
function causalMask(c: DecoderConfig): tf.Tensor2D {
  const m = new Float32Array(c.heads * c.seq * c.seq);
  for (let h = 0; h < c.heads; h++)
    for (let t = 0; t < c.seq; t++)
      for (let s = t + 1; s < c.seq; s++) m[(h * c.seq + t) * c.seq + s] = -1e9;
  return tf.tensor2d(m, [c.heads * c.seq, c.seq]);
}

export interface Decoder {
  config: DecoderConfig;
  params: Map<string, tf.Variable>;
  /** Mean next-token cross-entropy; ids and targets [B, T] int32. */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar;
  dispose(): void;
}

/** `fused` uses the runtime's fused RMSNorm, GeGLU, rotate-half and cross-entropy (wasm and WGSL kernels). */
export function createDecoder(c: DecoderConfig, seed: number, fused = true, init: "normal" | "fill" = "normal"): Decoder {
  const params = initDecoder(c, seed, init);
  const { cos, sin } = rope(c);
  const mask = causalMask(c);
  const w = (name: string) => params.get(name) as tf.Variable;
  const B = c.batch, T = c.seq, D = c.width, H = c.heads, Hd = c.headDim;

  const rmsNorm = (x: tf.Tensor2D, weight: tf.Tensor): tf.Tensor2D => {
    if (fused) return fusedRmsNorm(x, weight, { eps: c.rmsEps, offset: 1 }) as tf.Tensor2D;
    const variance = tf.mean(tf.mul(x, x), -1, true); // [BT, 1]
    const normed = tf.mul(x, tf.rsqrt(tf.add(variance, c.rmsEps)));
    return tf.mul(normed, tf.add(weight, 1)) as tf.Tensor2D; // Gemma scales by (1 + w)
  };
  const linear = (x: tf.Tensor2D, weight: tf.Tensor): tf.Tensor2D => tf.matMul(x, weight as tf.Tensor2D, false, true);
  const rotateHalf = (x: tf.Tensor): tf.Tensor => {
    if (fused) return fusedRotateHalf(x);
    const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, Hd / 2]);
    const x2 = tf.slice(x, [0, 0, 0, Hd / 2], [-1, -1, -1, Hd / 2]);
    return tf.concat([tf.neg(x2), x1], -1);
  };
  const applyRope = (x: tf.Tensor): tf.Tensor => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin)); // [., ., T, Hd]
  const geluTanh = (x: tf.Tensor): tf.Tensor => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(tf.mul(x, x), x))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  };

  const loss = (ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar => {
    const embed = w("model.embed_tokens.weight");
    let x = tf.mul(tf.gather(embed, tf.reshape(ids, [B * T])), Math.sqrt(D)) as tf.Tensor2D; // [BT, D]
    for (let i = 0; i < c.layers; i++) {
      const p = `model.layers.${i}`;
      const h = rmsNorm(x, w(`${p}.input_layernorm.weight`));
      const q = tf.transpose(tf.reshape(linear(h, w(`${p}.self_attn.q_proj.weight`)), [B, T, H, Hd]), [0, 2, 1, 3]); // [B, H, T, Hd]
      const k = tf.reshape(linear(h, w(`${p}.self_attn.k_proj.weight`)), [B, 1, T, Hd]);
      const v = tf.reshape(linear(h, w(`${p}.self_attn.v_proj.weight`)), [B, T, Hd]);
      const qr = tf.reshape(applyRope(q), [B, H * T, Hd]); // heads folded into rows
      const kr = tf.reshape(applyRope(k), [B, T, Hd]);
      const scores = tf.add(tf.mul(tf.matMul(qr, kr, false, true), 1 / Math.sqrt(Hd)), mask); // [B, H*T, T]
      const attn = tf.matMul(tf.softmax(scores), v); // [B, H*T, Hd]
      const merged = tf.reshape(tf.transpose(tf.reshape(attn, [B, H, T, Hd]), [0, 2, 1, 3]), [B * T, H * Hd]) as tf.Tensor2D;
      x = tf.add(x, linear(merged, w(`${p}.self_attn.o_proj.weight`)));
      const h2 = rmsNorm(x, w(`${p}.post_attention_layernorm.weight`));
      const gate = linear(h2, w(`${p}.mlp.gate_proj.weight`)); // [BT, F]
      const up = linear(h2, w(`${p}.mlp.up_proj.weight`));
      const act = fused ? geglu(gate, up) : tf.mul(geluTanh(gate), up);
      x = tf.add(x, linear(act as tf.Tensor2D, w(`${p}.mlp.down_proj.weight`)));
    }
    const logits = linear(rmsNorm(x, w("model.norm.weight")), embed); // [BT, V], tied head
    if (fused) return crossEntropy(logits, tf.reshape(targets, [B * T]));
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.reshape(targets, [B * T]), c.vocab);
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), -1))) as tf.Scalar;
  };

  return {
    config: c,
    params,
    loss,
    dispose() {
      tf.dispose([cos, sin, mask, ...params.values()]);
    },
  };
}

/** A deterministic batch: ids and next-token targets [B, T] from a simple LCG. */
export function syntheticBatch(c: DecoderConfig, seed: number): { ids: tf.Tensor2D; targets: tf.Tensor2D } {
  const n = c.batch * (c.seq + 1);
  const tokens = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    tokens[i] = s % c.vocab;
  }
  const ids = new Int32Array(c.batch * c.seq);
  const targets = new Int32Array(c.batch * c.seq);
  for (let b = 0; b < c.batch; b++)
    for (let t = 0; t < c.seq; t++) {
      ids[b * c.seq + t] = tokens[b * (c.seq + 1) + t];
      targets[b * c.seq + t] = tokens[b * (c.seq + 1) + t + 1];
    }
  return { ids: tf.tensor2d(ids, [c.batch, c.seq], "int32"), targets: tf.tensor2d(targets, [c.batch, c.seq], "int32") };
}
