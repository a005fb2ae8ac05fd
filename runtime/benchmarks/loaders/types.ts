// What a benchmark loader produces: evaluation items (what to ask the model) carrying the fields
// scoring needs, and the options every loader takes.

import { basename, dirname, join, relative, resolve } from "node:path";
import type { GenerationSettings } from "../generation.js";
import type { BenchmarkName, ItemsByBenchmark } from "../items.js";
import { benchmarkLayouts } from "../layouts.js";
import { isDirectory } from "./files.js";

/** An items-file item without the model's output (`prediction`, and MMVP's grader reply `judge`). */
export type ScoringFields<B extends BenchmarkName> = Omit<ItemsByBenchmark[B], "prediction" | "judge">;

/** One question to put to the model. */
export interface EvalItem<B extends BenchmarkName = BenchmarkName> {
  readonly benchmark: B;
  /** unique within the benchmark; keys predictions */
  readonly id: string;
  /**
   * the question's id as its question file holds it, JSON type kept (LLaVA's `question_id`, a number
   * for VQAv2 and POPE, a string elsewhere): the `question_id` of LLaVA's answers file. Not unique
   * for MME (two questions per image share the image's id).
   */
  readonly questionId: string | number;
  /** the image file, or null for a text-only question (some ScienceQA problems) */
  readonly image: string | null;
  /**
   * the user turn's text as LLaVA's evaluation asks it, without the image token (LLaVA puts
   * `<image>\n` in front: see `withImageToken`) and without the chat template
   */
  readonly prompt: string;
  /** the ground truth and metadata for scoring; null where the split has no public answers (VQAv2 test-dev) */
  readonly scoring: ScoringFields<B> | null;
}

export interface LoadOptions {
  /**
   * the question file, or the benchmark folder holding it; relative paths resolve against
   * `root`. Default: the layout's path (`benchmarkLayouts`). Companion files are looked for
   * where the layout puts them relative to this file.
   */
  readonly annotations?: string;
  /** the image folder; default: the layout's, relative to the annotations file */
  readonly images?: string;
  /** the data root for defaults and relative paths; default: the working directory */
  readonly root?: string;
  /** companion files by role (`benchmarkLayouts[b].files`; VQAv2 also `answers`, `questions`) */
  readonly files?: Readonly<Record<string, string>>;
  /** load only the first N questions (rounded down to whole pairs for MME and MMVP) */
  readonly limit?: number;
  /** check that every image exists (default true) */
  readonly checkImages?: boolean;
  /** MMVP's prompt style (default `lmms`; see `mmvpPrompt`) */
  readonly mmvpPromptStyle?: "lmms" | "official";
}

export interface LoadedBenchmark<B extends BenchmarkName = BenchmarkName> {
  readonly benchmark: B;
  readonly items: EvalItem<B>[];
  /** the resolved files that were read, by role */
  readonly files: Readonly<Record<string, string>>;
  /** how to generate answers (LLaVA's eval script settings) */
  readonly generation: GenerationSettings;
  /** things the user should know (a fallback layout used, questions without labels, ...) */
  readonly warnings: string[];
}

export interface BenchmarkPaths {
  readonly root: string;
  readonly annotations: string;
  readonly images: string;
  /** companion files by role; a role named in `options.files` overrides the layout's */
  readonly files: Readonly<Record<string, string>>;
}

/** The benchmark's files: given ones resolved against `root`, the rest placed as the layout does. */
export async function benchmarkPaths(benchmark: BenchmarkName, options: LoadOptions): Promise<BenchmarkPaths> {
  const layout = benchmarkLayouts[benchmark];
  const root = resolve(options.root ?? process.cwd());
  let annotations = resolve(root, options.annotations ?? layout.annotations);
  if (await isDirectory(annotations)) annotations = join(annotations, basename(layout.annotations));
  const placed = (layoutPath: string): string => join(dirname(annotations), relative(dirname(layout.annotations), layoutPath));
  const files: Record<string, string> = {};
  for (const [role, path] of Object.entries(layout.files)) files[role] = placed(path);
  for (const [role, path] of Object.entries(options.files ?? {})) files[role] = resolve(root, path);
  return {
    root,
    annotations,
    images: options.images !== undefined ? resolve(root, options.images) : placed(layout.images),
    files,
  };
}

/** The first `limit` items; for paired benchmarks, a whole number of pairs. */
export function applyLimit<T>(items: T[], limit: number | undefined, paired = false): T[] {
  if (limit === undefined) return items;
  const n = paired ? Math.floor(limit / 2) * 2 : Math.floor(limit);
  return items.slice(0, Math.max(0, n));
}
