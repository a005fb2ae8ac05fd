/** Sampling as transformers' generate(do_sample=True): temperature, then top-k, then top-p, then one draw per row. */
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../runtime/data/index.js";
import { generate, loadPretrained, sampleTokens, samplingDistribution } from "../../runtime/models/index.js";
import { tf } from "../../runtime/tf.js";
import { fixture, readIo, toTensor } from "./helpers.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const softmax = (xs: number[]) => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

describe("the sampling distribution", () => {
  it("divides the logits by the temperature before the softmax", () => {
    const logits = [2, 1, 0, -1];
    const p = samplingDistribution(logits, { temperature: 2, topK: 0 });
    softmax(logits.map((x) => x / 2)).forEach((q, i) => expect(p[i]).toBeCloseTo(q, 14));
  });

  it("keeps the 50 highest scores by default (transformers' top_k), ties with the 50th included", () => {
    const logits = Array.from({ length: 60 }, (_, i) => i); // 10..59 are the top 50
    logits[3] = 10; // ties with the 50th highest
    const p = samplingDistribution(logits, { temperature: 1 });
    expect(p.slice(0, 10).filter((x) => x > 0)).toHaveLength(1);
    expect(p[3]).toBeGreaterThan(0);
    expect(p.slice(10).every((x) => x > 0)).toBe(true);
  });

  it("applies top-p after the temperature: drops tokens while the ascending cumulative probability stays at or below 1 - p", () => {
    // probabilities 0.1, 0.2, 0.3, 0.4 at temperature 1
    const logits = [0.1, 0.2, 0.3, 0.4].map(Math.log);
    const keep = (p: number, t = 1) => Array.from(samplingDistribution(logits, { temperature: t, topP: p }), (x) => x > 0);
    expect(keep(0.65)).toEqual([false, false, true, true]); // cumulative 0.1, 0.3 <= 0.35; 0.6 > 0.35
    expect(keep(0.85)).toEqual([false, true, true, true]); // 0.1 <= 0.15 goes
    expect(keep(0.95)).toEqual([true, true, true, true]); // 0.1 > 0.05 stays
    expect(keep(0.3)).toEqual([false, false, false, true]); // the most likely always stays
    // at a high temperature the distribution flattens first, so top-p keeps more
    expect(keep(0.65, 100)).toEqual([false, true, true, true]);
    const renormalised = samplingDistribution(logits, { temperature: 1, topP: 0.65 });
    expect(renormalised[2]).toBeCloseTo(3 / 7, 14);
    expect(renormalised[3]).toBeCloseTo(4 / 7, 14);
  });

  it("draws each row from its own stream, in vocabulary order", () => {
    const logits = new Float32Array([...[0.5, 0.25, 0.25].map(Math.log), ...[0.25, 0.25, 0.5].map(Math.log)]);
    const draws = [0.49, 0.9];
    expect(sampleTokens(logits, 2, { temperature: 1, random: (row) => draws[row] })).toEqual([0, 2]);
    expect(sampleTokens(logits, 2, { temperature: 1, random: () => 0.6 })).toEqual([1, 2]);
  });
});

describe("generate with sampling", () => {
  it("is reproducible from the seed, differs across seeds, and leaks no tensors", async () => {
    const model = await loadPretrained(fixture("gemma_tiny"));
    const io = await readIo("gemma_tiny");
    const inputIds = toTensor(io.get("input_ids"));
    const attentionMask = toTensor(io.get("attention_mask"));
    const run = async (seed: number, temperature = 1.5) => {
      const streams = [new Rng(seed, 0), new Rng(seed, 1)];
      return generate(model, { inputIds, attentionMask, maxNewTokens: 8, sample: { temperature, random: (row) => streams[row].next() } });
    };
    const before = tf.memory().numTensors;
    const a = await run(1);
    expect(tf.memory().numTensors).toBe(before);
    expect(await run(1)).toEqual(a);
    const others = [await run(2), await run(3)];
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(a))).toBe(true);
    // a temperature near 0 puts all the mass on the greedy choice
    const greedy = await generate(model, { inputIds, attentionMask, maxNewTokens: 8 });
    expect(await run(5, 1e-4)).toEqual(greedy);
  });
});
