/**
 * DINOv2 (transformers `Dinov2Model`), keys at the root (`embeddings.`, `encoder.layer.i.`, `layernorm.`):
 *
 *   embeddings: [CLS] + patches (conv with bias) + learned positions, bicubically interpolated to the
 *               input's patch grid (in float32) unless the grid is the trained one and the image square
 *   layer:      h = x + λ1 ⊙ attn(norm1(x));  out = h + λ2 ⊙ mlp(norm2(h))   (LayerScale λ, init 1.0)
 *               mlp = fc1 -> act -> fc2, or SwiGLU: weights_in -> silu(x1) ⊙ x2 -> weights_out
 *   outputs:    last_hidden_state = layernorm(last layer)  (the final norm is on this output only);
 *               pooler_output = last_hidden_state[:, 0];
 *               hidden_states = (embeddings, layer 1, ..., layer L) without the final norm
 *
 * Shapes: see the legend in common.ts.
 */
import { tf } from "../tf.js";
import { activate, checkPixels, layerNorm, linear, patchEmbed, ParamView, Specs, dims } from "./common.js";
import type { VitShape } from "./shapes.js";
import { type Init, zeros } from "./init.js";
import { resizeBicubic } from "./bicubic.js";
import { runLayers, selfAttention, type VisionEncoder, type VisionOutputs } from "./vision.js";

export function dinov2Vision(v: VitShape): VisionEncoder {
  return {
    shape: v,
    specs: (s) => dinoSpecs(s, v),
    hiddenStates: (p, pixels, upTo) => dinoHiddenStates(p, v, pixels, upTo),
    forward: (p, pixels, all) => dinoForward(p, v, pixels, all),
  };
}

/** Parameters, initialised as Dinov2PreTrainedModel._init_weights does. */
function dinoSpecs(s: Specs, v: VitShape): void {
  const D = v.width;
  const N = Math.floor(v.position_image / v.patch) ** 2;
  const trunc: Init = { kind: "truncNormal", std: v.initStd };
  const lin = { bias: true, weight: trunc };
  const e = s.scope("embeddings");
  e.add("cls_token", [1, 1, D], trunc);
  if (v.mask_token) e.add("mask_token", [1, D], zeros);
  e.add("position_embeddings", [1, N + 1, D], trunc);
  e.add("patch_embeddings.projection.weight", [D, v.channels, v.patch, v.patch], trunc);
  e.add("patch_embeddings.projection.bias", [D], zeros);
  for (let i = 0; i < v.depth; i++) {
    const l = s.scope(`encoder.layer.${i}`);
    l.layerNorm("norm1", D);
    l.linear("attention.attention.query", D, D, { bias: v.qkvBias, weight: trunc });
    l.linear("attention.attention.key", D, D, { bias: v.qkvBias, weight: trunc });
    l.linear("attention.attention.value", D, D, { bias: v.qkvBias, weight: trunc });
    l.linear("attention.output.dense", D, D, lin);
    l.add("layer_scale1.lambda1", [D], { kind: "constant", value: v.layer_scale });
    l.layerNorm("norm2", D);
    if (v.ffn === "swiglu") {
      l.linear("mlp.weights_in", D, 2 * v.mlp, lin);
      l.linear("mlp.weights_out", v.mlp, D, lin);
    } else {
      l.linear("mlp.fc1", D, v.mlp, lin);
      l.linear("mlp.fc2", v.mlp, D, lin);
    }
    l.add("layer_scale2.lambda1", [D], { kind: "constant", value: v.layer_scale });
  }
  s.layerNorm("layernorm", D);
}

/**
 * The position table for an input of Hpx × Wpx pixels (Dinov2Embeddings.interpolate_pos_encoding).
 * table [1, n·n+1, D] -> [1, h·w+1, D]
 */
