// The benchmark loaders on tiny copies of each benchmark's usual layout (LLaVA's eval folders),
// built in a temporary folder: prompts as LLaVA asks them, ground truth for scoring, the
// official-files fallbacks, and errors naming the missing path.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { benchmarkLayouts, BenchmarkFileError, loadBenchmark, score, toScoringItems, vqav2Submission, withImageToken } from "../../runtime/benchmarks/index.js";

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "mmfm-bench-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}
const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const SHORT = "\nAnswer the question using a single word or phrase.";
const LETTER = "\nAnswer with the option's letter from the given choices directly.";

describe("gqa loader", () => {
  const base = "playground/data/eval/gqa";
  const questions = {
    "201": { imageId: "n1", question: "Is it overcast?", answer: "no", isBalanced: true, types: { structural: "verify", semantic: "global", detailed: "x" } },
    "202": { imageId: "n2", question: "What is on the table?", answer: "cup", isBalanced: true, types: { structural: "query", semantic: "obj", detailed: "y" } },
  };
  const files = {
    [`${base}/llava_gqa_testdev_balanced.jsonl`]: jsonl([
      { question_id: "201", image: "n1.jpg", text: `Is it overcast?${SHORT}` },
      { question_id: "202", image: "n2.jpg", text: `What is on the table?${SHORT}` },
    ]),
    [`${base}/data/testdev_balanced_questions.json`]: JSON.stringify(questions),
    [`${base}/data/images/n1.jpg`]: "",
    [`${base}/data/images/n2.jpg`]: "",
  };

  it("reads LLaVA's question file and the official answers, and scores end to end", async () => {
    const root = tree(files);
    const loaded = await loadBenchmark("gqa", { root });
    expect(loaded.items.map((i) => i.id)).toEqual(["201", "202"]);
    expect(loaded.items[0].prompt).toBe(`Is it overcast?${SHORT}`);
    expect(loaded.items[0].image).toBe(join(root, base, "data/images/n1.jpg"));
    expect(loaded.items[1].scoring).toEqual({ question_id: "202", question: "What is on the table?", answer: "cup", structural: "query", semantic: "obj" });
    expect(loaded.generation).toMatchObject({ temperature: 0, maxNewTokens: 128 });
    expect(loaded.warnings).toEqual([]);
    const file = toScoringItems(loaded.items, new Map([["201", "No."], ["202", "a cup"]]));
    expect(file.items[0]).toMatchObject({ question_id: "201", prediction: "No." });
    const scores = score("gqa", file.items);
    expect(scores.accuracy).toBe(50);
    expect(scores.per_question["202"]).toEqual({ converted_prediction: "a cup", correct: false });
  });

  it("accepts the benchmark folder as `annotations` and finds companions relative to it", async () => {
    const root = tree(files);
    const loaded = await loadBenchmark("gqa", { annotations: join(root, base) });
    expect(loaded.files.questions).toBe(join(root, base, "data/testdev_balanced_questions.json"));
    expect(loaded.items).toHaveLength(2);
  });

  it("builds prompts from the official questions when LLaVA's file is missing", async () => {
    const { [`${base}/llava_gqa_testdev_balanced.jsonl`]: _, ...rest } = files;
    const loaded = await loadBenchmark("gqa", { root: tree(rest) });
    expect(loaded.items.map((i) => i.prompt)).toEqual([`Is it overcast?${SHORT}`, `What is on the table?${SHORT}`]);
    expect(loaded.warnings[0]).toContain("llava_gqa_testdev_balanced.jsonl is missing");
  });

  it("names the missing companion file and the layout it belongs to", async () => {
    const { [`${base}/data/testdev_balanced_questions.json`]: _, ...rest } = files;
    const root = tree(rest);
    const error = await loadBenchmark("gqa", { root }).catch((e) => e);
    expect(error).toBeInstanceOf(BenchmarkFileError);
    expect(error.message).toBe(`gqa: ${join(root, base, "data/testdev_balanced_questions.json")}: missing GQA questions file (see \`benchmarkLayouts.gqa\` in docs/evaluation.md)`);
  });

  it("fails on missing images, naming how many and which, unless told not to check", async () => {
    const { [`${base}/data/images/n2.jpg`]: _, ...rest } = files;
    const root = tree(rest);
    await expect(loadBenchmark("gqa", { root })).rejects.toThrow(`1 of 2 images are missing (${join(root, base, "data/images/n2.jpg")})`);
    expect((await loadBenchmark("gqa", { root, checkImages: false })).items).toHaveLength(2);
  });
});

