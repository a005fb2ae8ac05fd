/**
 * SigLIP's vision transformer (transformers `SiglipVisionModel`), keys under `vision_model.`:
 *
 *   embeddings: patches (conv with bias) + learned positions, no class token
 *   encoder:    L pre-norm layers, the same layer as CLIP (gelu_pytorch_tanh in the released models)
 *   outputs:    last_hidden_state = post_layernorm(last layer);
 *               pooler_output = head(last_hidden_state): a learned probe attends over the tokens with
 *               torch nn.MultiheadAttention (packed in_proj_weight [3D, D]), then
 *               probe' + mlp(layernorm(probe')), first (only) token;
 *               hidden_states = (embeddings, layer 1, ..., layer L) without post_layernorm
 *
 * Shapes: see the legend in common.ts.
 */
import { tf } from "../tf.js";
import { activate, attention, checkPixels, layerNorm, linear, patchEmbed, ParamView, Specs, dims } from "./common.js";
import type { VitShape } from "./shapes.js";
import { type Init, normal, zeros } from "./init.js";
import { checkGrid, preNormLayer, preNormLayerSpecs, runLayers, type VisionEncoder, type VisionOutputs } from "./vision.js";

export function siglipVision(v: VitShape): VisionEncoder {
  return {
    shape: v,
    specs: (s) => siglipSpecs(s.scope("vision_model"), v),
    hiddenStates: (p, pixels, upTo) => siglipHiddenStates(p.scope("vision_model"), v, pixels, upTo),
    forward: (p, pixels, all) => siglipForward(p.scope("vision_model"), v, pixels, all),
  };
}

const xavier = (fanIn: number, fanOut: number): Init => ({ kind: "xavierUniform", fanIn, fanOut });

/** Parameters, initialised as SiglipPreTrainedModel._init_weights does. */
function siglipSpecs(s: Specs, v: VitShape): void {
  const D = v.width;
  const I = v.mlp;
  const N = Math.floor(v.position_image / v.patch) ** 2;
  const e = s.scope("embeddings");
  e.add("patch_embedding.weight", [D, v.channels, v.patch, v.patch], { kind: "lecunNormal", fanIn: v.channels * v.patch * v.patch });
  e.add("patch_embedding.bias", [D], zeros);
  e.add("position_embedding.weight", [N, D], normal(1 / Math.sqrt(D)));
  const mlpBias = normal(1e-6);
  for (let i = 0; i < v.depth; i++) {
    preNormLayerSpecs(s.scope(`encoder.layers.${i}`), v, {
      qkv: xavier(D, D),
      out: xavier(D, D),
      fc1: xavier(D, I),
      fc2: xavier(I, D),
      fcBias: mlpBias,
    });
  }
  s.layerNorm("post_layernorm", D);
  if (!v.head) return;
  const h = s.scope("head");
  h.add("probe", [1, 1, D], xavier(D, D));
  h.add("attention.in_proj_weight", [3 * D, D], xavier(D, 3 * D));
  h.add("attention.in_proj_bias", [3 * D], zeros);
  h.linear("attention.out_proj", D, D, { bias: true, weight: { kind: "lecunNormal", fanIn: D } });
  h.layerNorm("layernorm", D);
  h.linear("mlp.fc1", D, I, { bias: true, weight: xavier(D, I), biasInit: mlpBias });
  h.linear("mlp.fc2", I, D, { bias: true, weight: xavier(I, D), biasInit: mlpBias });
}

/** pixels [B, C, H, W] -> patches + positions [B, N, D] */
function siglipEmbeddings(p: ParamView, v: VitShape, pixels: tf.Tensor): tf.Tensor {
  checkPixels(pixels, v.channels);
  const e = p.scope("embeddings");
  const { x, h, w } = patchEmbed(pixels, e, "patch_embedding", v.patch); // [B, N, D]
  checkGrid("SigLIP", v, h, w);
  return tf.add(x, e.get("position_embedding.weight")); // [B, N, D]
}

function siglipHiddenStates(p: ParamView, v: VitShape, pixels: tf.Tensor, upTo: number): tf.Tensor[] {
  const x = siglipEmbeddings(p, v, pixels);
  return runLayers(x, upTo, (h, i) => preNormLayer(h, p.scope(`encoder.layers.${i}`), v));
}

/**
 * The attention-pooling head (SiglipMultiheadAttentionPoolingHead).
 * x [B, N, D] -> [B, D]
 */
function poolingHead(p: ParamView, v: VitShape, x: tf.Tensor): tf.Tensor {
  const [B, N, D] = dims(x);
  const H = v.heads;
  const Dh = D / H;
  const packed = p.get("attention.in_proj_weight"); // [3D, D]: rows q, k, v
  const packedBias = p.get("attention.in_proj_bias"); // [3D]
  const part = (i: number, t: tf.Tensor) => {
    const w = tf.slice(packed, [i * D, 0], [D, D]); // [D, D]
    const b = tf.slice(packedBias, [i * D], [D]); // [D]
    return tf.add(tf.matMul(tf.reshape(t, [-1, D]), w, false, true), b); // [rows, D]
  };
  const probe = tf.broadcastTo(p.get("probe"), [B, 1, D]); // [B, 1, D]
  const q = tf.reshape(part(0, probe), [B, 1, H, Dh]); // [B, 1, H, Dh]
  const k = tf.reshape(part(1, x), [B, N, H, Dh]); // [B, N, H, Dh]
  const val = tf.reshape(part(2, x), [B, N, H, Dh]); // [B, N, H, Dh]
  const attended = attention(q, k, val, { heads: H, kv_heads: H, head_dim: Dh, scale: 1 / Math.sqrt(Dh) }); // [B, 1, D]
  const pooled = linear(attended, p, "attention.out_proj"); // [B, 1, D]
  const mlp = linear(activate(linear(layerNorm(pooled, p, "layernorm", v.norm_eps), p, "mlp.fc1"), v.act), p, "mlp.fc2");
  return tf.reshape(tf.add(pooled, mlp), [B, D]); // [B, D]
}

function siglipForward(p: ParamView, v: VitShape, pixels: tf.Tensor, outputHiddenStates: boolean): VisionOutputs {
  const states = siglipHiddenStates(p, v, pixels, v.depth);
  const last = layerNorm(states[states.length - 1], p, "post_layernorm", v.norm_eps); // [B, N, D]
  return {
    lastHiddenState: last,
    poolerOutput: v.head ? poolingHead(p.scope("head"), v, last) : undefined,
    hiddenStates: outputHiddenStates ? states : undefined,
  };
}