function positions(table: tf.Tensor, v: VitShape, Hpx: number, Wpx: number): tf.Tensor {
  const [, total, D] = dims(table);
  const trained = total - 1;
  const h = Math.floor(Hpx / v.patch);
  const w = Math.floor(Wpx / v.patch);
  if (h * w === trained && Hpx === Wpx) return table;
  const n = Math.round(Math.sqrt(trained));
  if (n * n !== trained) {
    throw new Error(`DINOv2: the position table has ${trained} patch positions, not a square grid, so it cannot be interpolated`);
  }
  const cls = tf.slice(table, [0, 0, 0], [1, 1, D]); // [1, 1, D]
  const grid = tf.reshape(tf.slice(table, [0, 1, 0], [1, trained, D]), [trained, D]); // [n·n, D]
  // "size" (transformers >= 4.45): scale = n / h. "scale_factor" (<= 4.44): scale = 1 / ((h + 0.1) / n).
  const scales =
    v.interpolation === "size" ? { h: n / h, w: n / w } : { h: 1 / ((h + 0.1) / n), w: 1 / ((w + 0.1) / n) };
  const resized = tf.reshape(resizeBicubic(grid, n, n, h, w, scales), [1, h * w, D]); // [1, h·w, D]
  return tf.concat([cls, resized], 1); // [1, h·w+1, D]
}

/** pixels [B, C, H, W] -> [CLS; patches] + positions [B, N+1, D] */
function dinoEmbeddings(p: ParamView, v: VitShape, pixels: tf.Tensor): tf.Tensor {
  checkPixels(pixels, v.channels);
  const e = p.scope("embeddings");
  const { x } = patchEmbed(pixels, e, "patch_embeddings.projection", v.patch); // [B, N, D]
  const B = dims(x)[0];
  const cls = tf.broadcastTo(e.get("cls_token"), [B, 1, v.width]); // [B, 1, D]
  const pos = positions(e.get("position_embeddings"), v, dims(pixels)[2], dims(pixels)[3]); // [1, N+1, D]
  return tf.add(tf.concat([cls, x], 1), pos); // [B, N+1, D]
}

/** x [B, N, D] -> [B, N, D] */
function mlp(x: tf.Tensor, p: ParamView, v: VitShape): tf.Tensor {
  if (v.ffn === "mlp") return linear(activate(linear(x, p, "mlp.fc1"), v.act), p, "mlp.fc2");
  const both = linear(x, p, "mlp.weights_in"); // [B, N, 2I]
  const [x1, x2] = tf.split(both, 2, -1); // [B, N, I] each
  return linear(tf.mul(activate(x1, "silu"), x2), p, "mlp.weights_out"); // [B, N, D]
}

/** One layer. x [B, N, D] -> [B, N, D] */
function dinoLayer(x: tf.Tensor, p: ParamView, v: VitShape): tf.Tensor {
  const attn = selfAttention(layerNorm(x, p, "norm1", v.norm_eps), p, v, {
    q: "attention.attention.query",
    k: "attention.attention.key",
    v: "attention.attention.value",
    out: "attention.output.dense",
  });
  const h = tf.add(x, tf.mul(attn, p.get("layer_scale1.lambda1"))); // [B, N, D]
  return tf.add(h, tf.mul(mlp(layerNorm(h, p, "norm2", v.norm_eps), p, v), p.get("layer_scale2.lambda1"))); // [B, N, D]
}

function dinoHiddenStates(p: ParamView, v: VitShape, pixels: tf.Tensor, upTo: number): tf.Tensor[] {
  const x = dinoEmbeddings(p, v, pixels);
  return runLayers(x, upTo, (h, i) => dinoLayer(h, p.scope(`encoder.layer.${i}`), v));
}

function dinoForward(p: ParamView, v: VitShape, pixels: tf.Tensor, outputHiddenStates: boolean): VisionOutputs {
  const states = dinoHiddenStates(p, v, pixels, v.depth);
  const last = layerNorm(states[states.length - 1], p, "layernorm", v.norm_eps); // [B, N+1, D]
  const [B, , D] = dims(last);
  return {
    lastHiddenState: last,
    poolerOutput: tf.reshape(tf.slice(last, [0, 0, 0], [B, 1, D]), [B, D]), // [B, D]
    hiddenStates: outputHiddenStates ? states : undefined,
  };
}
