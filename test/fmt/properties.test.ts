// Properties of `fmt` over the shipped specs (examples/, std/) and the golden inputs, and over random
// variations of them: the layout is canonical (re-spacing the tokens does not change the result),
// formatting is idempotent, no comment is lost or duplicated wherever it sits, and the meaning (every
// variant's hash, the diagnostics) is unchanged.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../core/diagnostics.js";
import { formatText, sameTree } from "../../compiler/format.js";
import { SourceFile } from "../../core/source.js";
import { parseSource } from "../../grammar/index.js";
import { casesDir, commentTexts, goldenCases, insertComments, meaning, random, read, respace, shippedSpecs } from "./helpers.js";

function fmt(text: string, path = "test.mmfm"): string {
  const result = formatText(text, path);
  if (result.text === undefined) {
    throw new Error(`syntax errors in ${path}: ${result.diagnostics.items.map((d) => d.message).join("; ")}`);
  }
  return result.text;
}

function parsesCleanly(text: string): boolean {
  const diagnostics = new Diagnostics();
  parseSource(new SourceFile("x.mmfm", text), diagnostics);
  return !diagnostics.hasErrors;
}

function tree(text: string) {
  return parseSource(new SourceFile("x.mmfm", text), new Diagnostics()).items;
}

/** [path relative to the repository, text] for every shipped spec and golden input. */
const inputs: [string, string][] = [
  ...shippedSpecs().map((p): [string, string] => [p, read(p)]),
  ...goldenCases().map((n): [string, string] => [join("test", "cases", "fmt", n), readFileSync(join(casesDir, n), "utf8")]),
];

describe("the shipped specs", () => {
  it("include the example and the standard library", () => {
    const paths = shippedSpecs();
    expect(paths).toContain(join("examples", "llava-gemma.mmfm"));
    expect(paths.filter((p) => p.startsWith("std")).length).toBeGreaterThanOrEqual(4);
  });

  for (const path of shippedSpecs()) {
    describe(path, () => {
      const text = read(path);
      const once = fmt(text, path);

      it("format idempotently", () => {
        expect(fmt(once, path)).toBe(once);
      });

      it("keep their syntax tree and comments", () => {
        expect(sameTree(tree(once), tree(text))).toBe(true);
        expect(commentTexts(once)).toEqual(commentTexts(text));
      });

      it("keep every variant's hash and the diagnostics", () => {
        expect(meaning(path, once)).toEqual(meaning(path, text));
      });
    });
  }

  it("keep the hashes of the golden example, whose grid is not empty", () => {
    const path = join("test", "cases", "fmt", "example-messy.mmfm");
    const before = meaning(path, readFileSync(join(casesDir, "example-messy.mmfm"), "utf8"));
    expect(before.variants.length).toBe(6);
    expect(before.codes).toEqual([]);
  });
});

describe("re-spaced inputs format to the same text", () => {
  for (const [path, text] of inputs) {
    it(path, () => {
      const canonical = fmt(text, path);
      const rng = random(path.length * 7919 + 17);
      for (let i = 0; i < 12; i++) {
        const variant = respace(text, rng);
        expect(parsesCleanly(variant), `respacing broke the syntax of ${path}:\n${variant}`).toBe(true);
        expect(commentTexts(variant)).toEqual(commentTexts(text));
        expect(fmt(variant, path), `re-spaced variant ${i} of ${path}:\n${variant}`).toBe(canonical);
      }
    });
  }
});

describe("comments anywhere between tokens survive, once each", () => {
  for (const [path, text] of inputs) {
    it(path, () => {
      const rng = random(path.length * 104729 + 3);
      for (let i = 0; i < 6; i++) {
        const { text: commented, inserted } = insertComments(text, rng, 14, `c${i}_`);
        const once = fmt(commented, path);
        const printed = commentTexts(once);
        for (const c of inserted) expect(printed.filter((t) => t === c).length, `${c} in variant ${i} of ${path}:\n${commented}\n---\n${once}`).toBe(1);
        expect(commentTexts(once)).toEqual(commentTexts(commented));
        expect(sameTree(tree(once), tree(text))).toBe(true);
        expect(fmt(once, path), `not idempotent on variant ${i} of ${path}:\n${commented}`).toBe(once);
        // where the comments sit relative to lines is kept by re-spacing, so the result is the same
        expect(fmt(respace(commented, rng), path)).toBe(once);
      }
    });
  }

  it("and the variants' hashes do not change", () => {
    const path = join("examples", "llava-gemma.mmfm");
    const text = read(path);
    const before = meaning(path, text);
    const rng = random(2404);
    for (let i = 0; i < 3; i++) {
      const { text: commented } = insertComments(text, rng, 20);
      expect(meaning(path, fmt(commented, path))).toEqual(before);
    }
  });
});