describe("pope loader", () => {
  const base = "playground/data/eval/pope";
  const q = (id: number, category: string, image: string) => ({ question_id: id, image, text: `Is there a dog in the image?${SHORT}`, category });
  const labels = (rows: [string, string][]) => jsonl(rows.map(([image, label], i) => ({ question_id: i + 1, image, text: "Is there a dog in the image?", label })));
  const files = {
    [`${base}/llava_pope_test.jsonl`]: jsonl([q(1, "adversarial", "a.jpg"), q(2, "random", "b.jpg"), q(3, "adversarial", "c.jpg"), q(4, "popular", "a.jpg")]),
    [`${base}/coco/coco_pope_adversarial.json`]: labels([["a.jpg", "yes"], ["c.jpg", "no"]]),
    [`${base}/coco/coco_pope_popular.json`]: labels([["a.jpg", "no"]]),
    [`${base}/coco/coco_pope_random.json`]: labels([["b.jpg", "yes"], ["x.jpg", "no"]]),
    [`${base}/val2014/a.jpg`]: "",
    [`${base}/val2014/b.jpg`]: "",
    [`${base}/val2014/c.jpg`]: "",
  };

  it("matches labels by position within each category, as eval_pope.py does", async () => {
    const loaded = await loadBenchmark("pope", { root: tree(files) });
    expect(loaded.items.map((i) => [i.id, i.scoring?.category, i.scoring?.label])).toEqual([
      ["1", "adversarial", "yes"],
      ["2", "random", "yes"],
      ["3", "adversarial", "no"],
      ["4", "popular", "no"],
    ]);
    expect(loaded.items[0].prompt).toBe(`Is there a dog in the image?${SHORT}`);
    expect(loaded.warnings.join("\n")).toContain("has 2 labels but only 1 random questions were asked");
    const scores = score("pope", toScoringItems(loaded.items, ["Yes", "Yes", "No", "No"]).items);
    expect(scores.per_category.adversarial).toMatchObject({ TP: 1, TN: 1, FP: 0, FN: 0, accuracy: 1 });
  });

  it("says which label file is too short", async () => {
    const root = tree({ ...files, [`${base}/coco/coco_pope_adversarial.json`]: labels([["a.jpg", "yes"]]) });
    await expect(loadBenchmark("pope", { root })).rejects.toThrow(
      `pope: ${join(root, base, "coco/coco_pope_adversarial.json")}: has 1 labels but ${join(root, base, "llava_pope_test.jsonl")} has more adversarial questions (line 3 is number 2)`,
    );
  });

  it("builds the questions from the label files when LLaVA's file is missing", async () => {
    const { [`${base}/llava_pope_test.jsonl`]: _, ...rest } = files;
    const loaded = await loadBenchmark("pope", { root: tree({ ...rest, [`${base}/val2014/x.jpg`]: "" }) });
    expect(loaded.items.map((i) => i.id)).toEqual(["adversarial/1", "adversarial/2", "popular/1", "random/1", "random/2"]);
    expect(loaded.items[0].prompt).toBe(`Is there a dog in the image?${SHORT}`);
  });
});

