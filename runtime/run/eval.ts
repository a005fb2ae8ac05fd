/**
 * One evaluation stage: for each benchmark, one answer per item with the benchmark's prompt
 * conventions and generation settings (plan/generation.ts: greedy unless the spec sets a
 * temperature), written to LLaVA's answers file as it is generated (runtime/run/answers.ts; a
 * crashed stage resumes from it), then scored by the benchmark's official rules
 * (runtime/benchmarks) where ground truth exists, or, for the synthetic shapes, by exact match.
 * VQAv2 test-dev has no public answers: its stage writes the EvalAI upload instead of a score.
 *
 * The synthetic shapes are also answered image-blind: the same model, each image replaced by a blank
 * one (see `blankImage`), answered and scored like the real ones into files of their own, so the
 * report shows how much of each score comes from seeing; beside them, the majority baseline of each
 * question type (runtime/run/controls.ts).
 *
 *   stages/KEY/NAME.answers.jsonl     LLaVA's answers file (question_id, prompt, text, ...)
 *   stages/KEY/NAME.items.json        every item with its prediction (the `mmfmc score` format)
 *   stages/KEY/NAME.blind.answers.jsonl, NAME.blind.items.json   the same, answered image-blind
 *   stages/KEY/NAME.submission.json   VQAv2 without answers: the file to upload to EvalAI
 *   stages/KEY/scores.json            the full scores per benchmark
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  decodeImage,
  generationPrompt,
  hash32,
  preprocessImage,
  Rng,
  scoreShapes,
  stopTokenIds,
  type AspectMode,
  type TextTokenizer,
} from "../data/index.js";
import { pythonJson } from "../benchmarks/answers.js";
import { headline } from "../benchmarks/headline.js";
import { benchmarkName, loadBenchmark, score, toScoringItems, vqav2Submission, withImageToken, type EvalItem } from "../benchmarks/index.js";
import { readJsonLines } from "../benchmarks/loaders/files.js";
import { generate, type GenerateOptions, type PretrainedModel } from "../models/index.js";
import { evalGeneration, type Generation } from "../../plan/generation.js";
import type { BenchmarkPlan, EvalStagePlan, Plan, SyntheticShapesPlan } from "../../plan/plan.js";
import { tf } from "../tf.js";
import { AnswersFile } from "./answers.js";
import { BLIND, blankImage, hasBlindControl, majorityMetrics, MAJORITY, shapesMetrics } from "./controls.js";
import { processorFor, dataPath, shapesItems, type DataContext } from "./data.js";
import type { RunEvent } from "./events.js";
import type { RunStore, StageRecord } from "./store.js";

/** Token ids generated per row; `generate` from runtime/models unless a test passes its own. */
export type Generator = (model: PretrainedModel, options: GenerateOptions) => Promise<number[][]>;

export interface EvalStageArgs {
  readonly model: PretrainedModel;
  readonly plan: Plan;
  readonly stage: EvalStagePlan;
  /** the aspect handling the model was trained with (the last training stage's, else the backbone's) */
  readonly aspect: AspectMode;
  readonly store: RunStore;
  readonly data: DataContext;
  readonly tokenizer: TextTokenizer;
  readonly variant: string;
  readonly weightsFrom: string | null;
  readonly emit: (event: RunEvent) => void;
  /** the text generator (default: `generate`) */
  readonly generator?: Generator;
}

interface Question {
  /** unique within the benchmark */
  readonly id: string;
  /** the answers file's `question_id` */
  readonly questionId: string | number;
  /** the user turn, with `<image>` where the image goes */
  readonly turn: string;
  /** the answers file's `prompt` (the script's `cur_prompt`) */
  readonly prompt: string;
  /** absolute image path, or null for a text-only item */
  readonly image: string | null;
}

