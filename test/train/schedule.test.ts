import { describe, expect, it } from "vitest";
import { schedule, SCHEDULE_KINDS, warmupSteps } from "../../runtime/train/index.js";
import { torchReference } from "./helpers.js";

const reference = torchReference();

describe("schedules", () => {
  for (const c of reference.schedules) {
    it(`${c.kind}, ${c.total} steps, warmup ratio ${c.ratio}: equals torch's LambdaLR with transformers' multipliers`, () => {
      expect(warmupSteps({ totalSteps: c.total, warmupRatio: c.ratio })).toBe(c.warmup);
      const f = schedule(c.kind, { totalSteps: c.total, warmupRatio: c.ratio });
      // Same float64 arithmetic in the same order; only cos may differ in its last bit (V8 vs libm).
      c.lrs.forEach((lr, step) => expect(Math.abs(c.base_lr * f(step) - lr)).toBeLessThanOrEqual(1e-15 * c.base_lr));
    });
  }

  it("warmup length is ceil(ratio * total) unless explicit steps are given, as get_warmup_steps", () => {
    expect(warmupSteps({ totalSteps: 1000, warmupRatio: 0.03 })).toBe(30);
    expect(warmupSteps({ totalSteps: 101, warmupRatio: 0.03 })).toBe(4); // 3.03 rounds up
    expect(warmupSteps({ totalSteps: 101, warmupRatio: 0.03, warmupSteps: 7 })).toBe(7);
  });

  it("starts at 0 with warmup, reaches 1 after it, and cosine ends at 0", () => {
    const f = schedule("cosine", { totalSteps: 10, warmupRatio: 0.2 });
    expect(f(0)).toBe(0);
    expect(f(1)).toBe(0.5);
    expect(f(2)).toBe(1);
    expect(f(6)).toBeCloseTo(0.5, 12);
    expect(f(10)).toBeCloseTo(0, 12);
    expect(schedule("linear", { totalSteps: 10 })(10)).toBe(0);
    expect(schedule("constant", { totalSteps: 10, warmupRatio: 0.5 })(0)).toBe(1);
  });

  it("rejects bad arguments with the numbers involved", () => {
    expect(() => schedule("cosine", { totalSteps: -1 })).toThrow(/totalSteps must be a non-negative integer, got -1/);
    expect(() => schedule("linear", { totalSteps: 10, warmupRatio: 1.5 })).toThrow(/warmupRatio must be in \[0, 1\], got 1.5/);
    expect(() => schedule("exponential" as never, { totalSteps: 10 })).toThrow(/unknown schedule `exponential`/);
    expect(SCHEDULE_KINDS).toEqual(["constant", "constant_with_warmup", "linear", "cosine"]);
  });
});
