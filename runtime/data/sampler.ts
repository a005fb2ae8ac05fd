/**
 * Deterministic batch order: a seeded shuffle per epoch, or, with modality lengths, LLaVA's
 * `LengthGroupedSampler` with `group_by_modality_length` (llava/train/llava_trainer.py), step by step:
 *
 * - image samples (length > 0) and text-only samples (length < 0) are ordered apart: each is shuffled,
 *   cut into megabatches of one global batch, each megabatch sorted by length (longest first) and
 *   dealt into its micro-batches so that their lengths are even (`splitToEvenChunks`);
 * - the full megabatches of both modalities are shuffled together; the last megabatch of each
 *   modality (full or not) is merged into one final batch in index order, which may hold both.
 *
 * On one device LLaVA's `world_size` is the gradient accumulation (batch / micro_batch) and its
 * `batch_size` the micro batch, so a megabatch is one global batch and its chunks are its micro-batches.
 * The lengths are LLaVA's `modality_lengths`: the words of a conversation, negative for text-only
 * samples. Randomness comes from this file's generator, not torch's: the order is LLaVA's in kind,
 * not in the very permutation.
 *
 * The samples of an epoch are 0 .. size-1, or the list `epochSamples` gives (a mixture's draw, with
 * repeats); the order is a pure function of (seed, epoch), so training resumes from `{ epoch, batch }`
 * by recomputing the epoch's order and skipping to the batch.
 */
import { Rng } from "./prng.js";

export interface SamplerOptions {
  /** number of samples */
  readonly size: number;
  readonly batchSize: number;
  readonly seed: number;
  /** shuffle each epoch (default true); false gives 0, 1, 2, ... */
  readonly shuffle?: boolean;
  /** drop a last batch smaller than `batchSize` (default false) */
  readonly dropLast?: boolean;
  /** the samples of an epoch, each an index below `size`, repeats allowed (default: each sample once) */
  readonly epochSamples?: (epoch: number) => readonly number[];
  /**
   * group by modality and length (LLaVA's `group_by_modality_length`): sample i's length, positive
   * with an image and negative without, never 0; `microBatch` divides `batchSize`
   */
  readonly modality?: { readonly lengths: (i: number) => number; readonly microBatch: number };
}

export interface SamplerPosition {
  readonly epoch: number;
  /** index of the next batch within the epoch */
  readonly batch: number;
}

export interface SampledBatch extends SamplerPosition {
  readonly indices: readonly number[];
}

