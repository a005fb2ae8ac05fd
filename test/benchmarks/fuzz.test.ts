// Every answer parser against Python on 500 random strings built from the characters the rules
// care about (Unicode whitespace, İ, ſ, astral code points, digits, punctuation): expected values
// computed by Python's own str and re (test/benchmarks/vectors/make_vectors.py, `parsers_fuzz`).

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  evalAIAnswer, gqaConvertPrediction, mmeParse, mmvpGold, mmvpLetter, normalizeVqaAnswer, popeParse, pySplit, pyStrip, scienceQaParse,
} from "../../runtime/benchmarks/index.js";

interface Case {
  text: string;
  vqa: string;
  evalai: string;
  gqa: string;
  pope: string;
  mme: string | null;
  sqa: string;
  mmvp: string;
  mmvp_gold: string;
  split: string[];
  strip: string;
}

const cases: Case[] = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "vectors", "parsers.fuzz.json"), "utf8"));

describe("parsers agree with Python on random strings", () => {
  const check = (name: string, parse: (c: Case) => unknown, expected: (c: Case) => unknown) =>
    it(name, () => {
      expect(cases.length).toBeGreaterThan(500);
      const wrong = cases.filter((c) => JSON.stringify(parse(c)) !== JSON.stringify(expected(c)));
      expect(wrong.map((c) => ({ text: c.text, got: parse(c), want: expected(c) }))).toEqual([]);
    });
  check("str.split / str.strip", (c) => [pySplit(c.text), pyStrip(c.text)], (c) => [c.split, c.strip]);
  check("vqaEval.py normalisation", (c) => normalizeVqaAnswer(c.text), (c) => c.vqa);
  check("EvalAI answer processor", (c) => evalAIAnswer(c.text), (c) => c.evalai);
  check("GQA conversion", (c) => gqaConvertPrediction(c.text), (c) => c.gqa);
  check("POPE parse", (c) => popeParse(c.text), (c) => c.pope);
  check("MME parse", (c) => (c.mme === null ? null : mmeParse(c.text)), (c) => c.mme);
  check("ScienceQA parse", (c) => scienceQaParse(c.text), (c) => c.sqa);
  check("MMVP letter and gold", (c) => [mmvpLetter(c.text), mmvpGold(c.text)], (c) => [c.mmvp, c.mmvp_gold]);
});
