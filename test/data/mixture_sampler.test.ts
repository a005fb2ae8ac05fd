/**
 * Issue 12's data knobs: LLaVA's modality-length grouping against cases worked out by hand from
 * llava/train/llava_trainer.py, and mixtures of datasets (ratios over an epoch, the same on rerun).
 */
import { describe, expect, it } from "vitest";
import { Mixture, mixtureCounts } from "../../runtime/data/mixture.js";
import { pythonWordCount } from "../../runtime/data/llava_json.js";
import { BatchSampler, lengthGroupedIndices, modalityLengthGroupedIndices, splitToEvenChunks } from "../../runtime/data/sampler.js";

const identity = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const reversed = (n: number): number[] => identity(n).reverse();

describe("LLaVA's modality-length grouping, by hand", () => {
  // samples 0..8: image samples have positive lengths, text-only ones negative (LLaVA's modality_lengths)
  const lengths = [5, -3, 2, -7, 9, -1, 4, -2, 6];

  it("split_to_even_chunks deals longest first to the lighter chunk, and strides when the count does not divide", () => {
    // lengths 9, 5, 4, 2 (indices 2, 0, 3, 1): 9 -> A; 5 -> B; 4 -> B (5 < 9), now full; 2 -> A
    expect(splitToEvenChunks([2, 0, 3, 1], [5, 2, 9, 4], 2)).toEqual([
      [2, 1],
      [0, 3],
    ]);
    expect(splitToEvenChunks([4, 1, 0], [1, 1, 1, 1, 1], 2)).toEqual([[4, 0], [1]]);
    expect(splitToEvenChunks([4], [1, 1, 1, 1, 1], 2)).toEqual([[4], []]);
  });

  it("get_length_grouped_indices: megabatches of the permutation, sorted longest first, split evenly", () => {
    // image lengths [5, 2, 9, 4, 6]: megabatch [0, 1, 2, 3] sorts to [2, 0, 3, 1] and splits to [2, 1], [0, 3]; then [4]
    expect(lengthGroupedIndices([5, 2, 9, 4, 6], 2, 2, identity)).toEqual([2, 1, 0, 3, 4]);
    // reversed: [4, 3, 2, 1] sorts to [2, 4, 3, 1] (9, 6, 4, 2), splits to [2, 1], [4, 3]; then [0]
    expect(lengthGroupedIndices([5, 2, 9, 4, 6], 2, 2, reversed)).toEqual([2, 1, 4, 3, 0]);
  });

  it("get_modality_length_grouped_indices with the identity permutation", () => {
    // image samples [0, 2, 4, 6, 8] -> [4, 2, 0, 6, 8]; text [1, 3, 5, 7] (3, 7, 1, 2 words) -> [3, 5, 1, 7];
    // megabatches of 4: image [4, 2, 0, 6], [8]; text [3, 5, 1, 7]. The last of each, [8] and [3, 5, 1, 7],
    // become one final batch sorted by index; the one full image megabatch comes first
    expect(modalityLengthGroupedIndices(lengths, 2, 2, identity)).toEqual([4, 2, 0, 6, 1, 3, 5, 7, 8]);
  });

  it("get_modality_length_grouped_indices with a reversing permutation", () => {
    // image: [4, 2, 8, 6], [0]; text as before [3, 5, 1, 7]; final batch sorted: [0, 1, 3, 5, 7]
    expect(modalityLengthGroupedIndices(lengths, 2, 2, reversed)).toEqual([4, 2, 8, 6, 0, 1, 3, 5, 7]);
  });

  it("shuffles the full megabatches of both modalities together with the third permutation", () => {
    // 8 image samples and 8 text ones in megabatches of 2: 3 full each, the last of each merged
    const mixed = [...identity(8).map((i) => i + 1), ...identity(8).map((i) => -(i + 1))];
    const calls: number[] = [];
    const order = modalityLengthGroupedIndices(mixed, 1, 2, (n) => {
      calls.push(n);
      return reversed(n);
    });
    expect(calls).toEqual([8, 8, 6]);
    // image: reversed [7..0] in megabatches [7, 6], [5, 4], [3, 2], [1, 0] (each sorted: already longest first);
    // text: reversed [15..8], sorted by words (index 15 has 8 words): [15, 14], [13, 12], [11, 10], [9, 8];
    // full megabatches image 3 + text 3, reversed by the third permutation; then [1, 0] + [9, 8] sorted
    expect(order).toEqual([11, 10, 13, 12, 15, 14, 3, 2, 5, 4, 7, 6, 0, 1, 8, 9]);
  });

  it("falls back to plain length grouping when every sample has the same modality", () => {
    expect(modalityLengthGroupedIndices([3, 1, 2, 5], 2, 1, identity)).toEqual([0, 1, 3, 2]);
    expect(modalityLengthGroupedIndices([3, 1, 2, 5], 2, 2, identity)).toEqual([3, 1, 0, 2]);
    expect(() => modalityLengthGroupedIndices([3, 0], 1, 1, identity)).toThrow(/non-zero/);
  });

  it("counts words as Python's str.split() does", () => {
    expect(pythonWordCount("<image>\nWhat is  this?\t")).toBe(4);
    expect(pythonWordCount("  ")).toBe(0);
    expect(pythonWordCount("a\u001cb\u0085c\u00a0d\u3000e")).toBe(5);
    expect(pythonWordCount("a\ufeffb")).toBe(1); // not whitespace to Python
  });
});

