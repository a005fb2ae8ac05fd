// MME as `scripts/v1_5/eval/mme.sh` lays it out: LLaVA's `llava_mme.jsonl` and the
// `MME_Benchmark_release_version` folder, whose subtask folders hold the images and the
// question/answer files (`<name>.txt`, two tab-separated lines `question\tYes|No` per image),
// either beside the images or, for subtasks with an `images/` folder, in `questions_answers_YN/`.
// Without LLaVA's file, the questions are read from the release folder in the official order.

import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { mmeSubtasks } from "../items.js";
import { mmePrompt, mmeQuestionCandidates } from "../prompts.js";
import { pyStrip } from "../text.js";
import { BenchmarkFileError, field, isDirectory, isFile, rawId, readJsonLines, readTextFile, requireDirectory } from "./files.js";
import type { BenchmarkPaths, EvalItem } from "./types.js";

/** Where a subtask keeps its question/answer files and its images. */
async function subtaskFolders(release: string, subtask: string): Promise<{ qa: string; images: string }> {
  const dir = join(release, subtask);
  await requireDirectory("mme", dir, `MME subtask \`${subtask}\``);
  if (await isDirectory(join(dir, "images"))) return { qa: join(dir, "questions_answers_YN"), images: join(dir, "images") };
  return { qa: dir, images: dir };
}

/** The two (question, answer) lines of one question/answer file, as `line.strip().split('\t')` reads them. */
async function readQa(path: string): Promise<[string, string][]> {
  const text = await readTextFile("mme", path, "MME question/answer file");
  return text
    .split(/\r\n|\r|\n/)
    .filter((l) => l !== "")
    .map((l, i) => {
      const parts = pyStrip(l).split("\t");
      if (parts.length !== 2) throw new BenchmarkFileError("mme", path, `line ${i + 1}: expected \`question<TAB>answer\`, got ${parts.length} fields`);
      return [parts[0], parts[1]];
    });
}

export async function loadMme(paths: BenchmarkPaths, warnings: string[]): Promise<EvalItem<"mme">[]> {
  const release = paths.images;
  await requireDirectory("mme", release, "MME_Benchmark_release_version");

  if (!(await isFile(paths.annotations))) {
    warnings.push(`LLaVA's question file ${paths.annotations} is missing; questions read from ${release} with LLaVA's short-answer instruction`);
    const items: EvalItem<"mme">[] = [];
    for (const [subtask] of mmeSubtasks) {
      const { qa, images } = await subtaskFolders(release, subtask);
      const names = (await readdir(images)).filter((n) => /\.(jpg|jpeg|png)$/i.test(n)).sort();
      for (const name of names) {
        const qaFile = join(qa, `${name.split(".")[0]}.txt`);
        for (const [k, [question, answer]] of (await readQa(qaFile)).entries()) {
          const image = join(images, name);
          items.push({
            benchmark: "mme",
            id: `${subtask}/${name}#${k + 1}`,
            questionId: `${subtask}/${name}`,
            image,
            prompt: mmePrompt(question),
            scoring: { subtask, image: `${subtask}/${name}`, question, answer },
          });
        }
      }
    }
    return items;
  }

  const lines = await readJsonLines("mme", paths.annotations, "LLaVA MME question file");
  const gtCache = new Map<string, Map<string, string>>();
  const occurrences = new Map<string, number>();
  const known = new Set(mmeSubtasks.map(([name]) => name));
  const items: EvalItem<"mme">[] = [];
  for (const { line, value } of lines) {
    const where = `line ${line}`;
    const qid = field("mme", paths.annotations, where, value, "question_id", "id");
    const image = field("mme", paths.annotations, where, value, "image");
    const prompt = field("mme", paths.annotations, where, value, "text");
    // convert_answer_to_mme.py: subtask = first path part; answers in <stem up to the first dot>.txt
    const subtask = qid.split("/")[0];
    if (!known.has(subtask)) throw new BenchmarkFileError("mme", paths.annotations, `${where}: \`${subtask}\` is not an MME subtask`);
    const qaFile = join((await subtaskFolders(release, subtask)).qa, `${basename(qid).split(".")[0]}.txt`);
    let gt = gtCache.get(qaFile);
    if (!gt) gtCache.set(qaFile, (gt = new Map(await readQa(qaFile))));
    const question = mmeQuestionCandidates(prompt).find((c) => gt.has(c));
    if (question === undefined) throw new BenchmarkFileError("mme", qaFile, `no question matches ${where} of ${paths.annotations} (${JSON.stringify(prompt)})`);
    const n = (occurrences.get(qid) ?? 0) + 1;
    occurrences.set(qid, n);
    items.push({
      benchmark: "mme",
      id: `${qid}#${n}`,
      questionId: rawId(value, "question_id"),
      image: join(release, image),
      prompt,
      scoring: { subtask, image, question, answer: gt.get(question) as string },
    });
  }
  return items;
}
