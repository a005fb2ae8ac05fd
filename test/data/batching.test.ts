/** collate (padding, masks, zero images) and the deterministic, resumable samplers. */
import { describe, expect, it } from "vitest";
import { collate } from "../../runtime/data/collate.js";
import { BatchSampler } from "../../runtime/data/sampler.js";

describe("collate", () => {
  const img = (v: number): Float32Array => new Float32Array(3 * 2 * 2).fill(v);

  it("right-pads ids with the pad id and labels with -100, masks by length, zero images for text-only", () => {
    const b = collate(
      [
        { inputIds: [2, 5, 6], labels: [-100, 5, 6], pixelValues: img(0.5) },
        { inputIds: [2, 7], labels: [-100, 7], pixelValues: null },
        { inputIds: [2, 8, 9, 3], labels: [-100, -100, 9, 3], pixelValues: img(-1) },
      ],
      { padId: 3 },
    );
    expect([b.batchSize, b.length, b.imageHeight, b.imageWidth, b.imageCount]).toEqual([3, 4, 2, 2, 2]);
    expect(Array.from(b.inputIds)).toEqual([2, 5, 6, 3, 2, 7, 3, 3, 2, 8, 9, 3]);
    // the last sample's own token 3 (= pad id) stays attended: the mask comes from the lengths
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(b.labels)).toEqual([-100, 5, 6, -100, -100, 7, -100, -100, -100, -100, 9, 3]);
    expect(Array.from(b.hasImage)).toEqual([1, 0, 1]);
    expect(b.pixelValues.length).toBe(3 * 12);
    expect(Array.from(b.pixelValues.subarray(0, 12)).every((v) => v === 0.5)).toBe(true);
    expect(Array.from(b.pixelValues.subarray(12, 24)).every((v) => v === 0)).toBe(true);
    expect(Array.from(b.pixelValues.subarray(24, 36)).every((v) => v === -1)).toBe(true);
    // only the two images, in batch order
    expect(Array.from(b.imagePixelValues)).toEqual([...new Array(12).fill(0.5), ...new Array(12).fill(-1)]);
  });

  it("pads to max_length for static shapes, and reports samples that do not fit", () => {
    const b = collate([{ inputIds: [1, 2], labels: [1, 2], pixelValues: null }], { padId: 0, maxLength: 5, padToMaxLength: true, imageSize: { height: 2, width: 2 } });
    expect(b.length).toBe(5);
    expect(Array.from(b.inputIds)).toEqual([1, 2, 0, 0, 0]);
    expect(b.pixelValues.length).toBe(12);
    expect(() => collate([{ inputIds: [1, 2, 3], labels: [1, 2, 3], pixelValues: null }], { padId: 0, maxLength: 2 })).toThrow(/3 tokens, more than max_length 2/);
    expect(() => collate([{ inputIds: [1], labels: [1], pixelValues: img(1) }, { inputIds: [1], labels: [1], pixelValues: new Float32Array(5) }], { padId: 0 })).toThrow(
      /sample 1 of the batch has 5 pixel values, expected 3x2x2 = 12/,
    );
  });
});

describe("BatchSampler", () => {
  it("shuffles each epoch differently, deterministically, covering every sample once", () => {
    const s = new BatchSampler({ size: 10, batchSize: 3, seed: 1 });
    const e0 = s.epoch(0).map((b) => [...b]);
    const e1 = s.epoch(1).map((b) => [...b]);
    expect(e0.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(e0.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e1.flat()).not.toEqual(e0.flat());
    expect(new BatchSampler({ size: 10, batchSize: 3, seed: 1 }).epoch(0)).toEqual(e0);
    expect(new BatchSampler({ size: 10, batchSize: 3, seed: 2 }).epoch(0)).not.toEqual(e0);
    expect(new BatchSampler({ size: 10, batchSize: 3, seed: 1, dropLast: true }).epoch(0).map((b) => b.length)).toEqual([3, 3, 3]);
    expect(new BatchSampler({ size: 4, batchSize: 2, seed: 1, shuffle: false }).epoch(5)).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it("resumes from a position with the same batches as an uninterrupted run", () => {
    const s = new BatchSampler({ size: 7, batchSize: 2, seed: 3 });
    const straight = [...s.iterate({ epoch: 0, batch: 0 }, 3)];
    expect(straight.length).toBe(12);
    const at = s.positionAfter(5);
    expect(at).toEqual({ epoch: 1, batch: 1 });
    const resumed = [...new BatchSampler({ size: 7, batchSize: 2, seed: 3 }).iterate(at, 3)];
    expect(resumed).toEqual(straight.slice(5));
  });

  it("groups by modality as LLaVA: pure batches shuffled, the last megabatch of each modality merged at the end", () => {
    const hasImage = (i: number): boolean => i % 3 !== 0; // 0,3,6,... are text-only
    const words = (i: number): number => 1 + ((i * 7) % 11);
    const size = 23; // 8 text-only, 15 with an image
    const lengths = (i: number): number => (hasImage(i) ? words(i) : -words(i));
    const s = new BatchSampler({ size, batchSize: 4, seed: 9, modality: { lengths, microBatch: 2 } });
    for (const epoch of [0, 1]) {
      const batches = s.epoch(epoch);
      expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: size }, (_, i) => i));
      // 15 image -> megabatches 4, 4, 4, 3; 8 text -> 4, 4. LLaVA keeps the last of each (3 + 4) for
      // the end: 3 + 1 pure batches shuffled, then the 7 merged in index order as batches of 4 and 3
      expect(batches.map((b) => b.length)).toEqual([4, 4, 4, 4, 4, 3]);
      for (const b of batches.slice(0, 4)) expect(new Set(b.map(hasImage)).size).toBe(1);
      expect(batches.slice(0, 4).filter((b) => !hasImage(b[0])).length).toBe(1);
      const tail = batches.slice(4).flat();
      expect(tail).toEqual([...tail].sort((a, b) => a - b));
      expect(tail.filter((i) => !hasImage(i)).length).toBe(4);
      // a pure batch is sorted longest first, then dealt: its longest sample opens the first micro-batch
      for (const b of batches.slice(0, 4)) expect(words(b[0])).toBe(Math.max(...b.map(words)));
    }
    expect(s.epoch(0)).not.toEqual(s.epoch(1));
    expect(new BatchSampler({ size, batchSize: 4, seed: 9, modality: { lengths, microBatch: 2 } }).epoch(1)).toEqual(s.epoch(1));
    expect(() => new BatchSampler({ size, batchSize: 4, seed: 9, modality: { lengths, microBatch: 3 } })).toThrow(/micro batch 3 must divide the batch 4/);
  });
});
