/**
 * CLIP's vision transformer (transformers `CLIPVisionModel`), keys under `vision_model.`:
 *
 *   embeddings: [CLS] + patches (conv, no bias) + learned positions  -> pre_layrnorm
 *   encoder:    L pre-norm layers (quick_gelu MLP in the OpenAI checkpoints)
 *   outputs:    last_hidden_state = last layer output (no norm);
 *               pooler_output = post_layernorm(last_hidden_state[:, 0]);
 *               hidden_states = (pre_layrnorm(embeddings), layer 1, ..., layer L)
 *
 * Shapes: see the legend in common.ts.
 */
import { tf } from "../tf.js";
import { checkPixels, layerNorm, patchEmbed, ParamView, Specs, dims } from "./common.js";
import type { VitShape } from "./shapes.js";
import { normal } from "./init.js";
import { checkGrid, preNormLayer, preNormLayerSpecs, runLayers, type VisionEncoder, type VisionOutputs } from "./vision.js";

export function clipVision(v: VitShape): VisionEncoder {
  return {
    shape: v,
    specs: (s) => clipSpecs(s.scope("vision_model"), v),
    hiddenStates: (p, pixels, upTo) => clipHiddenStates(p.scope("vision_model"), v, pixels, upTo),
    forward: (p, pixels, all) => clipForward(p.scope("vision_model"), v, pixels, all),
  };
}

/** Parameters, initialised as CLIPPreTrainedModel._init_weights does. */
function clipSpecs(s: Specs, v: VitShape): void {
  const D = v.width;
  const f = v.initFactor;
  const N = Math.floor(v.position_image / v.patch) ** 2;
  const layersForInit = Math.max(v.depth, 1);
  const e = s.scope("embeddings");
  e.add("class_embedding", [D], normal(D ** -0.5 * f));
  e.add("patch_embedding.weight", [D, v.channels, v.patch, v.patch], normal(v.initStd * f));
  e.add("position_embedding.weight", [N + 1, D], normal(v.initStd * f));
  s.layerNorm("pre_layrnorm", D);
  const inStd = D ** -0.5 * (2 * layersForInit) ** -0.5 * f;
  for (let i = 0; i < v.depth; i++) {
    preNormLayerSpecs(s.scope(`encoder.layers.${i}`), v, {
      qkv: normal(inStd),
      out: normal(D ** -0.5 * f),
      fc1: normal((2 * D) ** -0.5 * f),
      fc2: normal(inStd),
      fcBias: { kind: "constant", value: 0 },
    });
  }
  s.layerNorm("post_layernorm", D);
}

/** pixels [B, C, H, W] -> pre_layrnorm([CLS; patches] + positions) [B, N+1, D] */
function clipEmbeddings(p: ParamView, v: VitShape, pixels: tf.Tensor): tf.Tensor {
  checkPixels(pixels, v.channels);
  const e = p.scope("embeddings");
  const { x, h, w } = patchEmbed(pixels, e, "patch_embedding", v.patch); // [B, N, D]
  checkGrid("CLIP", v, h, w);
  const B = dims(x)[0];
  const cls = tf.broadcastTo(tf.reshape(e.get("class_embedding"), [1, 1, v.width]), [B, 1, v.width]); // [B, 1, D]
  const tokens = tf.add(tf.concat([cls, x], 1), e.get("position_embedding.weight")); // [B, N+1, D]
  return layerNorm(tokens, p, "pre_layrnorm", v.norm_eps); // [B, N+1, D]
}

function clipHiddenStates(p: ParamView, v: VitShape, pixels: tf.Tensor, upTo: number): tf.Tensor[] {
  const x = clipEmbeddings(p, v, pixels);
  return runLayers(x, upTo, (h, i) => preNormLayer(h, p.scope(`encoder.layers.${i}`), v));
}

function clipForward(p: ParamView, v: VitShape, pixels: tf.Tensor, outputHiddenStates: boolean): VisionOutputs {
  const states = clipHiddenStates(p, v, pixels, v.depth);
  const last = states[states.length - 1]; // [B, N+1, D]
  const [B, , D] = dims(last);
  const cls = tf.reshape(tf.slice(last, [0, 0, 0], [B, 1, D]), [B, D]); // [B, D]
  return {
    lastHiddenState: last,
    poolerOutput: layerNorm(cls, p, "post_layernorm", v.norm_eps), // [B, D]
    hiddenStates: outputHiddenStates ? states : undefined,
  };
}
