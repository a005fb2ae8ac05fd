/**
 * The data of a plan's stages: where each dataset is on disk (LLaVA json files relative to the spec,
 * synthetic shapes generated once into the runs folder), the tokenizer, and the image processor of
 * the vision backbone.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import {
  generateShapesText,
  loadTokenizer,
  openLlavaJson,
  TokenizerError,
  writeShapesDataset,
  type ImageProcessorConfig,
  type LlavaDataset,
  type ShapesItem,
  type ShapesItemsFile,
  type TextTokenizer,
} from "../data/index.js";
import type { LlavaJsonPlan, Plan, SyntheticShapesPlan, VisionPlan } from "../../plan/plan.js";
import { fileError } from "../../core/files.js";

export class RunDataError extends Error {}

export interface DataContext {
  /** the spec's folder: relative data paths are relative to it */
  readonly specDir: string;
  /** where generated datasets are kept (`runs/EXPERIMENT/data`) */
  readonly cacheDir: string;
}

/** A data path of the spec: relative paths are relative to the spec's folder. */
export function dataPath(ctx: DataContext, path: string): string {
  return isAbsolute(path) ? path : resolve(ctx.specDir, path);
}

/** The image processor of a vision backbone, as its Hugging Face processor is configured. */
export function processorFor(vision: VisionPlan): ImageProcessorConfig {
  const mean = vision.mean as readonly [number, number, number];
  const std = vision.std as readonly [number, number, number];
  if (vision.family === "siglip") return { resize: { height: vision.image, width: vision.image }, mean, std };
  return { resize: { shortestEdge: vision.resize }, crop: { height: vision.image, width: vision.image }, mean, std };
}

/** Test questions per synthetic test image (the generator's default). */
const TEST_QUESTIONS_PER_IMAGE = 2;

/**
 * The folder of a synthetic dataset, generated on first use. Image i depends only on (seed, split, i),
 * so the folder is a function of (seed, image size, shapes, questions, split, size) and can be shared.
 */
export async function syntheticFolder(data: SyntheticShapesPlan, ctx: DataContext): Promise<string> {
  // the number of questions shows in the name when it is not the default 3 (folders made before it existed keep theirs)
  const questions = (data.split === "train" || data.split === "text") && data.questions !== 3 ? `-${data.questions}q` : "";
  const name = `synthetic_shapes-seed${data.seed}-${data.image}px-${data.shapes}shapes${questions}-${data.split}-${data.size}`;
  const dir = join(ctx.cacheDir, name);
  if (existsSync(join(dir, "meta.json"))) return dir;
  if (data.split === "text") {
    // scenes told in words: no images to draw
    await generateInto(dir, async (tmp) => {
      const samples = generateShapesText({ seed: data.seed, count: data.size, maxShapes: data.shapes, questionsPerScene: data.questions });
      writeFileSync(join(tmp, "text.json"), JSON.stringify(samples, null, 1) + "\n");
      writeFileSync(join(tmp, "meta.json"), JSON.stringify({ generator: "mmfm synthetic_shapes text", seed: data.seed, split: "text", samples: samples.length }, null, 1) + "\n");
    });
    return dir;
  }
  const test = data.split === "test";
  await generateInto(dir, (tmp) =>
    writeShapesDataset(tmp, {
      seed: data.seed,
      imageSize: data.image,
      train: test ? 0 : data.size,
      test: test ? Math.ceil(data.size / TEST_QUESTIONS_PER_IMAGE) : 0,
      testQuestionsPerImage: TEST_QUESTIONS_PER_IMAGE,
      questionsPerImage: data.questions,
      maxShapes: data.shapes,
    }),
  );
  return dir;
}

/**
 * Generates a folder through `DIR.tmp-PID` and a rename, so `dir` is either complete or absent; a
 * failure (a full disk) removes the temporary folder and names the cause.
 */
async function generateInto(dir: string, write: (tmp: string) => Promise<unknown>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await write(tmp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw fileError(error, "write the generated dataset", dir);
  }
}

/**
 * The tokenizer shared by every synthetic dataset: built once from a fixed corpus, so all splits
 * agree; in Gemma's layout, or Llama's for a Llama language model.
 */