describe("mme loader", () => {
  const base = "playground/data/eval/MME";
  const release = `${base}/MME_Benchmark_release_version`;
  const files = {
    // a flat subtask (images and .txt side by side) and one with images/ + questions_answers_YN/
    [`${release}/code_reasoning/0020.png`]: "",
    [`${release}/code_reasoning/0020.txt`]: "Is a c++ code shown in the picture? Please answer yes or no.\tYes\nIs a python code shown in the picture? Please answer yes or no.\tNo\n",
    [`${release}/artwork/images/10002.jpg`]: "",
    [`${release}/artwork/questions_answers_YN/10002.txt`]: "Is this artwork by Monet?  Please answer yes or no.\tNo\r\nIs this artwork by Titian? Please answer yes or no.\tYes\r\n",
    [`${base}/llava_mme.jsonl`]: jsonl([
      { question_id: "code_reasoning/0020.png", image: "code_reasoning/0020.png", text: `Is a c++ code shown in the picture?${SHORT}`, category: "code_reasoning" },
      { question_id: "code_reasoning/0020.png", image: "code_reasoning/0020.png", text: `Is a python code shown in the picture?${SHORT}`, category: "code_reasoning" },
      { question_id: "artwork/images/10002.jpg", image: "artwork/images/10002.jpg", text: `Is this artwork by Monet?${SHORT}`, category: "artwork" },
      { question_id: "artwork/images/10002.jpg", image: "artwork/images/10002.jpg", text: `Is this artwork by Titian?${SHORT}`, category: "artwork" },
    ]),
  };

  it("finds each question's answer as convert_answer_to_mme.py does (including the two-space variant)", async () => {
    const root = tree(files);
    const loaded = await loadBenchmark("mme", { root });
    expect(loaded.items.map((i) => i.id)).toEqual(["code_reasoning/0020.png#1", "code_reasoning/0020.png#2", "artwork/images/10002.jpg#1", "artwork/images/10002.jpg#2"]);
    expect(loaded.items.map((i) => i.scoring?.answer)).toEqual(["Yes", "No", "No", "Yes"]);
    expect(loaded.items[2].scoring?.question).toBe("Is this artwork by Monet?  Please answer yes or no.");
    expect(loaded.items[2].image).toBe(join(root, release, "artwork/images/10002.jpg"));
    const scores = score("mme", toScoringItems(loaded.items, ["Yes", "No", "No", "no"]).items);
    expect(scores.subtasks.code_reasoning).toMatchObject({ score: 200, acc_plus: 1 });
    expect(scores.subtasks.artwork).toMatchObject({ acc: 0.5, acc_plus: 0, score: 50 });
  });

  it("reads the release folder in the official subtask order when LLaVA's file is missing", async () => {
    const { [`${base}/llava_mme.jsonl`]: _, ...rest } = files;
    const root = tree(rest);
    // the other 12 subtasks must exist as folders: the fallback reads all 14
    const empty: Record<string, string> = {};
    for (const s of ["existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark", "OCR", "commonsense_reasoning", "numerical_calculation", "text_translation"]) {
      empty[`${release}/${s}/.keep`] = "";
    }
    const loaded = await loadBenchmark("mme", { root: tree({ ...rest, ...empty }) });
    expect(loaded.items.map((i) => i.prompt)).toEqual([
      `Is this artwork by Monet?${SHORT}`,
      `Is this artwork by Titian?${SHORT}`,
      `Is a c++ code shown in the picture?${SHORT}`,
      `Is a python code shown in the picture?${SHORT}`,
    ]);
    await expect(loadBenchmark("mme", { root })).rejects.toThrow("missing MME subtask `existence` folder");
  });
});

