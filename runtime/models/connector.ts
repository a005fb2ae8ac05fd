/**
 * The vision-language connector (LLaVA's projector), keys under `multi_modal_projector.`:
 *
 *   identity  no parameters (vision feature width must equal the text width)
 *   linear    linear_1: F -> D                                  (LLaVA `mm_projector_type: linear`)
 *   mlp N     linear_1: F -> D, then (act, linear_k: D -> D) for k = 2..N   (`mlpNx_gelu`; N = 2 is
 *             transformers' LlavaMultiModalProjector: linear_1, GELU, linear_2)
 *
 * The activation between layers is the connector's `act`, "gelu" = exact erf GELU (torch nn.GELU()),
 * as LLaVA uses. F is the selected feature width (vision width × number of selected layers), D the
 * language width.
 *
 * Shapes: see the legend in common.ts.
 */
import type { tf } from "../tf.js";
import { activate, linear, ParamView, Specs } from "./common.js";
import { selectedLayers, type LlavaShape } from "./shapes.js";
import { normal, zeros } from "./init.js";

/** Width of the features the connector receives. */
export function featureWidth(l: LlavaShape): number {
  return l.vision.width * selectedLayers(l).length;
}

/** Parameters, initialised as LlavaPreTrainedModel._init_weights does: N(0, language initStd²), bias 0. */
export function connectorSpecs(s: Specs, l: LlavaShape): void {
  const D = l.language.width;
  const init = { bias: l.connector.bias, weight: normal(l.language.initStd), biasInit: zeros };
  for (let k = 1; k <= l.connector.depth; k++) {
    s.linear(`linear_${k}`, k === 1 ? featureWidth(l) : D, D, init);
  }
}

/** features [..., F] -> [..., D] */
export function connect(p: ParamView, l: LlavaShape, features: tf.Tensor): tf.Tensor {
  let x = features;
  for (let k = 1; k <= l.connector.depth; k++) {
    if (k > 1) x = activate(x, l.connector.act);
    x = linear(x, p, `linear_${k}`);
  }
  return x;
}
