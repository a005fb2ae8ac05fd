// GQA accuracy (evals.md §2): LLaVA's `convert_gqa_for_eval.py` turns the model text into the
// prediction, and the official GQA `eval.py` (LLaVA's testdev variant) compares it exactly.

import type { GqaItem } from "./items.js";
import { pyLower, pyRstrip, pySplit } from "./text.js";

export interface GqaScores {
  /** percent, raw doubles */
  readonly accuracy: number;
  /** accuracy over structural types other than `query` */
  readonly binary: number;
  /** accuracy over structural type `query` */
  readonly open: number;
  /** `{type: [percent, count]}` */
  readonly accuracyPerStructuralType: Record<string, [number, number]>;
  readonly accuracyPerSemanticType: Record<string, [number, number]>;
  /** keyed by the question's whitespace word count */
  readonly accuracyPerLength: Record<string, [number, number]>;
  readonly per_question: Record<string, { converted_prediction: string; correct: boolean }>;
}

/**
 * `convert_gqa_for_eval.py`: remove every trailing `.` (only periods: spaces stay, and a period
 * before a trailing space stays), then lower-case. Nothing else.
 */
export function gqaConvertPrediction(text: string): string {
  return pyLower(pyRstrip(text, "."));
}

/** `eval.py`'s `avg(l) * 100`: the mean first, then times 100; an empty list gives 0. */
function percent(scores: readonly number[]): number {
  if (scores.length === 0) return 0;
  let sum = 0;
  for (const s of scores) sum += s;
  return (sum / scores.length) * 100;
}

function push(groups: Map<string, number[]>, key: string, score: number): void {
  const list = groups.get(key);
  if (list) list.push(score);
  else groups.set(key, [score]);
}

function perGroup(groups: Map<string, number[]>): Record<string, [number, number]> {
  return Object.fromEntries([...groups].map(([key, scores]) => [key, [percent(scores), scores.length]]));
}

export function scoreGqa(items: readonly GqaItem[]): GqaScores {
  const all: number[] = [];
  const binary: number[] = [];
  const open: number[] = [];
  const structural = new Map<string, number[]>();
  const semantic = new Map<string, number[]>();
  const length = new Map<string, number[]>();
  const perQuestion = new Map<string, { converted_prediction: string; correct: boolean }>();
  for (const item of items) {
    const converted = gqaConvertPrediction(item.prediction);
    const correct = converted === item.answer;
    const score = correct ? 1 : 0;
    all.push(score);
    (item.structural === "query" ? open : binary).push(score);
    push(structural, item.structural, score);
    push(semantic, item.semantic, score);
    push(length, String(pySplit(item.question).length), score);
    perQuestion.set(item.question_id, { converted_prediction: converted, correct });
  }
  return {
    accuracy: percent(all),
    binary: percent(binary),
    open: percent(open),
    accuracyPerStructuralType: perGroup(structural),
    accuracyPerSemanticType: perGroup(semantic),
    accuracyPerLength: perGroup(length),
    per_question: Object.fromEntries(perQuestion),
  };
}
