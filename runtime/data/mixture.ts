/**
 * Several datasets trained on as one (a stage's `data = [a, b]`). Their samples are numbered one after
 * the other: sample j of dataset k is `offset(k) + j`. Without weights the stage trains on that
 * concatenation, as LLaVA trains on one data file holding both. With weights (`mixture = [3, 1]`)
 * an epoch keeps the concatenation's length N = Σ sizes and takes round(N · w_k / Σ w) samples of
 * dataset k (largest remainders, ties to the earlier dataset, so the counts sum to N): whole passes
 * over the dataset, then a seeded draw without repeats of the rest. A draw depends only on (seed,
 * epoch, dataset), so an epoch's samples are the same on every run; the sampler then interleaves them.
 * Weights in proportion to the sizes give the concatenation itself.
 */
import { Rng } from "./prng.js";

const MIXTURE_STREAM = 0x4d49;

export interface MixturePart {
  /** the dataset this part of the numbering belongs to */
  readonly part: number;
  /** the sample's index in that dataset */
  readonly index: number;
}

export class Mixture {
  private readonly offsets: number[];
  /** samples of each dataset in one epoch; undefined for the plain concatenation */
  readonly counts: readonly number[] | undefined;
  /** samples in one epoch: the sum of the sizes */
  readonly length: number;

  constructor(
    readonly sizes: readonly number[],
    readonly weights: readonly number[] | null = null,
  ) {
    if (sizes.length === 0) throw new RangeError("a mixture needs at least one dataset");
    for (const s of sizes) if (!Number.isInteger(s) || s < 0) throw new RangeError(`dataset sizes must be non-negative integers, got ${s}`);
    this.offsets = [];
    let total = 0;
    for (const s of sizes) {
      this.offsets.push(total);
      total += s;
    }
    this.length = total;
    if (weights === null) {
      this.counts = undefined;
      return;
    }
    if (weights.length !== sizes.length) throw new RangeError(`${weights.length} weights for ${sizes.length} datasets`);
    for (const w of weights) if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`mixture weights must be positive numbers, got ${w}`);
    this.counts = mixtureCounts(total, weights);
    this.counts.forEach((n, k) => {
      if (n > 0 && sizes[k] === 0) throw new RangeError(`dataset ${k + 1} of the mixture has no samples but a weight of ${weights[k]}`);
    });
  }

  /** The dataset and index of sample `id` of the numbering. */
  locate(id: number): MixturePart {
    if (!Number.isInteger(id) || id < 0 || id >= this.length) throw new RangeError(`sample ${id} is out of range: the datasets have ${this.length} samples`);
    let part = this.sizes.length - 1;
    while (this.offsets[part] > id || this.sizes[part] === 0) part--;
    return { part, index: id - this.offsets[part] };
  }

  /** The samples of an epoch (ids of the numbering, grouped by dataset), or undefined: every sample once. */
  epochSamples(seed: number, epoch: number): number[] | undefined {
    if (!this.counts) return undefined;
    const out: number[] = [];
    this.counts.forEach((n, k) => {
      const size = this.sizes[k];
      const offset = this.offsets[k];
      for (let pass = 0; pass < Math.floor(n / size); pass++) for (let j = 0; j < size; j++) out.push(offset + j);
      const rest = n % size;
      if (rest > 0) {
        const drawn = new Rng(seed, MIXTURE_STREAM, epoch, k).shuffle(Array.from({ length: size }, (_, j) => j));
        for (let j = 0; j < rest; j++) out.push(offset + drawn[j]);
      }
    });
    return out;
  }
}

/**
 * How many of `total` samples each weight gets: floor(total · w / Σ w), then one more for the largest
 * remainders (ties to the earlier weight) until the counts sum to `total`.
 */
export function mixtureCounts(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, k) => ({ k, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.k - b.k);
  for (const { k } of byRemainder) {
    if (left <= 0) break;
    counts[k]++;
    left--;
  }
  return counts;
}
