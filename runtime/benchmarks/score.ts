// One entry point for every scorer: items in, the `expected` object of evals.md out.

import { scoreGqa, type GqaScores } from "./gqa.js";
import { validateItems, type BenchmarkName, type ItemsByBenchmark } from "./items.js";
import { scoreMme, type MmeScores } from "./mme.js";
import { scoreMmvp, type MmvpScores } from "./mmvp.js";
import { scorePope, type PopeScores } from "./pope.js";
import { scoreScienceQa, type ScienceQaScores } from "./scienceqa.js";
import { scoreVqav2, type Vqav2Scores } from "./vqa.js";

export interface ScoresByBenchmark {
  vqav2: Vqav2Scores;
  gqa: GqaScores;
  pope: PopeScores;
  mme: MmeScores;
  scienceqa_img: ScienceQaScores;
  mmvp: MmvpScores;
}

/** What `mmfmc score --json` prints: `{ benchmark, notes, expected }`. */
export interface ScoresObject<B extends BenchmarkName = BenchmarkName> {
  readonly benchmark: B;
  readonly notes: string;
  readonly expected: ScoresByBenchmark[B];
}

/** What the numbers of each benchmark mean. */
export const scoreNotes: Record<BenchmarkName, string> = {
  vqav2:
    "accuracy in percent; `accuracy` rounded to 2 decimals with Python 2 rounding as vqaEval.py reports it, `accuracy_unrounded` raw; " +
    "`official` = vqaEval.py on the raw prediction; `llava_evalai` = LLaVA's EvalAI answer processor first, then vqaEval.py (assumed server behaviour)",
  gqa: "accuracy in percent (raw doubles), as GQA eval.py on LLaVA's converted predictions (trailing periods removed, lower-cased); per-type values are [percent, count]",
  pope: "fractions in [0, 1], per category as llava/eval/eval_pope.py; `mean_over_categories` and `pooled_all_items` are conventions, not the script's output",
  mme: "MME eval_tool/calculation.py: per subtask score = 100*acc + 100*acc_plus (max 200); perception_total max 2000, cognition_total max 800",
  scienceqa_img:
    "accuracy in percent (raw doubles) as llava/eval/eval_science_qa.py; `img_acc` (problems with an image and a prediction) is the ScienceQA-IMG number",
  mmvp: "fractions; `official_gpt_grader` from the recorded GPT-4 grader replies (null without them), `lmms_eval_rule` the deterministic lmms-eval letter rule",
};

const scorers: { [B in BenchmarkName]: (items: readonly ItemsByBenchmark[B][]) => ScoresByBenchmark[B] } = {
  vqav2: scoreVqav2,
  gqa: scoreGqa,
  pope: scorePope,
  mme: scoreMme,
  scienceqa_img: scoreScienceQa,
  mmvp: scoreMmvp,
};

/**
 * Scores `items` by the benchmark's official rules. Items are validated first; a malformed item
 * throws `ItemError` naming its index and field.
 */
export function score<B extends BenchmarkName>(benchmark: B, items: readonly unknown[]): ScoresByBenchmark[B] {
  return scoreValidated(benchmark, validateItems(benchmark, items));
}

/** `score` for items already checked by `validateItems` or `parseItemsFile`. */
export function scoreValidated<B extends BenchmarkName>(benchmark: B, items: readonly ItemsByBenchmark[B][]): ScoresByBenchmark[B] {
  return (scorers[benchmark] as (items: readonly ItemsByBenchmark[B][]) => ScoresByBenchmark[B])(items);
}

/** `score` wrapped in the scores object that `mmfmc score --json` prints. */
export function scoresObject<B extends BenchmarkName>(benchmark: B, items: readonly unknown[]): ScoresObject<B> {
  return { benchmark, notes: scoreNotes[benchmark], expected: score(benchmark, items) };
}