describe("mixtures of datasets", () => {
  it("gives each dataset its share of the concatenation's length, by largest remainder", () => {
    expect(mixtureCounts(400, [3, 1])).toEqual([300, 100]);
    expect(mixtureCounts(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(mixtureCounts(7, [0.5, 0.25, 0.25])).toEqual([3, 2, 2]);
    // weights in proportion to the sizes are the concatenation
    expect(new Mixture([30, 10], [3, 1]).counts).toEqual([30, 10]);
  });

  it("a 3:1 mixture yields 3:1 over every epoch, the same on a rerun, with the concatenation's steps", () => {
    // 120 + 280 samples: the concatenation's 400 samples per epoch, 300 from the first, 100 from the second
    const make = () => {
      const mixture = new Mixture([120, 280], [3, 1]);
      const sampler = new BatchSampler({ size: mixture.length, batchSize: 8, seed: 11, epochSamples: (e) => mixture.epochSamples(11, e)! });
      return { mixture, sampler };
    };
    const { mixture, sampler } = make();
    expect(mixture.length).toBe(400);
    expect(sampler.batchesPerEpoch).toBe(50);
    for (const epoch of [0, 1, 2]) {
      const ids = sampler.epoch(epoch).flat();
      const first = ids.filter((id) => mixture.locate(id).part === 0);
      const second = ids.filter((id) => mixture.locate(id).part === 1);
      expect([first.length, second.length]).toEqual([300, 100]);
      // the small dataset is repeated: every sample twice, 60 of them three times
      const times = new Map<number, number>();
      for (const id of first) times.set(id, (times.get(id) ?? 0) + 1);
      expect(times.size).toBe(120);
      expect([...times.values()].filter((t) => t === 3).length).toBe(60);
      // the large one is subsampled without repeats
      expect(new Set(second).size).toBe(100);
      // interleaved: both datasets appear in the first tenth of the epoch
      const head = ids.slice(0, 40).map((id) => mixture.locate(id).part);
      expect(head).toContain(0);
      expect(head).toContain(1);
    }
    const again = make().sampler;
    for (const epoch of [0, 1, 2]) expect(again.epoch(epoch)).toEqual(sampler.epoch(epoch));
    // a fresh draw each epoch
    expect(sampler.epoch(1).flat().filter((id) => id >= 120).sort()).not.toEqual(sampler.epoch(0).flat().filter((id) => id >= 120).sort());
  });

  it("numbers the datasets one after the other, and refuses what cannot be drawn", () => {
    const m = new Mixture([2, 0, 3]);
    expect(m.length).toBe(5);
    expect(m.counts).toBeUndefined();
    expect(m.epochSamples(1, 0)).toBeUndefined();
    expect([0, 1, 2, 3, 4].map((id) => m.locate(id))).toEqual([
      { part: 0, index: 0 },
      { part: 0, index: 1 },
      { part: 2, index: 0 },
      { part: 2, index: 1 },
      { part: 2, index: 2 },
    ]);
    expect(() => m.locate(5)).toThrow(/out of range/);
    expect(() => new Mixture([2, 0], [1, 1])).toThrow(/dataset 2 of the mixture has no samples/);
    expect(() => new Mixture([2, 3], [1])).toThrow(/1 weights for 2 datasets/);
  });
});
