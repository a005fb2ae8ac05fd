// The pieces of the scoring rules one by one: Python-compatible string helpers, VQA
// normalisation, the per-benchmark answer parsers, prompts, and item validation.

import { describe, expect, it } from "vitest";
import {
  evalAIAnswer, gqaConvertPrediction, ItemError, mmeParse, mmePrompt, mmvpGold, mmvpLetter, mmvpOptionList, popeParse,
  processDigitArticle, processPunctuation, pyRstrip, pySplit, pyStrip, roundPy2, scienceQaIndex, scienceQaParse,
  scienceQaQuestion, score, validateItems, vqaQuestionAccuracy,
} from "../../runtime/benchmarks/index.js";

describe("Python string semantics", () => {
  it("splits and strips on Python's whitespace set, not JavaScript's", () => {
    expect(pySplit("big\x1cdog\u0085cat")).toEqual(["big", "dog", "cat"]);
    expect(pySplit("\ufeffyes no")).toEqual(["\ufeffyes", "no"]);
    expect(pySplit("  \t\n ")).toEqual([]);
    expect(pySplit("")).toEqual([]);
    expect(pyStrip("\u00a0 yes\u3000\x1f")).toBe("yes");
    expect(pyStrip("\ufeffyes\ufeff")).toBe("\ufeffyes\ufeff");
    expect(pyRstrip("Yes...", ".")).toBe("Yes");
    expect(pyRstrip("yes. ", ".")).toBe("yes. ");
  });

  it("rounds like Python 2: the exact binary value, ties away from zero", () => {
    expect(roundPy2(53.125)).toBe(53.13); // a real tie (17/32); Python 3 gives 53.12
    expect(roundPy2(2.675)).toBe(2.67); // really 2.67499999...; Math.round(x*100)/100 gives 2.68
    expect(roundPy2(0.015)).toBe(0.01);
    expect(roundPy2(8.345)).toBe(8.35); // really 8.34500000000000064
    expect(roundPy2(-0.125)).toBe(-0.13);
    expect(roundPy2(100)).toBe(100);
    expect(roundPy2(0)).toBe(0);
  });
});

describe("VQA normalisation", () => {
  it("decides each punctuation character on the original text", () => {
    expect(processPunctuation("red,white")).toBe("red white");
    expect(processPunctuation("red, white")).toBe("red white");
    expect(processPunctuation("1,000!yes")).toBe("1000yes"); // digit-comma-digit deletes every punctuation character
    expect(processPunctuation("x (-y a-b")).toBe("x  y a b");
    expect(processPunctuation("it's 50% $5 #1 a&b *")).toBe("it's 50% $5 #1 a&b *");
  });

  it("deletes the first 32 periods not followed by a digit", () => {
    expect(processPunctuation("5.")).toBe("5");
    expect(processPunctuation("3.5")).toBe("3.5");
    expect(processPunctuation("a.m.")).toBe("am");
    expect(processPunctuation("a..5")).toBe("a.5");
    expect(processPunctuation(".".repeat(40))).toBe("........");
    // vqaEval.py's \d is ASCII (Python 2); the EvalAI processor's is Unicode (Python 3)
    expect(processPunctuation("5.\u0663", "ascii")).toBe("5\u0663");
    expect(processPunctuation("5.\u0663", "unicode")).toBe("5.\u0663");
  });

  it("maps number words, drops articles, expands contractions (lower-case keys only)", () => {
    expect(processDigitArticle("The Two  dogs")).toBe("2 dogs");
    expect(processDigitArticle("none zero ten eleven")).toBe("0 0 10 eleven");
    expect(processDigitArticle("an apple a day")).toBe("apple day");
    expect(processDigitArticle("dont Im ive")).toBe("don't im ive");
    expect(processDigitArticle("somebody'd")).toBe("somebodyd");
    expect(processDigitArticle("")).toBe("");
  });

  it("applies LLaVA's EvalAI answer processor", () => {
    expect(evalAIAnswer("Yes, it is.")).toBe("yes it is");
    expect(evalAIAnswer("dog's")).toBe("dog 's");
    expect(evalAIAnswer("What?")).toBe("what");
    expect(evalAIAnswer("1,000")).toBe("1000");
    expect(evalAIAnswer("red,white")).toBe("redwhite");
    expect(evalAIAnswer("  Two\n")).toBe("2");
  });

  it("scores a question against the other nine annotators at each position", () => {
    const humans = (h: number) => [...Array(h).fill("red"), ...Array(10 - h).fill("blue")];
    const accs = [0, 1, 2, 3, 4, 7].map((h) => vqaQuestionAccuracy(humans(h), "red").acc_raw);
    expect(accs[0]).toBe(0);
    expect(accs[1]).toBeCloseTo(0.3, 15);
    expect(accs[2]).toBeCloseTo(0.6, 15);
    expect(accs[3]).toBeCloseTo(0.9, 15);
    expect(accs[4]).toBe(1);
    expect(accs[5]).toBe(1);
    // unanimous humans: no normalisation, so case and punctuation count
    expect(vqaQuestionAccuracy(Array(10).fill("yes"), "Yes")).toMatchObject({ acc_raw: 0, normalized: false, compared_prediction: "Yes" });
    expect(vqaQuestionAccuracy(Array(10).fill("2"), "two").acc_raw).toBe(0);
    expect(vqaQuestionAccuracy([...Array(9).fill("yes"), "Yes"], "Yes")).toMatchObject({ acc_raw: 1, normalized: true });
  });
});

