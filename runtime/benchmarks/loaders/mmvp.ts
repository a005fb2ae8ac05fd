// MMVP as its authors distribute it: `Questions.csv` (Index, Question, Options, Correct Answer)
// and `MMVP Images/<n>.jpg`, where n is the 1-based row number (`evaluate_mllm.py` uses the row
// position, not the Index column).

import { join } from "node:path";
import { mmvpPrompt, type MmvpPromptStyle } from "../prompts.js";
import { BenchmarkFileError, readCsv } from "./files.js";
import type { BenchmarkPaths, EvalItem } from "./types.js";

export async function loadMmvp(paths: BenchmarkPaths, warnings: string[], style: MmvpPromptStyle = "lmms"): Promise<EvalItem<"mmvp">[]> {
  const rows = await readCsv("mmvp", paths.annotations, "MMVP Questions.csv");
  if (rows.length === 0) throw new BenchmarkFileError("mmvp", paths.annotations, "is empty");
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const column = (...names: string[]): number => {
    const i = header.findIndex((h) => names.includes(h));
    if (i < 0) throw new BenchmarkFileError("mmvp", paths.annotations, `has no \`${names[0]}\` column (columns: ${rows[0].join(", ")})`);
    return i;
  };
  const cQuestion = column("question");
  const cOptions = column("options");
  const cAnswer = column("correct answer", "answer");
  const cIndex = header.findIndex((h) => h === "index" || h === "lndex");
  let renumbered = 0;
  const items = rows.slice(1).map((row, i) => {
    const index = i + 1;
    const cell = (c: number, name: string): string => {
      const v = row[c];
      if (v === undefined) throw new BenchmarkFileError("mmvp", paths.annotations, `row ${index + 1}: no \`${name}\` cell`);
      return v;
    };
    if (cIndex >= 0 && Number(row[cIndex]) !== index) renumbered++;
    const question = cell(cQuestion, "Question");
    const options = cell(cOptions, "Options");
    return {
      benchmark: "mmvp" as const,
      id: String(index),
      questionId: index,
      image: join(paths.images, `${index}.jpg`),
      prompt: mmvpPrompt(question, options, style),
      scoring: { index, question, options, answer: cell(cAnswer, "Correct Answer") },
    };
  });
  if (renumbered > 0) warnings.push(`${renumbered} rows of ${paths.annotations} have an Index that differs from their row number; images and pairs follow the row number, as evaluate_mllm.py does`);
  return items;
}
