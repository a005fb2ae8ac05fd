// The scorers against test vectors whose expected scores were computed independently, in Python,
// from the rules of evals.md (test/benchmarks/vectors/make_vectors.py). Every number must agree exactly:
// the scorers keep the official scripts' operation order, so the doubles agree bit for bit.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { benchmarkNames, score } from "../../runtime/benchmarks/index.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "vectors");
const read = (name: string): any => JSON.parse(readFileSync(join(dir, name), "utf8"));

describe("test vectors", () => {
  for (const benchmark of benchmarkNames) {
    it(`${benchmark} matches the independently computed scores`, () => {
      const items = read(`${benchmark}.items.json`);
      const expected = read(`${benchmark}.expected.json`);
      expect(items.benchmark).toBe(benchmark);
      const actual = JSON.parse(JSON.stringify(score(benchmark, items.items)));
      expect(actual).toEqual(expected.expected);
    });
  }

  it("vqav2 reproduces the Python 2 rounding tie 17/32 = 53.125 -> 53.13", () => {
    const items = read("vqav2.items.json").items;
    const scores = score("vqav2", items);
    expect(scores.official.accuracy_unrounded.perAnswerType.tie).toBe(53.125);
    expect(scores.official.accuracy.perAnswerType.tie).toBe(53.13);
  });
});