describe("scienceqa loader", () => {
  const base = "playground/data/eval/scienceqa";
  const problems = {
    "4": { question: "Which figure of speech is used?", choices: ["chiasmus", "apostrophe"], answer: 1, hint: "", image: null },
    "5": { question: "Which state is farthest north?", choices: ["West Virginia", "Louisiana", "Arizona"], answer: 0, hint: "Select the best answer.  ", image: "image.png" },
  };
  const cqm = (p: { question: string; choices: string[]; hint: string }) =>
    `Context: ${p.hint.trim() || "N/A"}\nQuestion: ${p.question}\nOptions: ${p.choices.map((c, i) => `(${"ABCDE"[i]}) ${c}`).join(" ")}`;
  const files = {
    [`${base}/problems.json`]: JSON.stringify(problems),
    [`${base}/pid_splits.json`]: JSON.stringify({ test: ["4", "5"], train: ["1"] }),
    [`${base}/images/test/5/image.png`]: "",
    [`${base}/llava_test_CQM-A.json`]: JSON.stringify([
      { id: "4", conversations: [{ from: "human", value: cqm(problems["4"]) }, { from: "gpt", value: "B" }] },
      { id: "5", image: "5/image.png", conversations: [{ from: "human", value: `${cqm(problems["5"])}\n<image>` }, { from: "gpt", value: "A" }] },
    ]),
  };

  it("asks the file's question without <image>, with the option-letter instruction", async () => {
    const root = tree(files);
    const loaded = await loadBenchmark("scienceqa_img", { root });
    expect(loaded.items[0]).toMatchObject({ id: "4", image: null });
    expect(loaded.items[0].prompt).toBe(`Context: N/A\nQuestion: Which figure of speech is used?\nOptions: (A) chiasmus (B) apostrophe${LETTER}`);
    expect(loaded.items[1].image).toBe(join(root, base, "images/test/5/image.png"));
    expect(loaded.items[1].prompt).toBe(`Context: Select the best answer.\nQuestion: Which state is farthest north?\nOptions: (A) West Virginia (B) Louisiana (C) Arizona${LETTER}`);
    expect(withImageToken(loaded.items[1].prompt, true)).toBe(`<image>\n${loaded.items[1].prompt}`);
    expect(loaded.generation.maxNewTokens).toBe(1024);
    const scores = score("scienceqa_img", toScoringItems(loaded.items, ["B", null]).items);
    expect(scores).toMatchObject({ correct: 1, count: 2, img_count: 0, img_acc: null });
  });

  it("builds the same CQM-A questions from problems.json when LLaVA's file is missing", async () => {
    const { [`${base}/llava_test_CQM-A.json`]: _, ...rest } = files;
    const withFile = await loadBenchmark("scienceqa_img", { root: tree(files) });
    const without = await loadBenchmark("scienceqa_img", { root: tree(rest) });
    expect(without.items.map((i) => i.prompt)).toEqual(withFile.items.map((i) => i.prompt));
    expect(without.items.map((i) => i.scoring?.has_image)).toEqual([false, true]);
  });
});

describe("mmvp loader", () => {
  const base = "playground/data/eval/mmvp";
  const csv = [
    "lndex,Question,Options,Correct Answer",
    '1,"Are the butterfly\'s wings closer to being open or closed?","(a) Open (b) Closed","(a)"',
    '2,"Are the butterfly\'s wings closer to being open or closed?","(a) Open (b) Closed","(b)"',
    '3,"Is the dog ""facing"" left, or right?","(a) Left (b) Right","(b)"',
  ].join("\r\n");
  const files = {
    [`${base}/Questions.csv`]: csv,
    [`${base}/MMVP Images/1.jpg`]: "",
    [`${base}/MMVP Images/2.jpg`]: "",
    [`${base}/MMVP Images/3.jpg`]: "",
  };

  it("parses the CSV (quotes, commas, CRLF) and lists the options as lmms-eval does", async () => {
    const root = tree(files);
    const loaded = await loadBenchmark("mmvp", { root });
    expect(loaded.items.map((i) => i.id)).toEqual(["1", "2", "3"]);
    expect(loaded.items[0].image).toBe(join(root, base, "MMVP Images/1.jpg"));
    expect(loaded.items[0].prompt).toBe(`Are the butterfly's wings closer to being open or closed?\nA. Open\nB. Closed${LETTER}`);
    expect(loaded.items[2].scoring).toEqual({ index: 3, question: 'Is the dog "facing" left, or right?', options: "(a) Left (b) Right", answer: "(b)" });
    const official = await loadBenchmark("mmvp", { root, mmvpPromptStyle: "official" });
    expect(official.items[0].prompt).toBe("Are the butterfly's wings closer to being open or closed? (a) Open (b) Closed");
    // a limit keeps whole pairs
    expect((await loadBenchmark("mmvp", { root, limit: 3 })).items).toHaveLength(2);
    const file = toScoringItems(loaded.items, ["A", "(b)", "B"], { judges: new Map([["1", "Yes"], ["2", "yes"], ["3", "No"]]) });
    const scores = score("mmvp", file.items);
    expect(scores.lmms_eval_rule).toMatchObject({ correct: 3, pairs: 1, correct_pairs: 1 });
    expect(scores.official_gpt_grader).toMatchObject({ pairs: 1, correct_pairs: 1 });
    expect(score("mmvp", toScoringItems(loaded.items, ["A", "B", "B"]).items).official_gpt_grader).toBeNull();
  });
});

