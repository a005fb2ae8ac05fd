// ScienceQA-IMG (evals.md §5): LLaVA's `llava/eval/eval_science_qa.py`.

import type { ScienceQaItem } from "./items.js";
import { codePoints } from "./text.js";

/** The option letters, in order; a problem uses the first `choices.length` of them. */
export const scienceQaOptions = ["A", "B", "C", "D", "E"] as const;

export type ScienceQaParse = (typeof scienceQaOptions)[number] | string;

export interface ScienceQaQuestionResult {
  /** the parsed letter (any capital A-Z from the "The answer is" rule) or "FAILED" */
  readonly parsed_ans: string;
  /** the letter's index among the problem's options, or -1 */
  readonly pred_idx: number;
  readonly correct: boolean;
  /** in the IMG subset: the problem has an image AND a prediction (the script reads `<image>` from the prediction's prompt) */
  readonly is_multimodal: boolean;
}

export interface ScienceQaScores {
  /** percent over all problems, raw double */
  readonly acc: number;
  readonly correct: number;
  readonly count: number;
  /** percent over the IMG subset: what LLaVA-1.5 and LLaVA-Gemma report as ScienceQA-IMG; null if the subset is empty */
  readonly img_acc: number | null;
  readonly img_correct: number;
  readonly img_count: number;
  readonly per_question: Record<string, ScienceQaQuestionResult>;
}

/**
 * `The answer is `, one capital letter, then ANY one character except a newline: the script's
 * pattern has an unescaped `.`. Python's `.` excludes only `\n` (JS's also excludes `\r`,
 * U+2028, U+2029), hence `[^\n]`.
 */
const answerIsPattern = /The answer is ([A-Z])[^\n]/gu;

/**
 * The script's letter parse (no stripping, case-sensitive): exactly a letter A-E; else `X. ...`
 * (3+ code points, first one A-E, then `. `); else exactly one match of the answer-is pattern;
 * else FAILED.
 */
export function scienceQaParse(text: string): string {
  if ((scienceQaOptions as readonly string[]).includes(text)) return text;
  const cps = codePoints(text);
  if (cps.length >= 3 && (scienceQaOptions as readonly string[]).includes(cps[0]) && cps[1] === "." && cps[2] === " ") return cps[0];
  const matches = [...text.matchAll(answerIsPattern)];
  if (matches.length === 1) return matches[0][1];
  return "FAILED";
}

/** The parsed letter's index if it is one of the problem's options, else -1. */
export function scienceQaIndex(parsed: string, choiceCount: number): number {
  const index = (scienceQaOptions as readonly string[]).indexOf(parsed);
  return index >= 0 && index < choiceCount ? index : -1;
}

export function scoreScienceQa(items: readonly ScienceQaItem[]): ScienceQaScores {
  let correct = 0;
  let imgCorrect = 0;
  let imgCount = 0;
  const perQuestion = new Map<string, ScienceQaQuestionResult>();
  for (const item of items) {
    // a problem without a prediction is scored as the text "FAILED" with the prompt "Unknown"
    const parsed = scienceQaParse(item.prediction ?? "FAILED");
    const predIdx = scienceQaIndex(parsed, item.choices.length);
    const isCorrect = predIdx === item.answer;
    const multimodal = item.has_image && item.prediction !== null;
    if (isCorrect) correct++;
    if (multimodal) {
      imgCount++;
      if (isCorrect) imgCorrect++;
    }
    perQuestion.set(item.question_id, { parsed_ans: parsed, pred_idx: predIdx, correct: isCorrect, is_multimodal: multimodal });
  }
  const count = items.length;
  return {
    acc: (correct / count) * 100,
    correct,
    count,
    img_acc: imgCount === 0 ? null : (imgCorrect / imgCount) * 100,
    img_correct: imgCorrect,
    img_count: imgCount,
    per_question: Object.fromEntries(perQuestion),
  };
}
