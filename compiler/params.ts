/**
 * Exact parameter counts per component, every parameter as the Hugging Face model loads it (tied
 * embeddings once), and image tokens per image. Formulas and checks: reference/llava-gemma.md §3.
 */

type Fields = Readonly<Record<string, unknown>>;

const n = (v: unknown): bigint => BigInt(v as number);

/** A transformer encoder layer with two layer norms, biased q/k/v/out, and an MLP of fc1/fc2. */
function encoderLayer(d: bigint, mlp: bigint): bigint {
  const norms = 4n * d; // layer_norm1/2 (or norm1/2): weight + bias
  const attention = 4n * (d * d + d); // q, k, v, out projections with bias
  const ffn = d * mlp + mlp + mlp * d + d; // fc1, fc2 with bias
  return norms + attention + ffn;
}

/** CLIPVisionModel: conv patch embedding (no bias), class embedding, positions, pre/post layernorm. */
function clipVit(f: Fields): bigint {
  const d = n(f.width);
  const p = n(f.patch);
  const patches = (n(f.image) / p) ** 2n;
  const embeddings = 3n * p * p * d + d + (patches + 1n) * d;
  return embeddings + 2n * d + n(f.depth) * encoderLayer(d, n(f.mlp)) + 2n * d;
}

/** Dinov2Model: conv patch embedding with bias, class and mask tokens, positions for `position_image`, layer scale, final layernorm. */
function dinov2(f: Fields): bigint {
  const d = n(f.width);
  const p = n(f.patch);
  const positions = (n(f.position_image) / p) ** 2n + 1n;
  const embeddings = 3n * p * p * d + d + d + (f.mask_token ? d : 0n) + positions * d;
  const h = n(f.mlp);
  const ffn = f.ffn === "swiglu" ? d * 2n * h + 2n * h + h * d + d : d * h + h + h * d + d;
  const layer = 4n * d + 4n * (d * d + d) + 2n * d + ffn; // norms, attention, two layer scales, ffn
  return embeddings + n(f.depth) * layer + 2n * d;
}

/** SiglipVisionModel: conv patch embedding with bias, positions (no class token), post layernorm, attention-pool head. */
function siglip(f: Fields): bigint {
  const d = n(f.width);
  const p = n(f.patch);
  const i = n(f.mlp);
  const patches = (n(f.image) / p) ** 2n;
  const embeddings = 3n * p * p * d + d + patches * d;
  const head = f.head ? d + (3n * d * d + 3n * d) + (d * d + d) + 2n * d + (d * i + i) + (i * d + d) : 0n;
  return embeddings + n(f.depth) * encoderLayer(d, i) + 2n * d + head;
}

/** GemmaForCausalLM: V·d + L·[d·H·hd + 2·d·KV·hd + H·hd·d + 3·d·I + 2d] + d, head tied to the embedding. */
function gemma(f: Fields): bigint {
  const d = n(f.width);
  const hd = n(f.head_dim);
  const heads = n(f.heads);
  const kv = n(f.kv_heads);
  const i = n(f.mlp);
  const layer = d * heads * hd + 2n * d * kv * hd + heads * hd * d + 3n * d * i + 2n * d;
  return n(f.vocab) * d + n(f.depth) * layer + d;
}

/**
 * LlamaForCausalLM: Gemma's count (the same modules, no biases), plus its own head V·d unless tied.
 * Vicuna-7B: 32000·4096 + 32·(4·4096² + 3·4096·11008 + 2·4096) + 4096 + 32000·4096 = 6,738,415,616.
 */
function llama(f: Fields): bigint {
  return gemma(f) + (f.tied ? 0n : n(f.vocab) * n(f.width));
}

/** LLaVA projectors: linear = v·d + d; mlpNx_gelu = (v·d + d) + (N−1)(d² + d); identity = 0. */
function connector(family: string, f: Fields): bigint {
  if (family === "identity") return 0n;
  const v = n(f.in);
  const d = n(f.out);
  const first = v * d + d;
  if (family === "linear") return first;
  return first + (n(f.depth) - 1n) * (d * d + d);
}

export function parameterCount(family: string, fields: Fields): number {
  let count: bigint;
  switch (family) {
    case "clip_vit":
      count = clipVit(fields);
      break;
    case "dinov2":
      count = dinov2(fields);
      break;
    case "siglip":
      count = siglip(fields);
      break;
    case "gemma":
      count = gemma(fields);
      break;
    case "llama":
      count = llama(fields);
      break;
    case "identity":
    case "linear":
    case "mlp":
      count = connector(family, fields);
      break;
    default:
      throw new Error(`no parameter count for family ${family}`);
  }
  return Number(count);
}

/**
 * Parameters of the LoRA adapters of a language model at rank r, as LLaVA's `find_all_linear_names`
 * targets them: every linear layer of the decoder (q, k, v, o, gate, up, down projections), not the
 * output head or the embedding. A layer of in -> out features gets A [r, in] and B [out, r]:
 * r · L · [(d + H·hd) + 2(d + KV·hd) + (H·hd + d) + 2(d + I) + (I + d)].
 */
export function loraParameterCount(family: string, fields: Fields, r: number): number {
  switch (family) {
    case "gemma":
    case "llama": {
      const d = n(fields.width);
      const q = n(fields.heads) * n(fields.head_dim);
      const kv = n(fields.kv_heads) * n(fields.head_dim);
      const i = n(fields.mlp);
      const perLayer = d + q + 2n * (d + kv) + (q + d) + 2n * (d + i) + (i + d);
      return Number(BigInt(r) * n(fields.depth) * perLayer);
    }
    default:
      throw new Error(`no LoRA parameter count for family ${family}`);
  }
}

/** Tokens one image becomes in the language model's sequence. */
export function imageTokens(family: string, fields: Fields): number {
  const side = Number(fields.image) / Number(fields.patch);
  const patches = Math.floor(side) ** 2;
  if (family === "siglip") return patches; // no class token: `patch` keeps every patch
  return fields.feature === "cls_patch" ? patches + 1 : patches;
}
