/**
 * Sampling the next token from logits, in the order transformers' `generate(do_sample=True)` applies
 * its logits warpers (`_get_logits_warper`): temperature (scores / t), then top-k (transformers'
 * default `top_k = 50`, which LLaVA's eval scripts leave in place since they do not pass `top_k`),
 * then top-p (nucleus), then softmax and one draw. The draw uses the row's own seeded stream, so the
 * same seed gives the same answers, whatever the batch and however often a run is resumed.
 *
 * Computed on the CPU in float64 over one row of logits at a time ([V]).
 */

export interface SamplingOptions {
  /** > 0; the scores are divided by it (transformers skips the division at exactly 1) */
  readonly temperature: number;
  /** keep only the `topK` highest scores (ties with the k-th kept); 0 keeps all. Default 50, as transformers */
  readonly topK?: number;
  /** keep the most likely tokens whose probabilities sum to at least `topP`; null or 1 keeps all */
  readonly topP?: number | null;
  /** a uniform number in [0, 1) from row `row`'s stream */
  readonly random: (row: number) => number;
}

/** transformers' `GenerationConfig.top_k` default. */
export const TRANSFORMERS_TOP_K = 50;

/** TopKLogitsWarper: scores below the k-th largest become -Infinity. */
function topK(scores: Float64Array, k: number): void {
  if (k <= 0 || k >= scores.length) return;
  const kth = Float64Array.from(scores).sort().reverse()[k - 1];
  for (let i = 0; i < scores.length; i++) if (scores[i] < kth) scores[i] = -Infinity;
}

/**
 * TopPLogitsWarper: sort ascending, softmax, cumulative sum; tokens whose cumulative probability is
 * at most 1 - p are removed, the most likely token always stays (min_tokens_to_keep = 1).
 */
function topP(scores: Float64Array, p: number): void {
  if (p >= 1) return;
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b); // ascending
  const probs = softmax(Float64Array.from(order, (i) => scores[i]));
  let cumulative = 0;
  for (let j = 0; j < order.length - 1; j++) {
    cumulative += probs[j];
    if (cumulative <= 1 - p) scores[order[j]] = -Infinity;
  }
}

function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = scores[i] === -Infinity ? 0 : Math.exp(scores[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** The probabilities one row is sampled from (after every warper). */
export function samplingDistribution(logits: ArrayLike<number>, options: Omit<SamplingOptions, "random">): Float64Array {
  if (!(options.temperature > 0)) throw new Error(`sampling needs a temperature above 0, got ${options.temperature}`);
  const scores = Float64Array.from(logits);
  if (options.temperature !== 1) for (let i = 0; i < scores.length; i++) scores[i] /= options.temperature;
  topK(scores, options.topK ?? TRANSFORMERS_TOP_K);
  if (options.topP !== null && options.topP !== undefined) topP(scores, options.topP);
  return softmax(scores);
}

/** One token per row of `logits` ([B, V], row-major). */
export function sampleTokens(logits: ArrayLike<number>, rows: number, options: SamplingOptions): number[] {
  const vocab = logits.length / rows;
  const out: number[] = [];
  for (let b = 0; b < rows; b++) {
    const row = new Float64Array(vocab);
    for (let i = 0; i < vocab; i++) row[i] = logits[b * vocab + i];
    const probs = samplingDistribution(row, options);
    const u = options.random(b);
    let cumulative = 0;
    let chosen = -1;
    for (let i = 0; i < vocab; i++) {
      if (probs[i] === 0) continue;
      chosen = i;
      cumulative += probs[i];
      if (u < cumulative) break;
    }
    out.push(chosen);
  }
  return out;
}
