// An eval stage on the LLaVA-layout fixtures (test/fixtures/llava_eval) with a scripted generator:
// the prompts reach the model, the model's answers reach LLaVA's answers files and the scorers, and
// the scores are the ones worked out by hand below; a crashed stage resumes from its answers files;
// VQAv2 test-dev ends with the EvalAI upload.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile, planExperiments } from "../../compiler/pipeline.js";
import { answerId, answerLine, parseAnswers, pythonJson } from "../../runtime/benchmarks/answers.js";
import { loadTokenizer, type TextTokenizer } from "../../runtime/data/index.js";
import type { PretrainedModel } from "../../runtime/models/index.js";
import { RunDataError } from "../../runtime/run/data.js";
import { evalStage, type Generator } from "../../runtime/run/eval.js";
import { RunStore } from "../../runtime/run/store.js";
import type { EvalStagePlan, Plan } from "../../plan/plan.js";
import { tf } from "../../runtime/tf.js";
import { repo, tempDir } from "../helpers.js";

const fixtures = join(repo, "test", "fixtures", "llava_eval");
const SHORT = "\nAnswer the question using a single word or phrase.";
const LETTER = "\nAnswer with the option's letter from the given choices directly.";

/** The model's answers, in the order the stage asks: gqa, pope, mme, scienceqa_img, vqav2, mmvp. */
const script = {
  // truth: yes, no, red, blue -> 3 of 4 right after GQA's conversion (trailing period, lower case)
  gqa: ["yes", "No", "Red.", "red"],
  // truth by category: adversarial yes/no, popular no/yes, random yes/no
  pope: ["Yes", "No, there is not.", "Yes.", "yes", "yes", "No"],
  // existence (Yes No, No Yes) right; artwork (Yes No) half right; code_reasoning (Yes No) right
  mme: ["Yes", "No", "No", "Yes", "Yes", "Yes", "yes", "no"],
  // truth A, B, B: 1001 right, 1002 wrong, 1003 (no image) right
  scienceqa_img: ["A", "The answer is C.", "B"],
  vqav2: [" Red ", "2", "Yes."],
  // truth (a) (b) (a) (b): the first pair right, the second not
  mmvp: ["A", "B", "A", "A"],
};
const answers = Object.values(script).flat();

let tokenizer: TextTokenizer;
let plan: Plan;
let stage: EvalStagePlan;

beforeAll(async () => {
  await tf.setBackend("cpu");
  tokenizer = await loadTokenizer(join(fixtures, "tokenizer"));
  const compilation = compile(join(fixtures, "run.mmfm"));
  expect(compilation.diagnostics.hasErrors).toBe(false);
  plan = planExperiments(compilation, { specPath: join(fixtures, "run.mmfm"), outDir: tempDir() })[0].plans[0];
  stage = plan.stages[1] as EvalStagePlan;
});

/** A generator that gives the k-th scripted answer to the k-th question it is asked, and records the prompts. */
function scripted(replies: readonly string[], asked: string[]): Generator {
  return async (_model, options) => {
    const rows = options.inputIds.arraySync() as number[][];
    return rows.map((row) => {
      asked.push(tokenizer.decode(row, { skipSpecial: true }));
      const reply = replies[asked.length - 1];
      if (reply === undefined) throw new Error(`asked ${asked.length} questions, scripted ${replies.length}`);
      return [...tokenizer.encodeText(reply), tokenizer.tokenId("<end_of_turn>")!];
    });
  };
}

function run(store: RunStore, generator: Generator, emit: (e: unknown) => void = () => {}) {
  return evalStage({
    model: {} as PretrainedModel, // the scripted generator never looks at it
    plan,
    stage,
    aspect: "crop",
    store,
    data: { specDir: fixtures, cacheDir: join(store.dir, "data") },
    tokenizer,
    variant: plan.id,
    weightsFrom: null,
    emit,
    generator,
  });
}

const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean);

