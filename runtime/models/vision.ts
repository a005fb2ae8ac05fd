/**
 * What the vision families share: the encoder interface LLaVA uses, and the pre-norm transformer
 * layer of CLIP and SigLIP (identical in both, with the same checkpoint keys:
 * `layer_norm1`, `self_attn.{q,k,v,out}_proj`, `layer_norm2`, `mlp.fc1`, `mlp.fc2`).
 *
 * Shapes: see the legend in common.ts.
 */
import { tf } from "../tf.js";
import { activate, attention, layerNorm, linear, splitHeads, ParamView, Specs } from "./common.js";
import type { Init } from "./init.js";
import type { VitShape } from "./shapes.js";

export interface VisionOutputs {
  /** [B, tokens, D], as transformers' `last_hidden_state`. */
  lastHiddenState: tf.Tensor;
  /** [B, D], as transformers' `pooler_output` (none for SigLIP without head). */
  poolerOutput?: tf.Tensor;
  /** L + 1 tensors [B, tokens, D]: the embeddings, then each layer's output. */
  hiddenStates?: tf.Tensor[];
}

export interface VisionEncoder {
  readonly shape: VitShape;
  /** Adds the encoder's parameters (keys relative to the encoder's root module). */
  specs(s: Specs): void;
  /** hidden_states[0 ..= upTo]: embeddings (after CLIP's pre_layrnorm), then layer outputs. */
  hiddenStates(p: ParamView, pixels: tf.Tensor, upTo: number): tf.Tensor[];
  forward(p: ParamView, pixels: tf.Tensor, outputHiddenStates: boolean): VisionOutputs;
}

/** Initialisation of the four attention projections and two MLP layers of one layer. */
export interface LayerInits {
  qkv: Init;
  out: Init;
  fc1: Init;
  fc2: Init;
  fcBias: Init;
}

/** Parameters of one CLIP/SigLIP encoder layer. */
export function preNormLayerSpecs(s: Specs, v: VitShape, init: LayerInits): void {
  const D = v.width;
  s.layerNorm("layer_norm1", D);
  for (const n of ["k_proj", "v_proj", "q_proj"]) s.linear(`self_attn.${n}`, D, D, { bias: true, weight: init.qkv });
  s.linear("self_attn.out_proj", D, D, { bias: true, weight: init.out });
  s.layerNorm("layer_norm2", D);
  s.linear("mlp.fc1", D, v.mlp, { bias: true, weight: init.fc1, biasInit: init.fcBias });
  s.linear("mlp.fc2", v.mlp, D, { bias: true, weight: init.fc2, biasInit: init.fcBias });
}

/** Bidirectional multi-head self-attention: x [B, N, D] -> [B, N, D]. */
export function selfAttention(x: tf.Tensor, p: ParamView, v: VitShape, names: { q: string; k: string; v: string; out: string }): tf.Tensor {
  const Dh = v.width / v.heads;
  const q = splitHeads(linear(x, p, names.q), v.heads); // [B, N, H, Dh]
  const k = splitHeads(linear(x, p, names.k), v.heads); // [B, N, H, Dh]
  const val = splitHeads(linear(x, p, names.v), v.heads); // [B, N, H, Dh]
  const o = attention(q, k, val, { heads: v.heads, kv_heads: v.heads, head_dim: Dh, scale: 1 / Math.sqrt(Dh) }); // [B, N, D]
  return linear(o, p, names.out); // [B, N, D]
}

/** One CLIP/SigLIP layer: x + attn(LN1(x)), then + fc2(act(fc1(LN2(·)))). x [B, N, D] -> [B, N, D]. */
export function preNormLayer(x: tf.Tensor, p: ParamView, v: VitShape): tf.Tensor {
  const attn = selfAttention(layerNorm(x, p, "layer_norm1", v.norm_eps), p, v, {
    q: "self_attn.q_proj",
    k: "self_attn.k_proj",
    v: "self_attn.v_proj",
    out: "self_attn.out_proj",
  });
  const h = tf.add(x, attn); // [B, N, D]
  const mlp = linear(activate(linear(layerNorm(h, p, "layer_norm2", v.norm_eps), p, "mlp.fc1"), v.act), p, "mlp.fc2");
  return tf.add(h, mlp); // [B, N, D]
}

/** Runs `layer` over encoder layers 0 .. upTo-1, returning [x, out_1, ..., out_upTo]. */
export function runLayers(x: tf.Tensor, upTo: number, layer: (x: tf.Tensor, i: number) => tf.Tensor): tf.Tensor[] {
  const states = [x];
  for (let i = 0; i < upTo; i++) states.push(layer(states[i], i));
  return states;
}

/** Checks the patch grid matches a fixed position table (CLIP and SigLIP do not interpolate). */
export function checkGrid(family: string, v: VitShape, h: number, w: number): void {
  const n = v.position_image / v.patch;
  if (h * w !== Math.floor(n) ** 2) {
    throw new Error(
      `${family}: pixel_values give a ${h}×${w} patch grid (${h * w} patches) but the position embedding has ` +
        `${Math.floor(n) ** 2} (image_size ${v.position_image}, patch_size ${v.patch}); resize the images to ${v.position_image}×${v.position_image}`,
    );
  }
}
