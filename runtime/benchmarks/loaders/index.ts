// `loadBenchmark`: a benchmark's questions from its usual file layout, as evaluation items; and
// `toScoringItems`: evaluation items plus the model's answers -> the items file `score` reads.

import { generationSettings } from "../generation.js";
import { ItemError, type BenchmarkName, type ItemsByBenchmark, type ItemsFile } from "../items.js";
import { BenchmarkFileError, requireImages } from "./files.js";
import { loadGqa } from "./gqa.js";
import { loadMme } from "./mme.js";
import { loadMmvp } from "./mmvp.js";
import { loadPope } from "./pope.js";
import { loadScienceQa } from "./scienceqa.js";
import { applyLimit, benchmarkPaths, type EvalItem, type LoadedBenchmark, type LoadOptions } from "./types.js";
import { loadVqav2 } from "./vqav2.js";

/**
 * Loads a benchmark's questions. With no paths, the layout of LLaVA's eval scripts under `root`
 * (`benchmarkLayouts`); `annotations` may name the question file or the benchmark folder.
 * Missing or malformed files throw `BenchmarkFileError` naming the path and its role.
 */
export async function loadBenchmark<B extends BenchmarkName>(benchmark: B, options: LoadOptions = {}): Promise<LoadedBenchmark<B>> {
  const paths = await benchmarkPaths(benchmark, options);
  const warnings: string[] = [];
  let items: EvalItem[];
  switch (benchmark) {
    case "vqav2":
      items = await loadVqav2(paths, warnings);
      break;
    case "gqa":
      items = await loadGqa(paths, warnings);
      break;
    case "pope":
      items = await loadPope(paths, warnings);
      break;
    case "mme":
      items = await loadMme(paths, warnings);
      break;
    case "scienceqa_img":
      items = await loadScienceQa(paths, warnings);
      break;
    case "mmvp":
      items = await loadMmvp(paths, warnings, options.mmvpPromptStyle);
      break;
    default:
      throw new Error(`no loader for benchmark \`${benchmark as string}\``);
  }
  items = applyLimit(items, options.limit, benchmark === "mme" || benchmark === "mmvp");
  if (options.checkImages !== false) {
    await requireImages(benchmark, items.flatMap((i) => (i.image === null ? [] : [i.image])), paths.images);
  }
  return {
    benchmark,
    items: items as EvalItem<B>[],
    files: { annotations: paths.annotations, images: paths.images, ...paths.files },
    generation: generationSettings[benchmark],
    warnings,
  };
}

/** The model's answers: by item id, or an array in item order. ScienceQA accepts null (no answer). */
export type Predictions = ReadonlyMap<string, string | null> | readonly (string | null)[];

/**
 * Evaluation items and the model's raw answers -> the items file of evals.md, ready for `score`.
 * MMVP's grader replies (`judges`, by id) are optional: without them only the deterministic rule
 * is scored. Throws `ItemError` for a missing answer, for items of several benchmarks, and when an
 * item has no ground truth.
 */
export function toScoringItems<B extends BenchmarkName>(
  items: readonly EvalItem<B>[],
  predictions: Predictions,
  options: { description?: string; judges?: ReadonlyMap<string, string> } = {},
): ItemsFile<B> {
  if (items.length === 0) throw new ItemError(null, "items", "no evaluation items to score");
  const benchmark = items[0].benchmark;
  if (Array.isArray(predictions) && predictions.length !== items.length) {
    throw new ItemError(null, "prediction", `${predictions.length} predictions for ${items.length} items`);
  }
  const out = items.map((item, index) => {
    if (item.benchmark !== benchmark) throw new ItemError(index, "benchmark", `a ${item.benchmark} item among ${benchmark} items`);
    if (item.scoring === null) {
      throw new ItemError(index, "scoring", `${benchmark} item ${item.id} has no ground truth (VQAv2 test-dev answers are not public: upload vqav2Submission(...) to EvalAI, or load with files.answers)`);
    }
    const prediction = Array.isArray(predictions) ? predictions[index] : (predictions as ReadonlyMap<string, string | null>).get(item.id);
    if (prediction === undefined || (prediction === null && benchmark !== "scienceqa_img")) {
      throw new ItemError(index, "prediction", `no prediction for ${benchmark} item ${item.id}`);
    }
    const judge = options.judges?.get(item.id);
    return { ...item.scoring, prediction, ...(benchmark === "mmvp" && judge !== undefined ? { judge } : {}) } as unknown as ItemsByBenchmark[B];
  });
  return { benchmark, description: options.description ?? `${benchmark}: ${items.length} items with model predictions`, items: out };
}

export { BenchmarkFileError };