describe("an eval stage", () => {
  it("asks each benchmark's questions as LLaVA does and scores the answers by the official rules", async () => {
    const store = new RunStore(tempDir("mmfm-eval-"));
    const asked: string[] = [];
    const record = await run(store, scripted(answers, asked));
    expect(asked).toHaveLength(answers.length);
    expect(asked[0]).toContain(`Is the square red?${SHORT}`);
    expect(asked[5]).toContain("Is there a cat in the image?");
    expect(asked[18]).toContain(`Context: N/A\nQuestion: Which color is the square?\nOptions: (A) red (B) blue${LETTER}`);
    expect(record.metrics).toEqual({
      "gqa.accuracy": 75,
      "pope.accuracy": (1 + 0.5 + 1) / 3,
      "pope.f1": (1 + 2 / 3 + 1) / 3,
      "mme.perception": 200 + 50,
      "mme.cognition": 200,
      "scienceqa_img.img_accuracy": 50,
      "mmvp.pair_accuracy": 0.5,
    });
    const items = JSON.parse(readFileSync(join(store.stageDir(stage.cache_key), "gqa.items.json"), "utf8"));
    expect(items.items.map((i: { prediction: string }) => i.prediction)).toEqual(script.gqa);
  });

  it("writes LLaVA's answers file per benchmark: question ids with their types, the script's prompt, the stripped answer", async () => {
    const store = new RunStore(tempDir("mmfm-eval-"));
    await run(store, scripted(answers, []));
    const dir = store.stageDir(stage.cache_key);
    const parsed = (name: string) => lines(join(dir, `${name}.answers.jsonl`)).map((l) => JSON.parse(l));
    for (const name of Object.keys(script)) {
      for (const line of lines(join(dir, `${name}.answers.jsonl`))) {
        expect(Object.keys(JSON.parse(line))).toEqual(["question_id", "prompt", "text", "answer_id", "model_id", "metadata"]);
        // Python's json.dumps layout: ", " and ": " separators
        expect(line).toMatch(/^\{"question_id": ("[^"]*"|\d+), "prompt": ".*", "text": ".*", "answer_id": "[2-9A-HJ-NP-Za-km-z]{22}", "model_id": "fixtures\/default", "metadata": \{\}\}$/);
      }
    }
    expect(parsed("gqa").map((l) => l.question_id)).toEqual(["20001", "20002", "20003", "20004"]);
    expect(parsed("pope").map((l) => l.question_id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parsed("vqav2").map((l) => l.question_id)).toEqual([1001000, 1001001, 1002000]);
    expect(parsed("mmvp").map((l) => l.question_id)).toEqual([1, 2, 3, 4]);
    expect(parsed("mme").map((l) => l.question_id).slice(0, 3)).toEqual(["existence/000000000001.jpg", "existence/000000000001.jpg", "existence/000000000002.jpg"]);
    expect(parsed("gqa")[0].prompt).toBe(`Is the square red?${SHORT}`);
    // model_vqa_science.py: "<image>\n" before the question when the problem has an image
    expect(parsed("scienceqa_img").map((l) => l.prompt)).toEqual([
      `<image>\nContext: N/A\nQuestion: Which color is the square?\nOptions: (A) red (B) blue${LETTER}`,
      `<image>\nContext: Look at the picture.\nQuestion: Which color is the square?\nOptions: (A) green (B) blue (C) red${LETTER}`,
      `Context: N/A\nQuestion: Which word is a color?\nOptions: (A) square (B) red${LETTER}`,
    ]);
    expect(parsed("vqav2").map((l) => l.text)).toEqual(["Red", "2", "Yes."]);
    // answer ids: from the stage, the benchmark and the question (MME's two questions per image apart)
    const mme = parsed("mme");
    expect(mme[0].answer_id).toBe(answerId(stage.cache_key, "mme", "existence/000000000001.jpg", "1"));
    expect(mme[1].answer_id).toBe(answerId(stage.cache_key, "mme", "existence/000000000001.jpg", "2"));
    expect(new Set(mme.map((l) => l.answer_id)).size).toBe(8);
    // the same answers give the same bytes
    const again = new RunStore(tempDir("mmfm-eval-"));
    await run(again, scripted(answers, []));
    expect(readFileSync(join(again.stageDir(stage.cache_key), "mme.answers.jsonl"), "utf8")).toBe(readFileSync(join(dir, "mme.answers.jsonl"), "utf8"));
  });

  it("resumes from the answers files: answered questions are not asked again, none is lost or repeated", async () => {
    const store = new RunStore(tempDir("mmfm-eval-"));
    const full = new RunStore(tempDir("mmfm-eval-"));
    await run(full, scripted(answers, []));
    const whole = readFileSync(join(full.stageDir(stage.cache_key), "gqa.answers.jsonl"), "utf8");
    // a crash left two GQA answers and half of a third line, and nothing for the other benchmarks
    const [first, second, third] = whole.split("\n");
    const dir = store.stageDir(stage.cache_key);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "gqa.answers.jsonl"), `${first}\n${second}\n${third.slice(0, 30)}`);
    const asked: string[] = [];
    const record = await run(store, scripted(answers.slice(2), asked));
    expect(asked).toHaveLength(answers.length - 2);
    expect(asked[0]).toContain("What color is the square?");
    expect(readFileSync(join(dir, "gqa.answers.jsonl"), "utf8")).toBe(whole);
    expect(record.metrics?.["gqa.accuracy"]).toBe(75);
  });

  it("refuses an answers file of other questions, naming it", async () => {
    const store = new RunStore(tempDir("mmfm-eval-"));
    const dir = store.stageDir(stage.cache_key);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "gqa.answers.jsonl"), `{"question_id": "99999", "prompt": "?", "text": "yes", "answer_id": "x", "model_id": "m", "metadata": {}}\n`);
    const error = await run(store, scripted(answers, [])).catch((e) => e);
    expect(error).toBeInstanceOf(RunDataError);
    expect(error.message).toContain(`${join(dir, "gqa.answers.jsonl")}: line 1 answers question "99999", but question 1 of gqa is "20001"; delete the file`);
  });

  it("writes the EvalAI upload for VQAv2 test-dev instead of a score, with every test2015 question", async () => {
    const store = new RunStore(tempDir("mmfm-eval-"));
    const notes: string[] = [];
    const record = await run(store, scripted(answers, []), (e) => {
      if ((e as { type: string }).type === "note") notes.push((e as { message: string }).message);
    });
    const path = join(store.stageDir(stage.cache_key), "vqav2.submission.json");
    expect(record.submissions).toEqual({ vqav2: path });
    expect(Object.keys(record.metrics!).filter((m) => m.startsWith("vqav2"))).toEqual([]);
    // convert_vqav2_for_submission.py: EvalAIAnswerProcessor on each answer, "" for unanswered test2015 questions
    expect(readFileSync(path, "utf8")).toBe(
      '[{"question_id": 1001000, "answer": "red"}, {"question_id": 1001001, "answer": "2"}, {"question_id": 1002000, "answer": "yes"}, {"question_id": 1003000, "answer": ""}]',
    );
    expect(notes.join("\n")).toContain(`vqav2: no ground truth (VQAv2 test-dev); submission written to ${path}`);
  });
});

