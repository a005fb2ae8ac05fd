// VQAv2 accuracy (evals.md §1.3-1.5): the official `vqaEval.py` applied to the raw prediction
// (`official`), and LLaVA's pipeline, where the EvalAI answer processor rewrites the prediction
// before the server scores it (`llava_evalai`).

import type { Vqav2Item } from "./items.js";
import { evalAIAnswer, normalizeVqaAnswer } from "./vqa_normalize.js";
import { pyStrip, roundPy2 } from "./text.js";

export interface VqaAccuracy {
  readonly overall: number;
  readonly perQuestionType: Record<string, number>;
  readonly perAnswerType: Record<string, number>;
}

export interface VqaQuestionResult {
  /** the prediction string actually compared */
  readonly compared_prediction: string;
  /** the human answers actually compared */
  readonly compared_answers: string[];
  /** true iff the humans were not unanimous, which turns normalisation on */
  readonly normalized: boolean;
  /** question accuracy in [0, 1] */
  readonly acc_raw: number;
  /** 100 * acc_raw rounded to 2 decimals (Python 2 rounding) */
  readonly acc_rounded: number;
  /** llava_evalai only: the EvalAI processor's output, what LLaVA uploads */
  readonly submitted_answer?: string;
}

export interface VqaModeScores {
  /** percent, rounded to 2 decimals with Python 2 rounding, as `vqaEval.py` reports */
  readonly accuracy: VqaAccuracy;
  /** the same, raw doubles */
  readonly accuracy_unrounded: VqaAccuracy;
  readonly per_question: Record<string, VqaQuestionResult>;
}

export interface Vqav2Scores {
  readonly official: VqaModeScores;
  readonly llava_evalai: VqaModeScores;
}

/** `\n`/`\t` to spaces, then strip: applied to every human answer and to the prediction */
function clean(text: string): string {
  return pyStrip(text.replaceAll("\n", " ").replaceAll("\t", " "));
}

/**
 * One question's accuracy. Normalisation applies only when the cleaned human answers are not all
 * identical. For each annotator position, the matches among the OTHER positions count:
 * `min(1, matches / 3)`; the question accuracy is the mean over positions, summed in position
 * order as the official code does (so doubles agree bit for bit).
 */
export function vqaQuestionAccuracy(answers: readonly string[], prediction: string): Omit<VqaQuestionResult, "acc_rounded" | "submitted_answer"> {
  const cleaned = answers.map(clean);
  const normalized = new Set(cleaned).size > 1;
  const compared = normalized ? cleaned.map(normalizeVqaAnswer) : cleaned;
  const pred = normalized ? normalizeVqaAnswer(clean(prediction)) : clean(prediction);
  let sum = 0;
  for (let i = 0; i < compared.length; i++) {
    let matches = 0;
    for (let j = 0; j < compared.length; j++) if (j !== i && compared[j] === pred) matches++;
    sum += Math.min(1, matches / 3);
  }
  return { compared_prediction: pred, compared_answers: compared, normalized, acc_raw: sum / compared.length };
}

/** Percent over a group, `(100 * sum) / count`, in item order. */
class Mean {
  private sum = 0;
  private count = 0;
  add(x: number): void {
    this.sum += x;
    this.count++;
  }
  percent(): number {
    return (100 * this.sum) / this.count;
  }
}

function groupAdd(groups: Map<string, Mean>, key: string, acc: number): void {
  let g = groups.get(key);
  if (!g) groups.set(key, (g = new Mean()));
  g.add(acc);
}

function table(groups: Map<string, Mean>, round: boolean): Record<string, number> {
  // fromEntries defines own properties, so any type name (even `__proto__`) is a plain key
  return Object.fromEntries([...groups].map(([key, mean]) => [key, round ? roundPy2(mean.percent()) : mean.percent()]));
}

function scoreMode(items: readonly Vqav2Item[], evalai: boolean): VqaModeScores {
  const overall = new Mean();
  const byQuestionType = new Map<string, Mean>();
  const byAnswerType = new Map<string, Mean>();
  const perQuestion = new Map<string, VqaQuestionResult>();
  for (const item of items) {
    const submitted = evalai ? evalAIAnswer(item.prediction) : undefined;
    const result = vqaQuestionAccuracy(item.answers, submitted ?? item.prediction);
    overall.add(result.acc_raw);
    groupAdd(byQuestionType, item.question_type, result.acc_raw);
    groupAdd(byAnswerType, item.answer_type, result.acc_raw);
    perQuestion.set(String(item.question_id), {
      ...result,
      acc_rounded: roundPy2(100 * result.acc_raw),
      ...(submitted !== undefined ? { submitted_answer: submitted } : {}),
    });
  }
  const accuracy = (round: boolean): VqaAccuracy => ({
    overall: round ? roundPy2(overall.percent()) : overall.percent(),
    perQuestionType: table(byQuestionType, round),
    perAnswerType: table(byAnswerType, round),
  });
  return { accuracy: accuracy(true), accuracy_unrounded: accuracy(false), per_question: Object.fromEntries(perQuestion) };
}

/**
 * VQAv2 scores in both modes. `llava_evalai` assumes the EvalAI server applies `vqaEval.py` to the
 * processed answer (a second normalisation when the humans disagree); the server code is not
 * public, so this is an assumption (evals.md §1.5).
 */
export function scoreVqav2(items: readonly Vqav2Item[]): Vqav2Scores {
  return { official: scoreMode(items, false), llava_evalai: scoreMode(items, true) };
}