describe("answer parsers", () => {
  it("GQA: trailing periods off, lower-cased, nothing else", () => {
    expect(gqaConvertPrediction("Yes.")).toBe("yes");
    expect(gqaConvertPrediction("yes. ")).toBe("yes. ");
    expect(gqaConvertPrediction("...")).toBe("");
    expect(gqaConvertPrediction("The Man")).toBe("the man");
  });

  it("POPE: first sentence, commas off, split on ' ' only, case-sensitive No/no/not", () => {
    expect(popeParse("No, there is not.")).toBe("no");
    expect(popeParse("There is not a dog")).toBe("no");
    expect(popeParse("Yes. No")).toBe("yes");
    expect(popeParse("no,there is a dog")).toBe("yes");
    for (const text of ["NO", "Not", "Nope", "None", "isn't", "No!", "no?", "No\nThere", ""]) expect(popeParse(text)).toBe("yes");
    expect(popeParse("Yes  no")).toBe("no");
  });

  it("MME: exact yes/no, else the first 4 code points of the lower-cased text", () => {
    const cases: [string, string][] = [
      ["Yes", "yes"], ["Not sure", "no"], ["None", "no"], ["know", "no"], ["nope", "no"], ["eyes", "yes"], ["yes and no", "yes"],
      ["I think yes", "other"], ["  yes", "other"], ["The answer is yes", "other"], ["", "other"],
      ["\u{1F600}yes", "yes"], // one code point, then yes
      ["\u0130yes", "other"], // İ lower-cases to 2 code points, pushing `s` out of the first 4
    ];
    for (const [text, parsed] of cases) expect([text, mmeParse(text)]).toEqual([text, parsed]);
  });

  it("ScienceQA: exact letter, `X. `, or exactly one `The answer is X<any char but \\n>`", () => {
    const cases: [string, string][] = [
      ["A", "A"], ["B. The mitochondria", "B"], ["A. ", "A"], ["C.", "FAILED"], ["The answer is C.", "C"], ["The answer is BC", "B"],
      ["The answer is C", "FAILED"], ["the answer is C.", "FAILED"], ["The answer is (D).", "FAILED"], ["The answer is b.", "FAILED"],
      ["The answer is A. The answer is B.", "FAILED"], ["The answer is A. The answer is A.", "FAILED"], ["The answer is C\n", "FAILED"],
      ["The answer is C\r", "C"], ["The answer is Z!", "Z"], [" A", "FAILED"], ["a", "FAILED"],
    ];
    for (const [text, parsed] of cases) expect([text, scienceQaParse(text)]).toEqual([text, parsed]);
    expect(scienceQaIndex("D", 3)).toBe(-1);
    expect(scienceQaIndex("C", 3)).toBe(2);
    expect(scienceQaIndex("Z", 5)).toBe(-1);
  });

  it("MMVP: lmms-eval's letter rules in order, and its gold letter", () => {
    const cases: [string, string][] = [
      ["A", "A"], ["(b)", "B"], ["B.", "B"], ["(a) Open", "A"], ["The answer is (b).", "B"], ["Option A", "A"], ["… option b", "B"],
      ["It is a closed one", "A"], ["Answer: b", "B"], ["Cuba", "A"], ["Both", "B"], ["Open", ""], ["No", ""], ["", ""],
      ["xa anſwer is b", "B"], // Python's IGNORECASE matches ſ for s
      ["b\x1c", "B"],
    ];
    for (const [text, letter] of cases) expect([text, mmvpLetter(text)]).toEqual([text, letter]);
    expect(mmvpGold("(b) Closed")).toBe("B");
    expect(mmvpGold(" A ")).toBe("A");
    expect(mmvpGold("c")).toBe("C");
  });
});

