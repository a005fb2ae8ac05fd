/**
 * One evaluation stage: for each benchmark, one greedy answer per item with the benchmark's prompt
 * conventions, scored by its official rules (runtime/benchmarks) or, for the synthetic shapes, by exact
 * match. Predictions and scores are kept in the stage's folder.
 */
import { join } from "node:path";
import {
  decodeImage,
  generationPrompt,
  preprocessImage,
  scoreShapes,
  stopTokenIds,
  type AspectMode,
  type TextTokenizer,
} from "../data/index.js";
import { benchmarkName, loadBenchmark, score, toScoringItems, withImageToken } from "../benchmarks/index.js";
import { generate, type PretrainedModel } from "../models/index.js";
import type { BenchmarkPlan, EvalStagePlan, Plan, SyntheticShapesPlan } from "../../plan/plan.js";
import { tf } from "../tf.js";
import { processorFor, dataPath, shapesItems, type DataContext } from "./data.js";
import type { RunEvent } from "./events.js";
import type { RunStore, StageRecord } from "./store.js";

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
}

interface Question {
  readonly id: string;
  /** the user turn, with `<image>` where the image goes */
  readonly prompt: string;
  /** absolute image path, or null for a text-only item */
  readonly image: string | null;
}

/** Greedy answers to questions, `batch` at a time (prompts left-padded). */
async function answer(args: EvalStageArgs, questions: readonly Question[], done: (n: number) => void): Promise<string[]> {
  const { model, plan, stage, tokenizer } = args;
  const processor = processorFor(plan.model.vision);
  const stop = stopTokenIds(plan.model.template, tokenizer);
  const padId = tokenizer.unkId ?? tokenizer.padId ?? 0;
  const out: string[] = [];
  for (let k = 0; k < questions.length; k += stage.batch) {
    const chunk = questions.slice(k, k + stage.batch);
    const prompts = chunk.map((q) =>
      generationPrompt([{ role: "user", text: q.prompt }], q.image !== null, tokenizer, { template: plan.model.template, imageTokens: plan.model.image_tokens }),
    );
    const images = await Promise.all(chunk.filter((q) => q.image !== null).map(async (q) => preprocessImage(await decodeImage(q.image!), processor, args.aspect)));
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
    try {
      const generated = await generate(model, { inputIds, attentionMask, pixelValues, maxNewTokens: stage.max_new_tokens, stopTokenIds: stop, padTokenId: padId });
      for (const tokens of generated) out.push(tokenizer.decode(tokens.filter((t) => !stop.includes(t)), { skipSpecial: true }).trim());
    } finally {
      tf.dispose([inputIds, attentionMask, ...(pixelValues ? [pixelValues] : [])]);
    }
    done(out.length);
  }
  return out;
}

async function shapesBenchmark(args: EvalStageArgs, data: SyntheticShapesPlan, progress: (n: number) => void) {
  const { dir, items } = await shapesItems(data, args.data);
  const questions = items.map((it) => ({ id: it.question_id, prompt: it.prompt, image: join(dir, it.image) }));
  const predictions = await answer(args, questions, progress);
  const scored = items.map((it, i) => ({ ...it, prediction: predictions[i] }));
  const scores = scoreShapes(scored);
  const metrics: Record<string, number> = { accuracy: scores.accuracy };
  for (const [type, acc] of Object.entries(scores.perType)) metrics[`${type}`] = acc.accuracy;
  return { items: { benchmark: "synthetic_shapes", description: "predictions", items: scored }, scores, metrics };
}

async function realBenchmark(args: EvalStageArgs, data: BenchmarkPlan, progress: (n: number) => void) {
  const benchmark = benchmarkName(data.family);
  if (!benchmark) throw new Error(`\`${data.family}\` is not a benchmark the evaluation knows`);
  const loaded = await loadBenchmark(benchmark, {
    annotations: dataPath(args.data, data.annotations),
    images: dataPath(args.data, data.images),
    limit: data.size ?? undefined,
  });
  const items = loaded.items;
  const questions = items.map((it) => ({ id: String(it.id), prompt: withImageToken(it.prompt, it.image !== null), image: it.image }));
  const predictions = await answer(args, questions, progress);
  const scoring = toScoringItems(items, predictions, { description: `mmfm ${args.variant}` });
  const scores = score(benchmark, scoring.items);
  return { items: scoring, scores, metrics: headline(benchmark, scores) };
}

/** The numbers the paper's Table 1 reports, per benchmark. */
function headline(benchmark: NonNullable<ReturnType<typeof benchmarkName>>, s: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, v: number | null | undefined) => {
    if (typeof v === "number" && Number.isFinite(v)) out[name] = v;
  };
  const x = s as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  switch (benchmark) {
    case "vqav2":
      put("accuracy", x.official?.accuracy?.overall);
      break;
    case "gqa":
      put("accuracy", x.accuracy);
      break;
    case "pope":
      put("accuracy", x.mean_over_categories?.accuracy);
      put("f1", x.mean_over_categories?.f1);
      break;
    case "mme":
      put("perception", x.perception_total);
      put("cognition", x.cognition_total);
      break;
    case "scienceqa_img":
      put("img_accuracy", x.img_acc);
      break;
    case "mmvp":
      put("pair_accuracy", x.lmms_eval_rule?.pair_accuracy);
      break;
  }
  return out;
}

export async function evalStage(args: EvalStageArgs): Promise<StageRecord> {
  const { stage, store, emit, variant } = args;
  const started = performance.now();
  const key = stage.cache_key;
  const metrics: Record<string, number> = {};
  const all: Record<string, unknown> = {};
  let done = 0;
  const total = stage.data.reduce((n, d) => n + (d.size ?? 0), 0);
  emit({ type: "stage-start", variant, stage: stage.name, kind: "eval", steps: total, description: stage.data.map((d) => d.name ?? d.family).join(", ") });
  for (const data of stage.data) {
    const name = data.name ?? data.family;
    const base = done;
    const progress = (n: number) => {
      done = base + n;
      emit({ type: "step", variant, stage: stage.name, step: done, steps: total, loss: NaN, samplesPerSecond: done / Math.max(1e-9, (performance.now() - started) / 1000), seconds: (performance.now() - started) / 1000 });
    };
    const result = data.family === "synthetic_shapes" ? await shapesBenchmark(args, data, progress) : await realBenchmark(args, data, progress);
    for (const [m, v] of Object.entries(result.metrics)) metrics[`${name}.${m}`] = v;
    all[name] = result.scores;
    store.writeFile(key, `${name}.items.json`, JSON.stringify(result.items, null, 1) + "\n");
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
    weightsFrom: args.weightsFrom,
  };
  store.finish(record);
  emit({ type: "stage-end", variant, stage: stage.name, seconds: record.seconds, metrics });
  return record;
}
