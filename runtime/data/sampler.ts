/**
 * Deterministic batch order: a seeded shuffle per epoch, optionally grouped by modality as LLaVA's
 * `LengthGroupedSampler` with `group_by_modality_length` does (batches of only image samples or only
 * text samples; the two leftover partial batches are merged into mixed batches at the end of the
 * epoch). LLaVA also sorts each megabatch by length; with one process a megabatch is one batch, whose
 * order does not change the step, so that sort is left out.
 *
 * The order is a pure function of (seed, epoch), so training resumes from `{ epoch, batch }` by
 * recomputing the epoch's order and skipping to the batch.
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
  /** group by modality: whether sample i has an image */
  readonly hasImage?: (i: number) => boolean;
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

function chunk(indices: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += size) out.push(indices.slice(i, i + size));
  return out;
}

export class BatchSampler {
  private readonly options: SamplerOptions;
  private readonly image: Uint8Array | undefined;
  private cachedEpoch = -1;
  private cached: number[][] = [];

  constructor(options: SamplerOptions) {
    if (!Number.isInteger(options.size) || options.size < 0) throw new RangeError(`sampler size must be a non-negative integer, got ${options.size}`);
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    this.options = options;
    if (options.hasImage) {
      this.image = new Uint8Array(options.size);
      for (let i = 0; i < options.size; i++) this.image[i] = options.hasImage(i) ? 1 : 0;
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
    const all = Array.from({ length: size }, (_, i) => i);
    let batches: number[][];
    const image = this.image;
    const mixedModality = image !== undefined && image.some((v) => v === 1) && image.some((v) => v === 0);
    if (!mixedModality || !image) {
      batches = chunk(shuffle ? rng.shuffle(all) : all, batchSize);
    } else {
      const mm = all.filter((i) => image[i] === 1);
      const text = all.filter((i) => image[i] === 0);
      if (shuffle) {
        rng.shuffle(mm);
        rng.shuffle(text);
      }
      const mmBatches = chunk(mm, batchSize);
      const textBatches = chunk(text, batchSize);
      const leftovers: number[] = [];
      if (mmBatches.length && mmBatches[mmBatches.length - 1].length < batchSize) leftovers.push(...(mmBatches.pop() as number[]));
      if (textBatches.length && textBatches[textBatches.length - 1].length < batchSize) leftovers.push(...(textBatches.pop() as number[]));
      const full = [...mmBatches, ...textBatches];
      if (shuffle) rng.shuffle(full);
      batches = [...full, ...chunk(leftovers, batchSize)];
    }
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
