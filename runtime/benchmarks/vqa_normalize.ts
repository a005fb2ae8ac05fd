// VQA answer normalisation (evals.md §1.2 and §1.5): the punctuation step and the word step of
// the official `vqaEval.py`, and LLaVA's EvalAI answer processor (`m4c_evaluator.py`).

import { contractions } from "./vqa_contractions.js";
import { codePoints, isAsciiDigit, isUnicodeDigit, pyLower, pySplit, pyStrip } from "./text.js";

/** The 21 punctuation characters; `'`, `.`, `:`, `%`, `$`, `#`, `&`, `*` are not among them. */
export const vqaPunctuation: readonly string[] = [
  ";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!",
];

/**
 * How many periods the period step may delete. The official code passes `re.UNICODE` (= 32) in
 * the position of `re.sub`'s `count` argument, so only the first 32 qualifying periods go.
 */
export const periodLimit = 32;

/**
 * Which characters `\d` matches: `vqaEval.py` is Python 2 code whose patterns are compiled without
 * `re.UNICODE`, so its `\d` is ASCII; `m4c_evaluator.py` runs on Python 3, whose `\d` is any
 * Unicode decimal digit.
 */
export type DigitRule = "ascii" | "unicode";

const numberWords: ReadonlyMap<string, string> = new Map([
  ["none", "0"], ["zero", "0"], ["one", "1"], ["two", "2"], ["three", "3"], ["four", "4"],
  ["five", "5"], ["six", "6"], ["seven", "7"], ["eight", "8"], ["nine", "9"], ["ten", "10"],
]);

const articles: ReadonlySet<string> = new Set(["a", "an", "the"]);

/** any punctuation character or period */
const touchesPunctuation = /[;/[\]"{}()=+\\_\-><@`,?!.]/;

/** true if `cps` holds a digit, one or more commas (exactly one for `vqaEval.py`) and a digit */
function hasDigitCommaDigit(cps: readonly string[], isDigit: (ch: string) => boolean, manyCommas: boolean): boolean {
  for (let i = 0; i + 2 < cps.length; i++) {
    if (!isDigit(cps[i]) || cps[i + 1] !== ",") continue;
    let j = i + 1;
    if (manyCommas) while (j + 1 < cps.length && cps[j + 1] === ",") j++;
    if (j + 1 < cps.length && isDigit(cps[j + 1])) return true;
  }
  return false;
}

/**
 * The punctuation step. For each punctuation character `p`, decided on the ORIGINAL text: if `p`
 * is next to a space (`p ` or ` p`) or the text has digit-comma-digit anywhere, every `p` is
 * deleted, otherwise every `p` becomes a space. Then the first 32 periods not followed by a digit
 * are deleted (which periods qualify is decided before any is deleted).
 */
export function processPunctuation(text: string, digits: DigitRule = "ascii"): string {
  if (!touchesPunctuation.test(text)) return text; // nothing to replace or delete: the common case
  const isDigit = digits === "ascii" ? isAsciiDigit : isUnicodeDigit;
  // vqaEval.py: (\d)(\,)(\d); m4c_evaluator.py: (?<=\d)(\,)+(?=\d)
  const digitCommaDigit = hasDigitCommaDigit(codePoints(text), isDigit, digits === "unicode");
  let out = text;
  for (const p of vqaPunctuation) {
    const glued = text.includes(p + " ") || text.includes(" " + p) || digitCommaDigit;
    out = out.replaceAll(p, glued ? "" : " ");
  }
  const cps = codePoints(out);
  let result = "";
  let removed = 0;
  for (let i = 0; i < cps.length; i++) {
    const beforeDigit = i + 1 < cps.length && isDigit(cps[i + 1]);
    if (cps[i] === "." && !beforeDigit && removed < periodLimit) {
      removed++;
      continue;
    }
    result += cps[i];
  }
  return result;
}

/**
 * The word step: lower-case, split on whitespace, number words to digits (`none`..`ten`), drop
 * `a`/`an`/`the`, expand contractions, join with single spaces.
 */
export function processDigitArticle(text: string): string {
  const words = pySplit(pyLower(text))
    .map((w) => numberWords.get(w) ?? w)
    .filter((w) => !articles.has(w))
    .map((w) => contractions.get(w) ?? w);
  return words.join(" ");
}

/** `vqaEval.py`'s normalisation of an answer: punctuation step, then word step. */
export function normalizeVqaAnswer(text: string): string {
  return processDigitArticle(processPunctuation(text, "ascii"));
}

/**
 * LLaVA's `EvalAIAnswerProcessor`, applied to the raw model text before upload
 * (`convert_vqav2_for_submission.py`): lower-case; delete `,` and `?`; `'s` -> ` 's`; strip;
 * newlines and tabs to spaces; strip; punctuation step (Python 3 digits); word step.
 */
export function evalAIAnswer(text: string): string {
  let t = pyLower(text);
  t = t.replaceAll(",", "").replaceAll("?", "").replaceAll("'s", " 's");
  t = pyStrip(t);
  t = pyStrip(t.replaceAll("\n", " ").replaceAll("\t", " "));
  t = processPunctuation(t, "unicode");
  return processDigitArticle(t);
}
