// ScienceQA as `scripts/v1_5/eval/sqa.sh` lays it out: LLaVA's `llava_test_CQM-A.json`
// (conversations whose first human turn is the question), `problems.json` (choices, answer)
// and `pid_splits.json`, images in `images/test/<id>/image.png`. Without LLaVA's file, the CQM-A
// questions are built from `problems.json` for the `test` split, as `convert_sqa_to_llava.py` does.

import { join } from "node:path";
import { scienceQaPrompt, scienceQaQuestion, type ScienceQaProblem } from "../prompts.js";
import { BenchmarkFileError, isFile, readJson } from "./files.js";
import type { BenchmarkPaths, EvalItem } from "./types.js";

function asProblem(path: string, id: string, raw: unknown): ScienceQaProblem {
  const p = raw as Partial<ScienceQaProblem> | null;
  if (typeof p !== "object" || p === null) throw new BenchmarkFileError("scienceqa_img", path, `problem ${id}: expected an object`);
  if (typeof p.question !== "string") throw new BenchmarkFileError("scienceqa_img", path, `problem ${id}: field \`question\` is not a string`);
  if (!Array.isArray(p.choices) || p.choices.some((c) => typeof c !== "string")) {
    throw new BenchmarkFileError("scienceqa_img", path, `problem ${id}: field \`choices\` is not an array of strings`);
  }
  if (typeof p.answer !== "number" || !Number.isInteger(p.answer)) throw new BenchmarkFileError("scienceqa_img", path, `problem ${id}: field \`answer\` is not an integer`);
  return p as ScienceQaProblem;
}

async function readSplit(path: string, split: string): Promise<string[]> {
  const data = (await readJson("scienceqa_img", path, "ScienceQA split file")) as Record<string, unknown> | null;
  const ids = data?.[split];
  if (!Array.isArray(ids)) throw new BenchmarkFileError("scienceqa_img", path, `has no \`${split}\` list of problem ids`);
  return ids.map(String);
}

export async function loadScienceQa(paths: BenchmarkPaths, warnings: string[]): Promise<EvalItem<"scienceqa_img">[]> {
  const problemsPath = paths.files.problems;
  const problems = (await readJson("scienceqa_img", problemsPath, "ScienceQA problems file")) as Record<string, unknown>;
  if (typeof problems !== "object" || problems === null || Array.isArray(problems)) {
    throw new BenchmarkFileError("scienceqa_img", problemsPath, "expected an object mapping problem ids to problems");
  }
  const problem = (id: string, where: string, file: string): ScienceQaProblem => {
    if (!(id in problems)) throw new BenchmarkFileError("scienceqa_img", file, `${where}: problem ${id} is not in ${problemsPath}`);
    return asProblem(problemsPath, id, problems[id]);
  };
  const split = await readSplit(paths.files.splits, "test");

  if (!(await isFile(paths.annotations))) {
    warnings.push(`LLaVA's question file ${paths.annotations} is missing; CQM-A questions built from ${problemsPath} for the test split`);
    return split.map((id) => {
      const p = problem(id, "test split", paths.files.splits);
      const image = typeof p.image === "string" ? join(paths.images, id, p.image) : null;
      return {
        benchmark: "scienceqa_img" as const,
        id,
        questionId: id,
        image,
        prompt: scienceQaPrompt(scienceQaQuestion(p)),
        scoring: { question_id: id, question: p.question, choices: p.choices, answer: p.answer, has_image: image !== null },
      };
    });
  }

  const data = await readJson("scienceqa_img", paths.annotations, "LLaVA ScienceQA question file");
  if (!Array.isArray(data)) throw new BenchmarkFileError("scienceqa_img", paths.annotations, "expected an array of questions");
  const items = data.map((entry, i) => {
    const where = `question ${i}`;
    const e = entry as { id?: unknown; image?: unknown; conversations?: { value?: unknown }[] } | null;
    if (typeof e !== "object" || e === null) throw new BenchmarkFileError("scienceqa_img", paths.annotations, `${where}: expected an object`);
    if (typeof e.id !== "string" && typeof e.id !== "number") throw new BenchmarkFileError("scienceqa_img", paths.annotations, `${where}: field \`id\` is missing`);
    const id = String(e.id);
    const human = Array.isArray(e.conversations) ? e.conversations[0]?.value : undefined;
    if (typeof human !== "string") throw new BenchmarkFileError("scienceqa_img", paths.annotations, `${where} (id ${id}): no human turn with the question`);
    const p = problem(id, where, paths.annotations);
    // model_vqa_science.py: an image iff the entry names one
    const image = typeof e.image === "string" ? join(paths.images, e.image) : null;
    return {
      benchmark: "scienceqa_img" as const,
      id,
      questionId: e.id,
      image,
      prompt: scienceQaPrompt(human),
      scoring: { question_id: id, question: p.question, choices: p.choices, answer: p.answer, has_image: image !== null },
    };
  });
  const asked = new Set(items.map((i) => i.id));
  const unasked = split.filter((id) => !asked.has(id)).length;
  if (unasked > 0) warnings.push(`${unasked} test-split problems are not in ${paths.annotations}; eval_science_qa.py would count them as failed`);
  return items;
}
