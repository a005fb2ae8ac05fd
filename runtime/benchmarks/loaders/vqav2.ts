// VQAv2 as `scripts/v1_5/eval/vqav2.sh` lays it out: LLaVA's question file
// (`{question_id, image, text, category}` per line) and the COCO test2015 images. Test-dev answers
// are not public (LLaVA uploads to EvalAI, see `vqav2Submission`); to score locally on a split
// that has answers (e.g. val2014), pass the official annotations as `files.answers`. Without
// LLaVA's file, the official questions file (`files.questions`) gives the prompts.

import { join } from "node:path";
import { evalAIAnswer } from "../vqa_normalize.js";
import { shortAnswerInstruction, shortAnswerPrompt } from "../prompts.js";
import { BenchmarkFileError, field, isFile, rawId, readJson, readJsonLines } from "./files.js";
import type { BenchmarkPaths, EvalItem } from "./types.js";

interface Annotation {
  readonly question_type: string;
  readonly answer_type: string;
  readonly answers: string[];
  readonly image_id?: number;
}

/** Official VQA annotations: `{ annotations: [{ question_id, question_type, answer_type, answers: [{ answer }] }] }`. */
async function readAnnotations(path: string): Promise<Map<string, Annotation>> {
  const data = (await readJson("vqav2", path, "VQA annotations file")) as { annotations?: unknown } | null;
  if (!Array.isArray(data?.annotations)) throw new BenchmarkFileError("vqav2", path, "has no `annotations` array");
  const out = new Map<string, Annotation>();
  data.annotations.forEach((a: unknown, i: number) => {
    const where = `annotation ${i}`;
    const answers = (a as { answers?: unknown }).answers;
    if (!Array.isArray(answers)) throw new BenchmarkFileError("vqav2", path, `${where}: no \`answers\` array`);
    out.set(field("vqav2", path, where, a, "question_id", "id"), {
      question_type: field("vqav2", path, where, a, "question_type"),
      answer_type: field("vqav2", path, where, a, "answer_type"),
      answers: answers.map((x, j) => field("vqav2", path, `${where} answer ${j}`, x, "answer")),
      image_id: typeof (a as { image_id?: unknown }).image_id === "number" ? (a as { image_id: number }).image_id : undefined,
    });
  });
  return out;
}

/** COCO image id from a file name like `COCO_test2015_000000262144.jpg`. */
function imageId(name: string): number | undefined {
  const m = /(\d+)\.\w+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export async function loadVqav2(paths: BenchmarkPaths, warnings: string[]): Promise<EvalItem<"vqav2">[]> {
  const answers = paths.files.answers ? await readAnnotations(paths.files.answers) : undefined;
  const scoring = (qid: string, question: string, image?: number) => {
    if (!answers) return null;
    const a = answers.get(qid);
    if (!a) throw new BenchmarkFileError("vqav2", paths.files.answers, `has no answers for question ${qid}`);
    return { question_id: Number(qid), image_id: a.image_id ?? image, question, question_type: a.question_type, answer_type: a.answer_type, answers: a.answers };
  };
  if (!answers) warnings.push("no VQA answers given (files.answers): the items cannot be scored locally; upload `vqav2Submission(...)` to EvalAI");

  if (!(await isFile(paths.annotations))) {
    const questionsPath = paths.files.questions;
    if (!questionsPath) throw new BenchmarkFileError("vqav2", paths.annotations, "missing LLaVA question file (or pass the official questions file as files.questions)");
    warnings.push(`LLaVA's question file ${paths.annotations} is missing; prompts built from ${questionsPath} with LLaVA's short-answer instruction`);
    const data = (await readJson("vqav2", questionsPath, "VQA questions file")) as { questions?: unknown; data_subtype?: unknown } | null;
    if (!Array.isArray(data?.questions)) throw new BenchmarkFileError("vqav2", questionsPath, "has no `questions` array");
    // COCO file names: test-dev questions use the test2015 images
    const subtype = typeof data.data_subtype === "string" ? data.data_subtype.replace("test-dev", "test") : "test2015";
    return data.questions.map((q: unknown, i: number) => {
      const qid = field("vqav2", questionsPath, `question ${i}`, q, "question_id", "id");
      const image = Number(field("vqav2", questionsPath, `question ${i}`, q, "image_id", "id"));
      const question = field("vqav2", questionsPath, `question ${i}`, q, "question");
      return {
        benchmark: "vqav2" as const,
        id: qid,
        questionId: rawId(q, "question_id"),
        image: join(paths.images, `COCO_${subtype}_${String(image).padStart(12, "0")}.jpg`),
        prompt: shortAnswerPrompt(question),
        scoring: scoring(qid, question, image),
      };
    });
  }

  const lines = await readJsonLines("vqav2", paths.annotations, "LLaVA VQAv2 question file");
  return lines.map(({ line, value }) => {
    const where = `line ${line}`;
    const qid = field("vqav2", paths.annotations, where, value, "question_id", "id");
    const image = field("vqav2", paths.annotations, where, value, "image");
    const prompt = field("vqav2", paths.annotations, where, value, "text");
    const question = prompt.replace(`\n${shortAnswerInstruction}`, "");
    return { benchmark: "vqav2" as const, id: qid, questionId: rawId(value, "question_id"), image: join(paths.images, image), prompt, scoring: scoring(qid, question, imageId(image)) };
  });
}

/**
 * The file LLaVA uploads to EvalAI (`convert_vqav2_for_submission.py`): one
 * `{question_id, answer}` per question of `allQuestionIds` (EvalAI wants every test2015
 * question: load `llava_vqav2_mscoco_test2015.jsonl` for the ids), the answer being the
 * EvalAI-processed prediction, or "" for a question without one.
 */
export function vqav2Submission(
  predictions: ReadonlyMap<string, string>,
  allQuestionIds: readonly (string | number)[],
): { question_id: number; answer: string }[] {
  return allQuestionIds.map((id) => {
    const p = predictions.get(String(id));
    return { question_id: Number(id), answer: p === undefined ? "" : evalAIAnswer(p) };
  });
}
