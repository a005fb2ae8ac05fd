// The headline numbers of a benchmark's scores, as rows for a readable table (`mmfmc score`
// without `--json`). The full per-question detail is only in the JSON.

import type { BenchmarkName } from "./items.js";
import type { ScoresByBenchmark } from "./score.js";

export interface SummaryTable {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** lines printed under the table */
  readonly notes: readonly string[];
}

const pct = (x: number | null): string => (x === null ? "n/a" : x.toFixed(2));
const frac = (x: number | null): string => (x === null ? "n/a" : x.toFixed(3));

type Summarizers = { [B in BenchmarkName]: (s: ScoresByBenchmark[B]) => SummaryTable[] };

const summarizers: Summarizers = {
  vqav2: (s) => {
    const types = [...new Set([...Object.keys(s.official.accuracy.perAnswerType), ...Object.keys(s.llava_evalai.accuracy.perAnswerType)])];
    const row = (mode: string, m: typeof s.official): string[] => [mode, pct(m.accuracy.overall), ...types.map((t) => pct(m.accuracy.perAnswerType[t] ?? null))];
    return [
      {
        title: `VQAv2 accuracy (%), ${Object.keys(s.official.per_question).length} questions`,
        header: ["mode", "overall", ...types],
        rows: [row("official", s.official), row("llava_evalai", s.llava_evalai)],
        notes: ["llava_evalai: LLaVA's EvalAI answer processor, then vqaEval.py (what LLaVA uploads; server behaviour assumed)"],
      },
    ];
  },
  gqa: (s) => [
    {
      title: `GQA accuracy (%), ${Object.keys(s.per_question).length} questions`,
      header: ["metric", "value", "questions"],
      rows: [
        ["accuracy", pct(s.accuracy), String(Object.keys(s.per_question).length)],
        ["binary", pct(s.binary), ""],
        ["open", pct(s.open), ""],
        ...Object.entries(s.accuracyPerStructuralType).map(([t, [v, n]]) => [`structural ${t}`, pct(v), String(n)]),
        ...Object.entries(s.accuracyPerSemanticType).map(([t, [v, n]]) => [`semantic ${t}`, pct(v), String(n)]),
      ],
      notes: [],
    },
  ],
  pope: (s) => [
    {
      title: "POPE (fractions)",
      header: ["category", "n", "accuracy", "precision", "recall", "f1", "yes_ratio"],
      rows: [
        ...Object.entries(s.per_category).map(([c, m]) => [c, String(m.n), frac(m.accuracy), frac(m.precision), frac(m.recall), frac(m.f1), frac(m.yes_ratio)]),
        ["mean", "", frac(s.mean_over_categories.accuracy), frac(s.mean_over_categories.precision), frac(s.mean_over_categories.recall), frac(s.mean_over_categories.f1), frac(s.mean_over_categories.yes_ratio)],
      ],
      notes: ["mean: plain mean over the categories (the script prints no overall number)"],
    },
  ],
  mme: (s) => [
    {
      title: "MME",
      header: ["subtask", "category", "score", "acc", "acc+", "images", "other"],
      rows: [
        ...Object.entries(s.subtasks).map(([name, t]) => [name, t.category, t.score.toFixed(2), pct(100 * t.acc), pct(100 * t.acc_plus), String(t.images), String(t.other_num)]),
        ["Perception", "", s.perception_total.toFixed(2), "", "", "", ""],
        ["Cognition", "", s.cognition_total.toFixed(2), "", "", "", ""],
      ],
      notes: [],
    },
  ],
  scienceqa_img: (s) => [
    {
      title: "ScienceQA (%)",
      header: ["subset", "accuracy", "correct", "problems"],
      rows: [
        ["IMG", pct(s.img_acc), String(s.img_correct), String(s.img_count)],
        ["all", pct(s.acc), String(s.correct), String(s.count)],
      ],
      notes: ["IMG: problems with an image and a prediction (the number LLaVA-1.5 and LLaVA-Gemma report)"],
    },
  ],
  mmvp: (s) => [
    {
      title: "MMVP (fractions)",
      header: ["rule", "pair_accuracy", "pairs", "accuracy"],
      rows: [
        ...(s.official_gpt_grader
          ? [["official_gpt_grader", frac(s.official_gpt_grader.pair_accuracy), `${s.official_gpt_grader.correct_pairs}/${s.official_gpt_grader.pairs}`, ""]]
          : []),
        ["lmms_eval_rule", frac(s.lmms_eval_rule.pair_accuracy), `${s.lmms_eval_rule.correct_pairs}/${s.lmms_eval_rule.pairs}`, frac(s.lmms_eval_rule.accuracy)],
      ],
      notes: s.official_gpt_grader ? [] : ["official_gpt_grader: not computed (the items carry no `judge` replies)"],
    },
  ],
};

export function summarizeScores<B extends BenchmarkName>(benchmark: B, scores: ScoresByBenchmark[B]): SummaryTable[] {
  return (summarizers[benchmark] as (s: ScoresByBenchmark[B]) => SummaryTable[])(scores);
}

/** Renders tables with columns padded to their widest cell (the first column left-aligned). */
export function renderTables(tables: readonly SummaryTable[]): string {
  const out: string[] = [];
  for (const t of tables) {
    const all = [t.header, ...t.rows];
    const widths = t.header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
    const line = (r: readonly string[]): string =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ").trimEnd();
    out.push(t.title, line(t.header), ...t.rows.map(line), ...t.notes.map((n) => `note: ${n}`), "");
  }
  return out.join("\n").trimEnd() + "\n";
}