export async function shapesTokenizerFolder(ctx: DataContext, layout: "gemma" | "llama" = "gemma"): Promise<string> {
  const dir = join(ctx.cacheDir, layout === "gemma" ? "synthetic_shapes-tokenizer" : `synthetic_shapes-tokenizer-${layout}`);
  if (existsSync(join(dir, "tokenizer", "tokenizer.json"))) return join(dir, "tokenizer");
  await generateInto(dir, (tmp) => writeShapesDataset(tmp, { seed: 0, train: 2000, test: 300, imageSize: 8, tokenizerLayout: layout }));
  return join(dir, "tokenizer");
}

function usesSynthetic(plan: Plan): boolean {
  return plan.stages.some((s) => s.data.some((d) => d.family === "synthetic_shapes"));
}

/** The language model's tokenizer: `tokenizer`, else `weights`, else the synthetic one for synthetic data. */
export async function tokenizerFor(plan: Plan, ctx: DataContext): Promise<TextTokenizer> {
  return (await tokenizerWithFolder(plan, ctx)).tokenizer;
}

/** The language model's tokenizer (see `tokenizerFor`) and the folder it was read from. */
export async function tokenizerWithFolder(plan: Plan, ctx: DataContext): Promise<{ tokenizer: TextTokenizer; dir: string }> {
  const language = plan.model.language;
  const folder = language.tokenizer ?? language.weights;
  if (folder) {
    const dir = dataPath(ctx, folder);
    if (!existsSync(join(dir, "tokenizer.json"))) {
      throw new RunDataError(`no tokenizer.json in ${dir} (the ${language.tokenizer ? "`tokenizer`" : "`weights`"} of language \`${language.name ?? language.family}\`)`);
    }
    return { tokenizer: await loadTokenizer(dir), dir };
  }
  if (usesSynthetic(plan)) {
    const dir = await shapesTokenizerFolder(ctx, language.family);
    try {
      return { tokenizer: await loadTokenizer(dir), dir };
    } catch (error) {
      if (!(error instanceof TokenizerError)) throw error;
      throw new TokenizerError(`${error.message}\n  help: this tokenizer is generated: delete ${dirname(dir)} and it is made again`);
    }
  }
  throw new RunDataError(
    `language \`${language.name ?? language.family}\` has no tokenizer: set its \`tokenizer\` (or \`weights\`) to a folder holding tokenizer.json`,
  );
}

export interface TrainingData {
  readonly dataset: LlavaDataset;
  /** samples used (the dataset's `size` limits it) */
  readonly length: number;
  readonly description: string;
}

/** Opens a training stage's dataset. */
export async function trainingData(data: LlavaJsonPlan | SyntheticShapesPlan, ctx: DataContext): Promise<TrainingData> {
  if (data.family === "synthetic_shapes") {
    if (data.split === "test") throw new RunDataError(`dataset \`${data.name ?? "synthetic_shapes"}\` is the test split; train on split "train" or "caption"`);
    const dir = await syntheticFolder(data, ctx);
    const file = { caption: "pretrain.json", train: "train.json", text: "text.json" }[data.split];
    const dataset = await openLlavaJson(join(dir, file), dir);
    return { dataset, length: dataset.length, description: `synthetic_shapes ${data.split} (${dataset.length} samples, ${data.image}px)` };
  }
  const annotations = dataPath(ctx, data.annotations);
  if (!existsSync(annotations)) {
    throw new RunDataError(`cannot find \`${data.annotations}\` (dataset \`${data.name ?? "llava_json"}\`, looked at ${annotations})`);
  }
  const dataset = await openLlavaJson(annotations, dataPath(ctx, data.images ?? "."));
  const length = data.size !== null ? Math.min(data.size, dataset.length) : dataset.length;
  return { dataset, length, description: `${data.annotations} (${length} samples)` };
}

/** The test items of a synthetic evaluation dataset (the first `size`). */
export async function shapesItems(data: SyntheticShapesPlan, ctx: DataContext): Promise<{ dir: string; items: ShapesItem[] }> {
  const dir = await syntheticFolder(data, ctx);
  const file = JSON.parse(readFileSync(join(dir, "test_items.json"), "utf8")) as ShapesItemsFile;
  return { dir, items: file.items.slice(0, data.size) };
}