describe("prompts", () => {
  it("formats ScienceQA's CQM-A question and MMVP's options as LLaVA / lmms-eval do", () => {
    expect(scienceQaQuestion({ question: "Which is  heavier?", choices: ["a rock", "a leaf"], answer: 0, hint: "  " })).toBe(
      "Context: N/A\nQuestion: Which is heavier?\nOptions: (A) a rock (B) a leaf",
    );
    expect(mmvpOptionList("(a) Open (b) Closed")).toEqual(["Open", "Closed"]);
    expect(mmePrompt("Is this a cat? Please answer yes or no.")).toBe("Is this a cat?\nAnswer the question using a single word or phrase.");
  });
});

describe("item validation", () => {
  const gqa = { question_id: "1", question: "Is it?", answer: "yes", structural: "verify", semantic: "attr", prediction: "yes" };

  it("names the item index and the field", () => {
    const fails = (benchmark: Parameters<typeof validateItems>[0], items: unknown, message: string) => {
      let error: unknown;
      try {
        validateItems(benchmark, items);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ItemError);
      expect((error as Error).message).toBe(message);
    };
    fails("gqa", [gqa, { ...gqa, question_id: "2", answer: undefined }], "item 1, field `answer`: expected a string, got nothing (missing)");
    fails("gqa", [gqa, gqa], 'item 1, field `question_id`: duplicate value "1" (also item 0)');
    fails("gqa", [], "field `items`: expected at least one item, got an empty array");
    fails("gqa", { items: [] }, "field `items`: expected an array of items, got an object");
    fails("mme", [{ subtask: "OCR", answer: "Yes", prediction: "yes\tno" }], "item 0, field `prediction`: contains a tab, which the MME result file format cannot hold");
    fails("mme", [{ subtask: "ocr", answer: "Yes", prediction: "yes" }], 'item 0, field `subtask`: expected one of `existence`, `count`, `position`, `color`, `posters`, `celebrity`, `scene`, `landmark`, `artwork`, `OCR`, `commonsense_reasoning`, `numerical_calculation`, `text_translation`, `code_reasoning`, got the string "ocr"');
    fails("scienceqa_img", [{ question_id: "1", choices: ["a", "b"], answer: 2, has_image: true, prediction: "A" }], "item 0, field `answer`: expected a choice index from 0 to 1, got 2");
    fails("mmvp", [{ index: 0, answer: "(a)", prediction: "A" }], "item 0, field `index`: expected a 1-based index (1 or more), got 0");
  });

  it("rejects an MME subtask with an odd number of questions (they pair per image)", () => {
    const item = { subtask: "OCR", answer: "Yes", prediction: "yes" };
    expect(() => score("mme", [item, item, item])).toThrow("item 2, field `subtask`: subtask `OCR` has 3 questions");
  });
});