const SHUFFLE_STREAM = 0x5a4d;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A seeded permutation of 0 .. n-1 (LLaVA's `torch.randperm`). */
export type Permutation = (n: number) => number[];

/** Permutations drawn from one generator, in call order. */
export function seededPermutation(rng: Rng): Permutation {
  return (n) => rng.shuffle(Array.from({ length: n }, (_, i) => i));
}

/**
 * LLaVA's `split_to_even_chunks`: the indices (sorted longest first) dealt into `chunks` chunks of
 * equal count, each to the chunk whose lengths sum least so far (a full chunk takes no more); when
 * the count does not divide, chunk k takes every `chunks`-th index from k.
 */
export function splitToEvenChunks(indices: readonly number[], lengths: readonly number[], chunks: number): number[][] {
  if (indices.length % chunks !== 0) return Array.from({ length: chunks }, (_, k) => indices.filter((_, i) => i % chunks === k));
  const perChunk = indices.length / chunks;
  const out: number[][] = Array.from({ length: chunks }, () => []);
  const sums = new Array<number>(chunks).fill(0);
  for (const index of indices) {
    let shortest = 0;
    for (let k = 1; k < chunks; k++) if (sums[k] < sums[shortest]) shortest = k;
    out[shortest].push(index);
    sums[shortest] += lengths[index];
    if (out[shortest].length === perChunk) sums[shortest] = Infinity;
  }
  return out;
}

/**
 * LLaVA's `get_length_grouped_indices`: a permutation cut into megabatches of `batchSize ×
 * worldSize`, each sorted by length (longest first, a stable sort) and split into `worldSize` even chunks.
 */
export function lengthGroupedIndices(lengths: readonly number[], batchSize: number, worldSize: number, permutation: Permutation): number[] {
  const megabatch = worldSize * batchSize;
  const out: number[] = [];
  for (const m of chunk(permutation(lengths.length), megabatch)) {
    const sorted = [...m].sort((a, b) => lengths[b] - lengths[a]);
    for (const c of splitToEvenChunks(sorted, lengths, worldSize)) out.push(...c);
  }
  return out;
}

/**
 * LLaVA's `get_modality_length_grouped_indices`: lengths > 0 are image samples, < 0 text-only ones.
 * Randomness is drawn in LLaVA's order: the image permutation, the text permutation, the megabatches'.
 */
export function modalityLengthGroupedIndices(lengths: readonly number[], batchSize: number, worldSize: number, permutation: Permutation): number[] {
  if (lengths.some((l) => l === 0 || !Number.isFinite(l))) throw new RangeError("modality lengths must be non-zero numbers");
  if (lengths.every((l) => l > 0) || lengths.every((l) => l < 0)) return lengthGroupedIndices(lengths, batchSize, worldSize, permutation);
  const mm = lengths.flatMap((l, i) => (l > 0 ? [i] : []));
  const text = lengths.flatMap((l, i) => (l < 0 ? [i] : []));
  const mmShuffle = lengthGroupedIndices(mm.map((i) => lengths[i]), batchSize, worldSize, permutation).map((k) => mm[k]);
  const textShuffle = lengthGroupedIndices(text.map((i) => -lengths[i]), batchSize, worldSize, permutation).map((k) => text[k]);
  const megabatch = worldSize * batchSize;
  const mmMegabatches = chunk(mmShuffle, megabatch);
  const textMegabatches = chunk(textShuffle, megabatch);
  const additional = [...mmMegabatches[mmMegabatches.length - 1], ...textMegabatches[textMegabatches.length - 1]];
  const full = [...mmMegabatches.slice(0, -1), ...textMegabatches.slice(0, -1)];
  const order = permutation(full.length);
  const megabatches = order.map((k) => full[k]);
  if (additional.length > 0) megabatches.push([...additional].sort((a, b) => a - b));
  return megabatches.flat();
}

export class BatchSampler {
  private readonly options: SamplerOptions;
  private readonly lengths: Float64Array | undefined;
  private cachedEpoch = -1;
  private cached: number[][] = [];

  constructor(options: SamplerOptions) {
    if (!Number.isInteger(options.size) || options.size < 0) throw new RangeError(`sampler size must be a non-negative integer, got ${options.size}`);
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    this.options = options;
    const m = options.modality;
    if (m) {
      if (!Number.isInteger(m.microBatch) || m.microBatch < 1 || options.batchSize % m.microBatch !== 0) {
        throw new RangeError(`the micro batch ${m.microBatch} must divide the batch ${options.batchSize}`);
      }
      this.lengths = new Float64Array(options.size);
      for (let i = 0; i < options.size; i++) this.lengths[i] = m.lengths(i);
    }
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    return this.epoch(0).length;
  }

  /** The batches of an epoch, in order. */
  epoch(epoch: number): readonly (readonly number[])[] {
    if (epoch === this.cachedEpoch) return this.cached;
    const { size, batchSize, seed } = this.options;
    const shuffle = this.options.shuffle ?? true;
    const rng = new Rng(seed, SHUFFLE_STREAM, epoch);
    const samples = this.options.epochSamples?.(epoch) ?? Array.from({ length: size }, (_, i) => i);
    let order: readonly number[];
    const lengths = this.lengths;
    const modality = this.options.modality;
    if (lengths && modality && shuffle) {
      const positions = modalityLengthGroupedIndices(
        samples.map((i) => lengths[i]),
        modality.microBatch,
        batchSize / modality.microBatch,
        seededPermutation(rng),
      );
      order = positions.map((k) => samples[k]);
    } else {
      order = shuffle ? rng.shuffle([...samples]) : samples;
    }
    const batches = chunk(order, batchSize);
    if ((this.options.dropLast ?? false) && batches.length && batches[batches.length - 1].length < batchSize) batches.pop();
    this.cachedEpoch = epoch;
    this.cached = batches;
    return batches;
  }

  /** Batches from `from` onwards, across epochs, for `epochs` epochs in total (default: without end). */
  *iterate(from: SamplerPosition = { epoch: 0, batch: 0 }, epochs = Infinity): Generator<SampledBatch> {
    if (this.batchesPerEpoch === 0) return;
    for (let e = from.epoch; e < epochs; e++) {
      const batches = this.epoch(e);
      for (let b = e === from.epoch ? from.batch : 0; b < batches.length; b++) {
        yield { epoch: e, batch: b, indices: batches[b] };
      }
    }
  }

  /** The position after `steps` batches from the start (for resuming from a step count). */
  positionAfter(steps: number): SamplerPosition {
    const per = this.batchesPerEpoch;
    if (per === 0) return { epoch: 0, batch: 0 };
    return { epoch: Math.floor(steps / per), batch: steps % per };
  }
}