describe("LLaVA's answers file format", () => {
  it("is byte for byte what the eval scripts' json.dumps writes (checked against Python)", () => {
    const records = JSON.parse(readFileSync(join(fixtures, "answers_python.json"), "utf8")) as Parameters<typeof answerLine>[0][];
    const python = readFileSync(join(fixtures, "answers_python.jsonl"), "utf8");
    expect(records.map((r) => answerLine({ ...r, metadata: {} })).join("")).toBe(python);
  });

  it("gives 22-character answer ids in shortuuid's alphabet, the same for the same inputs", () => {
    const id = answerId("key", "gqa", "20001", "1");
    expect(id).toMatch(/^[2-9A-HJ-NP-Za-km-z]{22}$/);
    expect(answerId("key", "gqa", "20001", "1")).toBe(id);
    expect(answerId("key", "gqa", "20001", "2")).not.toBe(id);
  });

  it("reads back complete lines and drops a last line cut short", () => {
    const text = `${answerLine({ question_id: 1, prompt: "p", text: "a", answer_id: "x", model_id: "m", metadata: {} })}{"question_id": 2, "pro`;
    const parsed = parseAnswers(text, "a.jsonl");
    expect(parsed.answers.map((a) => [a.questionId, a.text])).toEqual([[1, "a"]]);
    expect(parsed.partialLine).toBe(true);
    expect(parsed.completeBytes).toBe(text.indexOf("\n") + 1);
    expect(() => parseAnswers(`{"question_id": 1}\n{}\n`, "a.jsonl")).toThrow("a.jsonl: line 1 has no `text` string");
    expect(pythonJson({ a: [1, "é"], b: null })).toBe('{"a": [1, "\\u00e9"], "b": null}');
  });
});
