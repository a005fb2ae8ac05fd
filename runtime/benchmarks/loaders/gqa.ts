// GQA testdev-balanced as `scripts/v1_5/eval/gqa.sh` lays it out: LLaVA's question file
// (`{question_id, image, text}` per line) plus the official questions file for the answers and
// question types. Without LLaVA's file, prompts are built from the official questions.

import { join } from "node:path";
import { shortAnswerPrompt } from "../prompts.js";
import { BenchmarkFileError, field, isFile, rawId, readJson, readJsonLines } from "./files.js";
import type { BenchmarkPaths, EvalItem } from "./types.js";

interface GqaQuestion {
  readonly question: string;
  readonly answer: string;
  readonly imageId: string;
  readonly structural: string;
  readonly semantic: string;
  readonly isBalanced: boolean;
}

async function readQuestions(path: string): Promise<Map<string, GqaQuestion>> {
  const data = await readJson("gqa", path, "GQA questions file");
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new BenchmarkFileError("gqa", path, "expected an object mapping question ids to questions");
  }
  const out = new Map<string, GqaQuestion>();
  for (const [qid, q] of Object.entries(data as Record<string, unknown>)) {
    const where = `question ${qid}`;
    const types = (q as { types?: unknown } | null)?.types;
    out.set(qid, {
      question: field("gqa", path, where, q, "question"),
      answer: field("gqa", path, where, q, "answer"),
      imageId: field("gqa", path, where, q, "imageId", "id"),
      structural: field("gqa", path, `${where} types`, types, "structural"),
      semantic: field("gqa", path, `${where} types`, types, "semantic"),
      isBalanced: (q as { isBalanced?: unknown }).isBalanced !== false,
    });
  }
  return out;
}

export async function loadGqa(paths: BenchmarkPaths, warnings: string[]): Promise<EvalItem<"gqa">[]> {
  const questionsPath = paths.files.questions;
  const questions = await readQuestions(questionsPath);
  const scoring = (qid: string, q: GqaQuestion) => ({ question_id: qid, question: q.question, answer: q.answer, structural: q.structural, semantic: q.semantic });

  if (!(await isFile(paths.annotations))) {
    warnings.push(`LLaVA's question file ${paths.annotations} is missing; prompts built from ${questionsPath} with LLaVA's short-answer instruction`);
    return [...questions]
      .filter(([, q]) => q.isBalanced)
      .map(([qid, q]) => ({
        benchmark: "gqa" as const,
        id: qid,
        questionId: qid,
        image: join(paths.images, `${q.imageId}.jpg`),
        prompt: shortAnswerPrompt(q.question),
        scoring: scoring(qid, q),
      }));
  }

  const lines = await readJsonLines("gqa", paths.annotations, "LLaVA GQA question file");
  return lines.map(({ line, value }) => {
    const where = `line ${line}`;
    const qid = field("gqa", paths.annotations, where, value, "question_id", "id");
    const q = questions.get(qid);
    if (!q) throw new BenchmarkFileError("gqa", paths.annotations, `${where}: question ${qid} is not in ${questionsPath}`);
    return {
      benchmark: "gqa" as const,
      id: qid,
      questionId: rawId(value, "question_id"),
      image: join(paths.images, field("gqa", paths.annotations, where, value, "image")),
      prompt: field("gqa", paths.annotations, where, value, "text"),
      scoring: scoring(qid, q),
    };
  });
}
