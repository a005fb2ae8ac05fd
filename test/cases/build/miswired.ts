// A hand-written graph module whose connector expects 768-wide features from a 1024-wide encoder:
// `tsc` must reject it on the `llava({` line (test/build/build.test.ts).
import { clipVit, gemma, llava, mlp } from "mmfm/runtime";

const vision = clipVit({
  image: 336, patch: 14, width: 1024, depth: 24, heads: 16, mlp: 4096, act: "quick_gelu", norm_eps: 1e-5,
  select_layer: -2, feature: "patch", mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711],
  resize: 336, aspect: "crop", weights: null, hub_id: "openai/clip-vit-large-patch14-336",
});
const connector = mlp({ in: 768, out: 2048, depth: 2, act: "gelu" });
const language = gemma({
  vocab: 256000, width: 2048, depth: 18, heads: 8, kv_heads: 1, head_dim: 256, mlp: 16384, act: "gelu_tanh",
  rope_theta: 10000, norm_eps: 1e-6, max_positions: 8192, init_std: 0.02, tokenizer: null, weights: null, hub_id: "google/gemma-2b-it",
});
export const model = llava({ vision, connector, language });
