/**
 * Expected parameter counts, from reference/llava-gemma.md §3 (published counts and the connector
 * table of §3.3), and the formulas behind them, written here independently of compiler/params.ts so
 * that the tests check the compiler against the reference, not against itself.
 */

/** Published counts of the backbones (reference §3.1, §3.2). */
export const published = {
  gemma_2b: 2_506_172_416,
  gemma_7b: 8_537_680_896,
  clip_vit_l14_336: 303_507_456,
  dinov2_vit_l14: 304_368_640,
  dinov2_vit_g14: 1_136_480_768,
  siglip_so400m_p14_384: 428_225_600,
  // LlamaForCausalLM with its own lm_head (lmsys/vicuna-*-v1.5, meta-llama/Llama-2-7b-hf)
  vicuna_7b_v1_5: 6_738_415_616,
  vicuna_13b_v1_5: 13_015_864_320,
} as const;

/** CLIP ViT-L/14 at 224 px: 257 position embeddings instead of 577, i.e. 303,507,456 − 320 × 1024. */
export const clipVitL14At224 = 303_507_456 - 320 * 1024;

/** Reference §3.3, `mlp2x_gelu` column, by `visionWidth>languageWidth`. */
export const mlp2xTable: Readonly<Record<string, number>> = {
  "1024>2048": 6_295_552,
  "1024>3072": 12_589_056,
  "1536>2048": 7_344_128,
  "1536>3072": 14_161_920,
  "1152>2048": 6_557_696,
  "1152>3072": 12_982_272,
  "1024>4096": 20_979_712,
  "1024>5120": 31_467_520,
};

/** Reference §3.3, `linear` column. */
export const linearTable: Readonly<Record<string, number>> = {
  "1024>2048": 2_099_200,
  "1024>3072": 3_148_800,
  "1536>2048": 3_147_776,
  "1536>3072": 4_721_664,
  "1152>2048": 2_361_344,
  "1152>3072": 3_542_016,
  "1024>4096": 4_198_400,
  "1024>5120": 5_248_000,
};

/** The std presets LANGUAGE.md §5 requires, with their count and hidden width. */
export const visionPresets: Readonly<Record<string, { params: number; width: number; tokens: number }>> = {
  clip_vit_l14_336: { params: published.clip_vit_l14_336, width: 1024, tokens: 576 },
  clip_vit_l14: { params: clipVitL14At224, width: 1024, tokens: 256 },
  dinov2_vit_l14: { params: published.dinov2_vit_l14, width: 1024, tokens: 256 },
  dinov2_vit_g14: { params: published.dinov2_vit_g14, width: 1536, tokens: 256 },
  siglip_so400m_p14_384: { params: published.siglip_so400m_p14_384, width: 1152, tokens: 729 },
};

export const languagePresets: Readonly<Record<string, { params: number; width: number }>> = {
  gemma_2b: { params: published.gemma_2b, width: 2048 },
  gemma_2b_it: { params: published.gemma_2b, width: 2048 },
  gemma_7b: { params: published.gemma_7b, width: 3072 },
  gemma_7b_it: { params: published.gemma_7b, width: 3072 },
};

/** `linear_proj` and `mlp2x_gelu` between two widths, from the §3.3 table. */
export function connectorFromTable(preset: "linear_proj" | "mlp2x_gelu", visionWidth: number, languageWidth: number): number {
  const table = preset === "linear_proj" ? linearTable : mlp2xTable;
  const n = table[`${visionWidth}>${languageWidth}`];
  if (n === undefined) throw new Error(`no reference count for ${preset} ${visionWidth}>${languageWidth}`);
  return n;
}

// ---- formulas (reference §2.5, §3.1, §3.2), exact in bigint --------------------------------------

type Fields = Readonly<Record<string, unknown>>;
const big = (v: unknown): bigint => {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`expected an integer field, got ${JSON.stringify(v)}`);
  return BigInt(v);
};

/** LLaVA projectors: linear = v·d + d; mlpNx_gelu = (v·d + d) + (N − 1)(d² + d); identity = 0. */
export function connectorFormula(family: string, v: number, d: number, depth = 2): number {
  if (family === "identity") return 0;
  const first = BigInt(v) * BigInt(d) + BigInt(d);
  if (family === "linear") return Number(first);
  if (family === "mlp") return Number(first + BigInt(depth - 1) * (BigInt(d) * BigInt(d) + BigInt(d)));
  throw new Error(`unknown connector family ${family}`);
}

/** Gemma: V·d + L·[d·H·hd + 2·d·KV·hd + H·hd·d + 3·d·I + 2d] + d (tied head counted once). */
export function gemmaFormula(f: Fields): number {
  const d = big(f.width);
  const h = big(f.heads);
  const kv = big(f.kv_heads);
  const hd = big(f.head_dim);
  const i = big(f.mlp);
  const layer = d * h * hd + 2n * d * kv * hd + h * hd * d + 3n * d * i + 2n * d;
  return Number(big(f.vocab) * d + big(f.depth) * layer + d);
}