describe("vqav2 loader", () => {
  const base = "playground/data/eval/vqav2";
  const files = {
    [`${base}/llava_vqav2_mscoco_test-dev2015.jsonl`]: jsonl([
      { question_id: 262144000, image: "COCO_test2015_000000262144.jpg", text: `Is the ball flying towards the batter?${SHORT}`, category: "default" },
    ]),
    [`${base}/test2015/COCO_test2015_000000262144.jpg`]: "",
  };

  it("loads test-dev without answers: no local scoring, an EvalAI upload instead", async () => {
    const loaded = await loadBenchmark("vqav2", { root: tree(files) });
    expect(loaded.items[0]).toMatchObject({ id: "262144000", prompt: `Is the ball flying towards the batter?${SHORT}`, scoring: null });
    expect(loaded.warnings[0]).toContain("cannot be scored locally");
    expect(() => toScoringItems(loaded.items, ["Yes"])).toThrow("has no ground truth");
    expect(vqav2Submission(new Map([["262144000", "Yes, it is."]]), [262144000, 262144001])).toEqual([
      { question_id: 262144000, answer: "yes it is" },
      { question_id: 262144001, answer: "" },
    ]);
  });

  it("scores locally with official annotations", async () => {
    const answers = { annotations: [{ question_id: 262144000, image_id: 262144, question_type: "is the", answer_type: "yes/no", answers: Array.from({ length: 10 }, (_, i) => ({ answer: i < 9 ? "yes" : "no", answer_id: i + 1 })) }] };
    const root = tree({ ...files, "ann/v2_annotations.json": JSON.stringify(answers) });
    const loaded = await loadBenchmark("vqav2", { root, files: { answers: "ann/v2_annotations.json" } });
    expect(loaded.items[0].scoring).toMatchObject({ question_id: 262144000, question: "Is the ball flying towards the batter?", answer_type: "yes/no" });
    const scores = score("vqav2", toScoringItems(loaded.items, ["Yes"]).items);
    expect(scores.official.accuracy.overall).toBe(100);
  });
});

describe("benchmarkLayouts", () => {
  it("places every benchmark under playground/data/eval as LLaVA's scripts do", () => {
    expect(benchmarkLayouts.gqa.annotations).toBe("playground/data/eval/gqa/llava_gqa_testdev_balanced.jsonl");
    expect(benchmarkLayouts.mme.images).toBe("playground/data/eval/MME/MME_Benchmark_release_version");
    expect(benchmarkLayouts.pope.files.adversarial).toBe("playground/data/eval/pope/coco/coco_pope_adversarial.json");
    expect(benchmarkLayouts.scienceqa_img.images).toBe("playground/data/eval/scienceqa/images/test");
    for (const layout of Object.values(benchmarkLayouts)) {
      for (const path of [layout.annotations, layout.images, ...Object.values(layout.files)]) expect(path.startsWith(`${layout.dir}/`)).toBe(true);
    }
  });
});