/** A 32-bit word of a string's sha256, to select a sampling stream. */
function word(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

/**
 * Answers to `questions`, `stage.batch` at a time (prompts left-padded), each batch appended to the
 * answers file `NAME.answers.jsonl` before the next is generated. Questions the file already answers
 * are not asked again. `blank`: every image is replaced by `blankImage` (the image-blind control),
 * into `NAME.blind.answers.jsonl`; a sampled answer draws from the same stream as the real one, so
 * the two differ by what the image changes, not by sampling noise.
 */
async function answer(
  args: EvalStageArgs,
  name: string,
  questions: readonly Question[],
  generation: Generation,
  progress: (n: number) => void,
  blank = false,
): Promise<string[]> {
  const { model, plan, stage, tokenizer, store } = args;
  const processor = processorFor(plan.model.vision);
  const stop = stopTokenIds(plan.model.template, tokenizer);
  const padId = tokenizer.unkId ?? tokenizer.padId ?? 0;
  const answers = blank ? `${name}.${BLIND}` : name;
  const file = AnswersFile.open(join(store.stageDir(stage.cache_key), `${answers}.answers.jsonl`), questions, {
    stageKey: stage.cache_key,
    benchmark: answers,
    modelId: plan.id,
  });
  const out = [...file.done];
  try {
    if (out.length) progress(out.length);
    for (let k = out.length; k < questions.length; k += stage.batch) {
      const chunk = questions.slice(k, k + stage.batch);
      const prompts = chunk.map((q) =>
        generationPrompt([{ role: "user", text: q.turn }], q.image !== null, tokenizer, { template: plan.model.template, imageTokens: plan.model.image_tokens }),
      );
      // one image at a time, each preprocessed before the next is decoded (a large one is ~0.5 GB)
      const images: Float32Array[] = [];
      for (const q of chunk) {
        if (q.image !== null) images.push(blank ? blankImage(plan.model.vision.image) : preprocessImage(await decodeImage(q.image), processor, args.aspect));
      }
      const longest = Math.max(...prompts.map((p) => p.inputIds.length));
      const ids = new Int32Array(chunk.length * longest).fill(padId);
      const mask = new Int32Array(chunk.length * longest);
      prompts.forEach((p, b) => {
        const offset = b * longest + (longest - p.inputIds.length); // left padding
        ids.set(p.inputIds, offset);
        mask.fill(1, offset, (b + 1) * longest);
      });
      const inputIds = tf.tensor2d(ids, [chunk.length, longest], "int32");
      const attentionMask = tf.tensor2d(mask, [chunk.length, longest], "int32");
      const side = plan.model.vision.image;
      const pixels = new Float32Array(images.length * 3 * side * side);
      images.forEach((img, i) => pixels.set(img, i * img.length));
      const pixelValues = images.length ? tf.tensor4d(pixels, [images.length, 3, side, side]) : undefined;
      // sampling: one stream per question, from the seed, the stage and the question
      const streams = chunk.map((q) => new Rng(plan.seed, hash32(parseInt(stage.cache_key.slice(0, 8), 16)), word(`${name}\0${q.id}`)));
      const sample = generation.temperature > 0 ? { temperature: generation.temperature, topP: generation.topP, random: (row: number) => streams[row].next() } : undefined;
      try {
        const generated = await (args.generator ?? generate)(model, {
          inputIds,
          attentionMask,
          pixelValues,
          maxNewTokens: generation.maxNewTokens,
          stopTokenIds: stop,
          padTokenId: padId,
          sample,
        });
        const texts = generated.map((tokens) => tokenizer.decode(tokens.filter((t) => !stop.includes(t)), { skipSpecial: true }).trim());
        file.append(chunk.map((question, i) => ({ question, text: texts[i] })));
        out.push(...texts);
      } finally {
        tf.dispose([inputIds, attentionMask, ...(pixelValues ? [pixelValues] : [])]);
      }
      progress(out.length);
    }
  } finally {
    file.close();
  }
  return out;
}

interface BenchmarkResult {
  /** the items file (`mmfmc score` format), when scored */
  readonly items?: unknown;
  readonly scores: unknown;
  readonly metrics: Record<string, number>;
  /** VQAv2 without answers: the EvalAI upload written instead of a score */
  readonly submission?: string;
  /** the image-blind control's items and scores (its metrics are in `metrics`, under `blind.`) */
  readonly blind?: { readonly items: unknown; readonly scores: unknown };
}

async function shapesBenchmark(
  args: EvalStageArgs,
  name: string,
  data: SyntheticShapesPlan,
  { dir, items }: Awaited<ReturnType<typeof shapesItems>>,
  progress: (n: number) => void,
): Promise<BenchmarkResult> {
  const questions = items.map((it) => ({
    id: it.question_id,
    questionId: it.question_id,
    turn: it.prompt,
    // as a LLaVA question file's `text`: the prompt without the image token
    prompt: it.prompt.replace(/^<image>\n/, ""),
    image: join(dir, it.image),
  }));
  const generation = evalGeneration(args.stage, data);
  const predictions = await answer(args, name, questions, generation, progress);
  const scored = items.map((it, i) => ({ ...it, prediction: predictions[i] }));
  const scores = scoreShapes(scored);
  const metrics = shapesMetrics(scores);
  for (const [m, v] of Object.entries(majorityMetrics(scores))) metrics[`${MAJORITY}.${m}`] = v;
  const result = { items: { benchmark: "synthetic_shapes", description: "predictions", items: scored }, scores, metrics };
  if (!hasBlindControl(data)) return result;
  // the same questions again, every image blank (runtime/run/controls.ts)
  const blindPredictions = await answer(args, name, questions, generation, (n) => progress(items.length + n), true);
  const blindScored = items.map((it, i) => ({ ...it, prediction: blindPredictions[i] }));
  const blindScores = scoreShapes(blindScored);
  for (const [m, v] of Object.entries(shapesMetrics(blindScores))) metrics[`${BLIND}.${m}`] = v;
  const blind = { items: { benchmark: "synthetic_shapes", description: "predictions with every image replaced by a blank one", items: blindScored }, scores: blindScores };
  return { ...result, blind };
}

/** The answers file's `prompt` for an item, as the benchmark's script sets `cur_prompt`. */
export function answerPrompt(item: EvalItem): string {
  // model_vqa_science.py: "<image>\n" + question (+ the instruction); model_vqa_loader.py: line["text"]
  return item.benchmark === "scienceqa_img" ? withImageToken(item.prompt, item.image !== null) : item.prompt;
}

/** The question ids of VQAv2's test2015 split (every one must be in an EvalAI upload), or null without the file. */
async function submissionIds(path: string | undefined): Promise<(string | number)[] | null> {
  if (!path) return null;
  try {
    const lines = await readJsonLines("vqav2", path, "VQAv2 test2015 question file");
    return lines.map(({ value }) => (value as { question_id: string | number }).question_id);
  } catch {
    return null;
  }
}

/**
 * The EvalAI upload of VQAv2 answers, as `scripts/convert_vqav2_for_submission.py` writes it: every
 * question of the test2015 file (`""` where there is no answer), answers through EvalAI's answer
 * processor, `json.dump`'s layout. Without the test2015 file, the questions asked.
 */
export async function vqav2Upload(items: readonly EvalItem<"vqav2">[], predictions: ReadonlyMap<string, string>, testSplit: string | undefined): Promise<{ text: string; complete: boolean }> {
  const all = await submissionIds(testSplit);
  const ids = all ?? items.map((i) => i.questionId);
  return { text: pythonJson(vqav2Submission(predictions, ids)), complete: all !== null };
}

/** A benchmark's questions, from its files (missing images are an error before anything is generated). */
async function loadQuestions(args: EvalStageArgs, data: BenchmarkPlan) {
  const benchmark = benchmarkName(data.family);
  if (!benchmark) throw new Error(`\`${data.family}\` is not a benchmark the evaluation knows`);
  return loadBenchmark(benchmark, {
    annotations: dataPath(args.data, data.annotations),
    images: dataPath(args.data, data.images),
    limit: data.size ?? undefined,
  });
}

async function realBenchmark(
  args: EvalStageArgs,
  name: string,
  data: BenchmarkPlan,
  loaded: Awaited<ReturnType<typeof loadQuestions>>,
  progress: (n: number) => void,
): Promise<BenchmarkResult> {
  const benchmark = loaded.benchmark;
  const items = loaded.items;
  const questions = items.map((it) => ({ id: it.id, questionId: it.questionId, turn: withImageToken(it.prompt, it.image !== null), prompt: answerPrompt(it), image: it.image }));
  const predictions = await answer(args, name, questions, evalGeneration(args.stage, data), progress);
  if (benchmark === "vqav2" && items.some((i) => i.scoring === null)) {
    const byId = new Map(items.map((it, i) => [it.id, predictions[i]]));
    const upload = await vqav2Upload(items as EvalItem<"vqav2">[], byId, loaded.files.submissionSplit);
    const path = join(args.store.stageDir(args.stage.cache_key), `${name}.submission.json`);
    args.store.writeFile(args.stage.cache_key, `${name}.submission.json`, upload.text);
    const note = upload.complete ? "" : " (only the questions asked: the test2015 question file was not found, and EvalAI wants every test2015 question)";
    args.emit({ type: "note", message: `${name}: no ground truth (VQAv2 test-dev); submission written to ${path}${note}` });
    return { scores: { submission: path, questions: items.length, complete: upload.complete }, metrics: {}, submission: path };
  }
  const scoring = toScoringItems(items, predictions, { description: `mmfm ${args.variant}` });
  const scores = score(benchmark, scoring.items);
  return { items: scoring, scores, metrics: headline(benchmark, scores) };
}

export async function evalStage(args: EvalStageArgs): Promise<StageRecord> {
  const { stage, store, emit, variant } = args;
  const started = performance.now();
  const key = stage.cache_key;
  const metrics: Record<string, number> = {};
  const submissions: Record<string, string> = {};
  const all: Record<string, unknown> = {};
  let done = 0;
  // every benchmark's questions first: the progress counts them all, and a missing file stops the stage before any generation
  const questions = [];
  for (const data of stage.data) {
    questions.push(data.family === "synthetic_shapes" ? { data, shapes: await shapesItems(data, args.data) } : { data, loaded: await loadQuestions(args, data) });
  }
  // the image-blind control answers every question a second time
  const total = questions.reduce((n, q) => n + (q.shapes ? q.shapes.items.length * (hasBlindControl(q.data) ? 2 : 1) : q.loaded!.items.length), 0);
  emit({ type: "stage-start", variant, stage: stage.name, kind: "eval", steps: total, description: stage.data.map((d) => `${d.name ?? d.family}${hasBlindControl(d) ? " (and image-blind)" : ""}`).join(", ") });
  for (const { data, shapes, loaded } of questions) {
    const name = data.name ?? data.family;
    const base = done;
    const progress = (n: number) => {
      done = base + n;
      emit({ type: "step", variant, stage: stage.name, step: done, steps: total, loss: NaN, samplesPerSecond: done / Math.max(1e-9, (performance.now() - started) / 1000), seconds: (performance.now() - started) / 1000 });
    };
    const result =
      data.family === "synthetic_shapes" ? await shapesBenchmark(args, name, data, shapes!, progress) : await realBenchmark(args, name, data as BenchmarkPlan, loaded!, progress);
    for (const [m, v] of Object.entries(result.metrics)) metrics[`${name}.${m}`] = v;
    if (result.submission) submissions[name] = result.submission;
    all[name] = result.scores;
    if (result.items) store.writeFile(key, `${name}.items.json`, JSON.stringify(result.items, null, 1) + "\n");
    if (result.blind) {
      all[`${name}.${BLIND}`] = result.blind.scores;
      store.writeFile(key, `${name}.${BLIND}.items.json`, JSON.stringify(result.blind.items, null, 1) + "\n");
    }
  }
  store.writeFile(key, "scores.json", JSON.stringify(all, null, 2) + "\n");
  const record: StageRecord = {
    key,
    name: stage.name,
    kind: "eval",
    variant,
    seconds: (performance.now() - started) / 1000,
    finished: new Date().toISOString(),
    metrics,
    ...(Object.keys(submissions).length ? { submissions } : {}),
    weightsFrom: args.weightsFrom,
  };
  store.finish(record);
  emit({ type: "stage-end", variant, stage: stage.name, seconds: record.seconds, metrics });
  return record;
}
