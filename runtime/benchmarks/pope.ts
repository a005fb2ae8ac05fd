// POPE (evals.md §3): LLaVA's `llava/eval/eval_pope.py`, computed per category. The mean over
// categories and the pooled computation are conventions, not the script's output.

import type { PopeItem } from "./items.js";

export interface PopeMetrics {
  readonly TP: number;
  readonly FP: number;
  readonly TN: number;
  readonly FN: number;
  /** fractions in [0, 1]; null where the script would divide by zero (it crashes there) */
  readonly accuracy: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly yes_ratio: number | null;
  readonly n: number;
}

export interface PopeMean {
  readonly accuracy: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly yes_ratio: number | null;
}

export interface PopeScores {
  readonly per_category: Record<string, PopeMetrics>;
  /** plain mean of the categories' values (not produced by the script) */
  readonly mean_over_categories: PopeMean;
  /** one computation over all items (not produced by the script) */
  readonly pooled_all_items: PopeMetrics;
  readonly per_question_parsed: Record<string, "yes" | "no">;
}

/** The categories in the order they are averaged; others are scored after them, in file order. */
export const popeCategories = ["adversarial", "popular", "random"] as const;

/**
 * `eval_pope.py`'s yes/no parse: keep the text before the first `.`, delete `,`, split on the single
 * space character only, and answer no iff a word is exactly `No`, `no` or `not`.
 */
export function popeParse(text: string): "yes" | "no" {
  const dot = text.indexOf(".");
  const sentence = (dot === -1 ? text : text.slice(0, dot)).replaceAll(",", "");
  const words = sentence.split(" ");
  return words.includes("No") || words.includes("not") || words.includes("no") ? "no" : "yes";
}

function divide(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

/** TP/FP/TN/FN with positive = yes; a label is negative iff it is exactly `no`. */
export function popeMetrics(pairs: ReadonlyArray<{ parsed: "yes" | "no"; label: string }>): PopeMetrics {
  let TP = 0, FP = 0, TN = 0, FN = 0, yes = 0;
  for (const { parsed, label } of pairs) {
    const predYes = parsed === "yes";
    const labelYes = label !== "no";
    if (predYes) yes++;
    if (predYes && labelYes) TP++;
    else if (predYes) FP++;
    else if (!labelYes) TN++;
    else FN++;
  }
  const precision = divide(TP, TP + FP);
  const recall = divide(TP, TP + FN);
  // f1 = 2*precision*recall / (precision + recall), in that order
  const f1 = precision === null || recall === null ? null : divide(2 * precision * recall, precision + recall);
  return {
    TP, FP, TN, FN,
    accuracy: divide(TP + TN, TP + TN + FP + FN),
    precision,
    recall,
    f1,
    yes_ratio: divide(yes, pairs.length),
    n: pairs.length,
  };
}

function mean(values: readonly (number | null)[]): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  let sum = 0;
  for (const v of values) sum += v as number;
  return sum / values.length;
}

export function scorePope(items: readonly PopeItem[]): PopeScores {
  const byCategory = new Map<string, { parsed: "yes" | "no"; label: string }[]>();
  for (const c of popeCategories) if (items.some((i) => i.category === c)) byCategory.set(c, []);
  const parsedById = new Map<string, "yes" | "no">();
  const pooled: { parsed: "yes" | "no"; label: string }[] = [];
  for (const item of items) {
    const parsed = popeParse(item.prediction);
    parsedById.set(String(item.question_id), parsed);
    let list = byCategory.get(item.category);
    if (!list) byCategory.set(item.category, (list = []));
    list.push({ parsed, label: item.label });
    pooled.push({ parsed, label: item.label });
  }
  const perCategory = new Map<string, PopeMetrics>();
  for (const [category, pairs] of byCategory) perCategory.set(category, popeMetrics(pairs));
  const metrics = [...perCategory.values()];
  return {
    per_category: Object.fromEntries(perCategory),
    mean_over_categories: {
      accuracy: mean(metrics.map((m) => m.accuracy)),
      precision: mean(metrics.map((m) => m.precision)),
      recall: mean(metrics.map((m) => m.recall)),
      f1: mean(metrics.map((m) => m.f1)),
      yes_ratio: mean(metrics.map((m) => m.yes_ratio)),
    },
    pooled_all_items: popeMetrics(pooled),
    per_question_parsed: Object.fromEntries(parsedById),
  };
}
