/**
 * The GPU check's search for the largest decoder that trains (bench/gpu/limit.ts), on simulated
 * trials: it runs once on a device, with no chance to debug it there.
 */
import { describe, expect, it } from "vitest";
import type { DecoderConfig } from "../../bench/runtime/decoder.js";
import { largestTensorBytes, limitLadder, parameterCount } from "../../bench/gpu/configs.js";
import { findLimit, nameLimit, type Trial } from "../../bench/gpu/limit.js";

const GiB = 2 ** 30;
const H100 = { maxBufferSize: 2 ** 40, maxStorageBufferBindingSize: 4 * GiB - 4 };

/** A card that trains up to `maxParams` parameters and reports running out of memory above. */
function card(maxParams: number) {
  const tried: DecoderConfig[] = [];
  const trial = (c: DecoderConfig): Trial => {
    tried.push(c);
    const params = parameterCount(c);
    const base = { config: c, params, largestTensorBytes: largestTensorBytes(c), seconds: 1 };
    return params <= maxParams ? { ...base, ok: true, stepMs: 100, loss: 10 } : { ...base, ok: false, error: "out-of-memory: Out of memory creating buffer" };
  };
  return { trial, tried };
}

const quiet = { script: "", software: false, trialTimeoutS: 90, log: () => {} };

describe("findLimit", () => {
  it("climbs the ladder to the first size that fails, then bisects its layer count", () => {
    const { trial, tried } = card(3.5e9); // between the 1.48B and 4.34B rungs
    const r = findLimit({ ...quiet, ladder: limitLadder("full"), limits: H100, refine: 2, remainingS: () => 1000, trial });
    expect(tried.map((c) => [c.layers, c.width])).toEqual([[24, 2048], [32, 3072], [16, 3072], [24, 3072]]);
    expect(r.largestOk?.config).toMatchObject({ layers: 24, width: 3072 });
    expect(r.largestOk!.params).toBeLessThan(3.5e9);
    expect(r.firstFailure?.config).toMatchObject({ layers: 32, width: 3072 });
    expect(r.limit).toMatch(/^GPU memory: out of memory at 4\.34B parameters/);
    expect(r).toMatchObject({ batch: 1, seq: 512 });
  });

  it("stops when the check's time runs short, and says the limit was not reached", () => {
    let left = 250;
    const { trial, tried } = card(1e12);
    const r = findLimit({ ...quiet, ladder: limitLadder("full"), limits: H100, refine: 2, remainingS: () => (left -= 60), trial });
    expect(tried.length).toBe(2); // 190 s and 130 s left: tried; 70 s: not
    expect(r.firstFailure).toBeNull();
    expect(r.limit).toBe("not reached: the check ran out of time before a size failed");
  });

  it("says when every size fits", () => {
    const r = findLimit({ ...quiet, ladder: limitLadder("small"), limits: H100, refine: 0, remainingS: () => 1000, trial: card(1e12).trial });
    expect(r.trials.length).toBe(2);
    expect(r.limit).toBe(`not reached: every size tried trains (largest ${(parameterCount(limitLadder("small")[1]) / 1e6).toFixed(2)}M parameters)`);
  });
});

describe("nameLimit", () => {
  const failing = (c: DecoderConfig, error: string, timedOut = false): Trial => ({ config: c, params: parameterCount(c), largestTensorBytes: largestTensorBytes(c), ok: false, error, timedOut, seconds: 1 });
  const big = limitLadder("full")[3]; // 14.87B parameters; its largest tensor is the embedding

  it("names the binding or buffer limit when the largest tensor exceeds it", () => {
    const bytes = largestTensorBytes(big);
    expect(nameLimit(failing(big, "validation: binding size too large"), null, { maxBufferSize: 2 ** 40, maxStorageBufferBindingSize: bytes - 4 })).toMatch(/^maxStorageBufferBindingSize \(/);
    expect(nameLimit(failing(big, "validation: buffer size too large"), null, { maxBufferSize: bytes - 4, maxStorageBufferBindingSize: bytes - 4 })).toMatch(/^maxBufferSize \(/);
  });

  it("names memory, time, or quotes the error otherwise", () => {
    expect(nameLimit(failing(big, "out-of-memory: Out of memory"), null, H100)).toMatch(/^GPU memory/);
    expect(nameLimit(failing(big, "no result within 90 s", true), null, H100)).toMatch(/^time: the step of 14\.87B parameters/);
    expect(nameLimit(failing(big, "the loss is NaN"), null, H100)).toBe("error at 14.87B parameters: the loss is NaN");
  });
});