/** Llama: V·d (embed_tokens) + L·[4 attention projections (d·H·hd, 2·d·KV·hd, H·hd·d) + 3·d·I + 2d] + d + V·d (lm_head, unless tied). */
export function llamaFormula(f: Fields): number {
  const d = big(f.width);
  const h = big(f.heads);
  const kv = big(f.kv_heads);
  const hd = big(f.head_dim);
  const i = big(f.mlp);
  const attention = d * h * hd + d * kv * hd + d * kv * hd + h * hd * d;
  const layer = attention + 3n * d * i + 2n * d;
  const embeddings = big(f.vocab) * d;
  return Number(embeddings + big(f.depth) * layer + d + (f.tied === true ? 0n : embeddings));
}

export function languageFormula(family: string, f: Fields): number {
  if (family === "gemma") return gemmaFormula(f);
  if (family === "llama") return llamaFormula(f);
  throw new Error(`unknown language family ${family}`);
}

/** CLIP vision: 3p²d + d + (n+1)d + 2d + L·[4(d²+d) + (dI+I) + (Id+d) + 4d] + 2d. */
export function clipFormula(f: Fields): number {
  const d = big(f.width);
  const p = big(f.patch);
  const n = (big(f.image) / p) ** 2n;
  const i = big(f.mlp);
  const layer = 4n * (d * d + d) + (d * i + i) + (i * d + d) + 4n * d;
  return Number(3n * p * p * d + d + (n + 1n) * d + 2n * d + big(f.depth) * layer + 2n * d);
}

/** DINOv2: (3p²d + d) + d (cls) + d (mask) + (n+1)d + L·[4d + 4(d²+d) + 2d + FFN] + 2d, n from position_image. */
export function dinov2Formula(f: Fields): number {
  const d = big(f.width);
  const p = big(f.patch);
  const n = (big(f.position_image) / p) ** 2n;
  const h = big(f.mlp);
  const ffn = f.ffn === "swiglu" ? d * 2n * h + 2n * h + (h * d + d) : d * h + h + (h * d + d);
  const mask = f.mask_token === false ? 0n : d;
  const layer = 4n * d + 4n * (d * d + d) + 2n * d + ffn;
  return Number(3n * p * p * d + d + d + mask + (n + 1n) * d + big(f.depth) * layer + 2n * d);
}

/** SigLIP vision: (3p²d + d) + n·d + L·[4d + 4(d²+d) + (dI+I) + (Id+d)] + 2d + head. */
export function siglipFormula(f: Fields): number {
  const d = big(f.width);
  const p = big(f.patch);
  const n = (big(f.image) / p) ** 2n;
  const i = big(f.mlp);
  const layer = 4n * d + 4n * (d * d + d) + (d * i + i) + (i * d + d);
  const head = f.head === false ? 0n : d + (3n * d * d + 3n * d) + (d * d + d) + 2n * d + (d * i + i) + (i * d + d);
  return Number(3n * p * p * d + d + n * d + big(f.depth) * layer + 2n * d + head);
}

export function visionFormula(family: string, f: Fields): number {
  switch (family) {
    case "clip_vit":
      return clipFormula(f);
    case "dinov2":
      return dinov2Formula(f);
    case "siglip":
      return siglipFormula(f);
    default:
      throw new Error(`unknown vision family ${family}`);
  }
}

/** The architectures of reference §3 as fields, to check the formulas above against the published counts. */
export const referenceArchitectures = {
  gemma_2b: { vocab: 256000, width: 2048, depth: 18, heads: 8, kv_heads: 1, head_dim: 256, mlp: 16384 },
  gemma_7b: { vocab: 256000, width: 3072, depth: 28, heads: 16, kv_heads: 16, head_dim: 256, mlp: 24576 },
  vicuna_7b_v1_5: { vocab: 32000, width: 4096, depth: 32, heads: 32, kv_heads: 32, head_dim: 128, mlp: 11008 },
  vicuna_13b_v1_5: { vocab: 32000, width: 5120, depth: 40, heads: 40, kv_heads: 40, head_dim: 128, mlp: 13824 },
  clip_vit_l14_336: { image: 336, patch: 14, width: 1024, depth: 24, mlp: 4096 },
  dinov2_vit_l14: { position_image: 518, patch: 14, width: 1024, depth: 24, mlp: 4096, ffn: "mlp" },
  dinov2_vit_g14: { position_image: 518, patch: 14, width: 1536, depth: 40, mlp: 4096, ffn: "swiglu" },
  siglip_so400m_p14_384: { image: 384, patch: 14, width: 1152, depth: 27, mlp: 4304 },
} as const;

export type Component = "vision" | "connector" | "language";

/** Trainable parameters of a stage: the sum over its `train` components (LANGUAGE.md §9). */
export function trainable(train: readonly Component[], params: Readonly<Record<Component, number>>): number {
  return train.reduce((sum, c) => sum + params[c], 0);
}
