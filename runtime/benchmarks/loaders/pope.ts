// POPE as `scripts/v1_5/eval/pope.sh` lays it out: LLaVA's question file
// (`{question_id, image, text, category}` per line) and POPE's label files
// `coco/coco_pope_<category>.json` (JSON lines `{question_id, image, text, label}`).
// `eval_pope.py` matches answers to labels BY POSITION within a category, and so does this.

import { join } from "node:path";
import { popeCategories } from "../pope.js";
import { shortAnswerPrompt } from "../prompts.js";
import { BenchmarkFileError, field, isFile, rawId, readJsonLines } from "./files.js";
import type { BenchmarkPaths, EvalItem } from "./types.js";

interface Label {
  readonly questionId: string;
  readonly image: string;
  readonly text: string;
  readonly label: string;
}

async function readLabels(path: string, category: string): Promise<Label[]> {
  const lines = await readJsonLines("pope", path, `POPE ${category} label file`);
  return lines.map(({ line, value }) => ({
    questionId: field("pope", path, `line ${line}`, value, "question_id", "id"),
    image: field("pope", path, `line ${line}`, value, "image"),
    text: field("pope", path, `line ${line}`, value, "text"),
    label: field("pope", path, `line ${line}`, value, "label"),
  }));
}

export async function loadPope(paths: BenchmarkPaths, warnings: string[]): Promise<EvalItem<"pope">[]> {
  const labelPath = (category: string): string => paths.files[category];

  if (!(await isFile(paths.annotations))) {
    warnings.push(`LLaVA's question file ${paths.annotations} is missing; prompts built from the POPE label files with LLaVA's short-answer instruction`);
    const items: EvalItem<"pope">[] = [];
    for (const category of popeCategories) {
      const labels = await readLabels(labelPath(category), category);
      for (const l of labels) {
        items.push({
          benchmark: "pope",
          id: `${category}/${l.questionId}`,
          questionId: `${category}/${l.questionId}`,
          image: join(paths.images, l.image),
          prompt: shortAnswerPrompt(l.text),
          scoring: { question_id: `${category}/${l.questionId}`, category, image: l.image, question: l.text, label: l.label },
        });
      }
    }
    return items;
  }

  const lines = await readJsonLines("pope", paths.annotations, "LLaVA POPE question file");
  const questions = lines.map(({ line, value }) => ({
    line,
    id: field("pope", paths.annotations, `line ${line}`, value, "question_id", "id"),
    questionId: rawId(value, "question_id"),
    image: field("pope", paths.annotations, `line ${line}`, value, "image"),
    text: field("pope", paths.annotations, `line ${line}`, value, "text"),
    category: field("pope", paths.annotations, `line ${line}`, value, "category"),
  }));
  // the label file of every category asked, read once
  const labels = new Map<string, Label[]>();
  for (const q of questions) {
    if (labels.has(q.category)) continue;
    if (!paths.files[q.category] && !(popeCategories as readonly string[]).includes(q.category)) {
      throw new BenchmarkFileError("pope", paths.annotations, `line ${q.line}: unknown category \`${q.category}\` (pass files.${q.category} with its label file)`);
    }
    labels.set(q.category, await readLabels(labelPath(q.category), q.category));
  }
  const seen = new Map<string, number>();
  let mismatched = 0;
  const out = questions.map((q) => {
    const position = seen.get(q.category) ?? 0;
    seen.set(q.category, position + 1);
    const list = labels.get(q.category) as Label[];
    const label = list[position];
    if (!label) {
      throw new BenchmarkFileError("pope", labelPath(q.category), `has ${list.length} labels but ${paths.annotations} has more ${q.category} questions (line ${q.line} is number ${position + 1})`);
    }
    if (label.image !== q.image) mismatched++;
    return {
      benchmark: "pope" as const,
      id: q.id,
      questionId: q.questionId,
      image: join(paths.images, q.image),
      prompt: q.text,
      scoring: { question_id: q.id, category: q.category, image: q.image, question: label.text, label: label.label },
    };
  });
  for (const [category, list] of labels) {
    const n = seen.get(category) ?? 0;
    if (list.length > n) warnings.push(`${labelPath(category)} has ${list.length} labels but only ${n} ${category} questions were asked; eval_pope.py scores the first ${n}`);
  }
  if (mismatched > 0) warnings.push(`${mismatched} POPE questions name a different image than the label at their position; labels are matched by position, as eval_pope.py does`);
  return out;
}
