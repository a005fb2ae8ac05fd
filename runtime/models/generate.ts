/**
 * Greedy decoding (or sampling, runtime/models/sampling.ts) with a key/value cache, for Gemma, Llama
 * and LLaVA models.
 *
 * The prompt (with its image features merged, for LLaVA) runs once (prefill); then one token per
 * step runs against the cached keys and values. Positions follow transformers' generate:
 * cumsum(attention_mask) - 1 over the prompt (1 at padding), then one more per new token. The result
 * equals re-running the whole sequence without a cache at every step (tested).
 */
import { tf } from "../tf.js";
import { ParamView, dims } from "./common.js";
import { runDecoder, embedTokens, lmLogits, type KvCache } from "./decoder.js";
import { Model, type PretrainedModel } from "./model.js";
import { sampleTokens, type SamplingOptions } from "./sampling.js";

export interface GenerateOptions {
  /** int32 [B, T] prompt ids (left-pad a batch of prompts of different lengths). */
  inputIds: tf.Tensor;
  /** [B, T]; all ones when absent. */
  attentionMask?: tf.Tensor;
  /** [images, C, H, W] for LLaVA. */
  pixelValues?: tf.Tensor;
  maxNewTokens: number;
  /** A row stops after producing one of these (the stop token is included in its output). */
  stopTokenIds?: readonly number[];
  /** Fed to rows that have stopped, while others go on (default: the language model's pad token id, or 0). */
  padTokenId?: number;
  /** sample instead of the greedy choice (temperature > 0) */
  sample?: SamplingOptions;
}

interface State {
  cache: KvCache;
  mask: tf.Tensor; // [B, S] int32
  nextPosition: tf.Tensor; // [B, 1] int32: position of the next token
  next: tf.Tensor; // [B] int32: greedy choice
  logits?: tf.Tensor; // [B, V]: kept when sampling
}

function disposeState(s: State): void {
  tf.dispose([...s.cache.keys, ...s.cache.values, s.mask, s.nextPosition, s.next, ...(s.logits ? [s.logits] : [])]);
}

/** Greedy decoding, or sampling with `opts.sample`. Returns, per row, the new token ids (not the prompt). */
export async function generate(model: PretrainedModel, opts: GenerateOptions): Promise<number[][]> {
  const decoder = model instanceof Model ? model.family.decoder : undefined;
  if (!decoder) throw new Error(`generate needs a gemma, llama or llava model, got ${model.modelType}`);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) {
    throw new Error(`maxNewTokens must be a non-negative integer, got ${opts.maxNewTokens}`);
  }
  const g = decoder.language;
  const view = new ParamView(model.parameters);
  const lm = decoder.prefix ? view.scope(decoder.prefix) : view;
  const [B] = dims(opts.inputIds);
  const stops = new Set(opts.stopTokenIds ?? []);
  const pad = opts.padTokenId ?? g.padTokenId ?? 0;
  const out: number[][] = Array.from({ length: B }, () => []);
  if (opts.maxNewTokens === 0) return out;

  let state = tf.tidy((): tf.TensorContainer => {
    const d = decoder.sequence(view, { inputIds: opts.inputIds, attentionMask: opts.attentionMask, pixelValues: opts.pixelValues });
    const [, L] = dims(d.embeds);
    const mask = tf.cast(d.attentionMask ?? tf.ones([B, L], "int32"), "int32"); // [B, L]
    const running = tf.sub(tf.cumsum(mask, 1), 1); // [B, L]
    const positions = tf.where(tf.equal(mask, 0), tf.onesLike(running), running); // [B, L]
    const o = runDecoder(lm, g, d.embeds, { positions, attentionMask: mask });
    const last = tf.slice(o.hidden, [0, L - 1, 0], [B, 1, g.width]); // [B, 1, D]
    const logits = tf.reshape(lmLogits(lm, g, last), [B, g.vocab]); // [B, V]
    const next = tf.cast(tf.argMax(logits, -1), "int32"); // [B]
    return { cache: { ...o.cache }, mask, nextPosition: tf.sum(mask, 1, true), next, ...(opts.sample ? { logits } : {}) };
  }) as unknown as State;

  const done = new Array<boolean>(B).fill(false);
  try {
    for (let step = 0; ; step++) {
      const chosen = opts.sample && state.logits ? sampleTokens(await state.logits.data(), B, opts.sample) : Array.from(await state.next.data());
      const feed = chosen.map((t, b) => {
        if (done[b]) return pad;
        out[b].push(t);
        if (stops.has(t)) done[b] = true;
        return t;
      });
      if (step + 1 >= opts.maxNewTokens || done.every(Boolean)) break;
      const previous = state;
      state = tf.tidy((): tf.TensorContainer => {
        const ids = tf.tensor2d(feed, [B, 1], "int32");
        const mask = tf.concat([previous.mask, tf.ones([B, 1], "int32")], 1); // [B, S+1]
        const o = runDecoder(lm, g, embedTokens(lm, g, ids), {
          positions: previous.nextPosition,
          attentionMask: mask,
          cache: previous.cache,
        });
        const logits = tf.reshape(lmLogits(lm, g, o.hidden), [B, g.vocab]); // [B, V]
        const next = tf.cast(tf.argMax(logits, -1), "int32"); // [B]
        return { cache: { ...o.cache }, mask, nextPosition: tf.add(previous.nextPosition, 1), next, ...(opts.sample ? { logits } : {}) };
      }) as unknown as State;
      disposeState(previous);
    }
  } finally {
    disposeState(state);
  }
  return out;
}
