// MMVP pair accuracy (evals.md §6): the authors' GPT-4 grader (its recorded replies, `judge`)
// and lmms-eval's deterministic letter rule, a common offline substitute.

import type { MmvpItem } from "./items.js";
import { codePoints, pyLower, pyStrip, pyUpper, PY_SPACE_CLASS } from "./text.js";

export interface MmvpOfficialScores {
  /** correct pairs / complete pairs, a fraction */
  readonly pair_accuracy: number | null;
  readonly correct_pairs: number;
  readonly pairs: number;
  readonly per_item_graded_correct: boolean[];
}

export interface MmvpItemResult {
  readonly index: number;
  /** "A", "B" or "" (no letter found) */
  readonly pred_letter: string;
  readonly gt: string;
  readonly is_correct: boolean;
}

export interface MmvpRuleScores {
  readonly accuracy: number;
  readonly correct: number;
  readonly count: number;
  readonly pair_accuracy: number | null;
  readonly correct_pairs: number;
  readonly pairs: number;
  readonly per_item: MmvpItemResult[];
}

export interface MmvpScores {
  /** null when the items carry no grader replies (`judge`) */
  readonly official_gpt_grader: MmvpOfficialScores | null;
  readonly lmms_eval_rule: MmvpRuleScores;
}

/** The grader's reply counts iff, lower-cased, it is exactly `yes` (`Yes.`, `yes ` do not). */
export function mmvpJudgeCorrect(judge: string): boolean {
  return pyLower(judge) === "yes";
}

/**
 * The official grader's pairing: lines in file order, two at a time; a trailing unpaired line is
 * ignored.
 */
function officialScores(items: readonly MmvpItem[]): MmvpOfficialScores | null {
  if (items.some((i) => i.judge === null || i.judge === undefined)) return null;
  const graded = items.map((i) => mmvpJudgeCorrect(i.judge as string));
  let pairs = 0;
  let correctPairs = 0;
  for (let i = 0; i + 1 < graded.length; i += 2) {
    pairs++;
    if (graded[i] && graded[i + 1]) correctPairs++;
  }
  return { pair_accuracy: pairs === 0 ? null : correctPairs / pairs, correct_pairs: correctPairs, pairs, per_item_graded_correct: graded };
}

// lmms-eval's patterns are searched with re.IGNORECASE, under which Python also matches `ſ` for
// `s` and `İ`/`ı` for `i`; the classes below spell that out so no JS case folding is involved.
const S = PY_SPACE_CLASS;
const periodOrSpace = `[.${PY_SPACE_CLASS.slice(1, -1)}]`;
const AB = "[AaBb]";
const word = (w: string): string =>
  [...w].map((c) => ({ s: "[Ssſ]", i: "[Iiİı]" })[c] ?? `[${c.toUpperCase()}${c}]`).join("");
const letterRules: readonly RegExp[] = [
  new RegExp(`^${S}*\\(?(${AB})\\)?\\.?${S}*$`, "u"), // the whole text is the letter: A, (b), B.
  new RegExp(`^${S}*\\(?(${AB})\\)?${periodOrSpace}`, "u"), // starts with it: "(a) Open"
  new RegExp(`${word("answer")}${S}+${word("is")}${S}+\\(?(${AB})\\)?`, "u"), // "The answer is (b)."
  new RegExp(`${word("option")}${S}+\\(?(${AB})\\)?`, "u"), // "Option A"
  new RegExp(`\\(?(${AB})\\)?(?:${S}|$)`, "u"), // anywhere, leftmost: "It is a closed one" -> A
];

/** lmms-eval's letter extraction from the stripped model text: "A", "B" or "" when none. */
export function mmvpLetter(prediction: string): string {
  const text = pyStrip(prediction);
  for (const rule of letterRules) {
    const match = rule.exec(text);
    if (match) return pyUpper(match[1]);
  }
  const first = codePoints(text)[0];
  if (first !== undefined && "AaBb".includes(first)) return pyUpper(first);
  return "";
}

/** lmms-eval's gold letter: `(a)` in it or exactly `a` -> A; likewise B; else the text upper-cased. */
export function mmvpGold(answer: string): string {
  const a = pyLower(pyStrip(answer));
  if (a.includes("(a)") || a === "a") return "A";
  if (a.includes("(b)") || a === "b") return "B";
  return pyUpper(a);
}

function ruleScores(items: readonly MmvpItem[]): MmvpRuleScores {
  const perItem = items.map((item) => {
    const predLetter = mmvpLetter(item.prediction);
    const gt = mmvpGold(item.answer);
    return { index: item.index, pred_letter: predLetter, gt, is_correct: predLetter === gt };
  });
  const correct = perItem.filter((r) => r.is_correct).length;
  // pairs grouped by (index - 1) div 2; only groups of exactly two items count
  const groups = new Map<number, boolean[]>();
  for (const r of perItem) {
    const pair = Math.floor((r.index - 1) / 2);
    const list = groups.get(pair);
    if (list) list.push(r.is_correct);
    else groups.set(pair, [r.is_correct]);
  }
  let pairs = 0;
  let correctPairs = 0;
  for (const list of groups.values()) {
    if (list.length !== 2) continue;
    pairs++;
    if (list[0] && list[1]) correctPairs++;
  }
  return {
    accuracy: correct / items.length,
    correct,
    count: items.length,
    pair_accuracy: pairs === 0 ? null : correctPairs / pairs,
    correct_pairs: correctPairs,
    pairs,
    per_item: perItem,
  };
}

export function scoreMmvp(items: readonly MmvpItem[]): MmvpScores {
  return { official_gpt_grader: officialScores(items), lmms_eval_rule: ruleScores(items) };
}
