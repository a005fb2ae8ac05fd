/**
 * `synthetic_shapes`: a seeded generator of small images of coloured shapes with questions and
 * answers about them, in the LLaVA conversation format, so that the whole pipeline (data, tiny
 * models, training, evaluation, ablations) runs without downloads and vision matters: every answer
 * depends on the image, and a model that ignores it scores near the per-type majority baseline.
 *
 * A scene has 1-4 shapes (circle, square, triangle) of distinct colours, one per cell of a 2x2 grid
 * (`top left`, `top right`, `bottom left`, `bottom right`), with a random size and offset in its cell.
 * Questions (type: example -> answer):
 *   color     "What color is the circle?" / "What color is the shape at the top left?" -> "red"
 *   shape     "What shape is the blue object?" -> "triangle"
 *   count     "How many shapes are there?" / "How many squares are there?" -> "3" / "0"
 *   position  "Where is the red circle?" -> "top left"
 *   yesno     "Is there a green square?" -> "yes" / "no" (half and half)
 * each followed by LLaVA's short-answer suffix. Image `i` of a split depends only on (seed, split, i),
 * so asking for more samples keeps the first ones.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { IMAGE_TOKEN } from "./constants.js";
import { encodePng, type RgbImage } from "./images.js";
import { Rng } from "./prng.js";
import { type DrawnShape, renderShapes, type ShapeKind } from "./shapes_render.js";
import type { ShapesItem, ShapesItemsFile } from "./shapes_score.js";
import { VICUNA_ASSISTANT, VICUNA_SEP2, VICUNA_SYSTEM, VICUNA_USER } from "./template.js";
import { buildTokenizer, saveTokenizer } from "./tokenizer_build.js";

export const SHAPE_COLOURS: Readonly<Record<string, readonly [number, number, number]>> = {
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 90, 230],
  yellow: [235, 205, 30],
  purple: [150, 60, 190],
  orange: [245, 135, 30],
};
export const SHAPE_KINDS: readonly ShapeKind[] = ["circle", "square", "triangle"];
export const POSITIONS = ["top left", "top right", "bottom left", "bottom right"] as const;
export type Position = (typeof POSITIONS)[number];
export const QUESTION_TYPES = ["color", "shape", "count", "position", "yesno"] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
/** LLaVA's suffix for short answers (its VQAv2 / GQA evaluation prompts) */
export const SHORT_ANSWER_SUFFIX = "Answer the question using a single word or phrase.";

const CAPTION_PROMPTS = ["Describe the image briefly.", "What is in the picture?", "Give a short description of this image.", "Summarize the image."];
const PLURAL: Record<ShapeKind, string> = { circle: "circles", square: "squares", triangle: "triangles" };
const NUMBER_WORDS = ["no", "one", "two", "three", "four"];
/** "a" or "an" before a word. */
const withArticle = (word: string): string => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

export interface SceneObject {
  readonly colour: string;
  readonly kind: ShapeKind;
  readonly position: Position;
  readonly shape: DrawnShape;
}

export interface Scene {
  readonly background: readonly [number, number, number];
  /** in reading order of their cells */
  readonly objects: readonly SceneObject[];
}

export interface QA {
  readonly type: QuestionType;
  readonly question: string;
  readonly answer: string;
}

const SPLIT_STREAM = { train: 1, test: 2, caption: 3, text: 4, described: 5 } as const;

/**
 * The scene of image `index` of a split: 1-4 shapes of distinct colours in distinct cells.
 * `described`: the scenes of the text split, told in words and never drawn.
 */
export function makeScene(seed: number, split: "train" | "test" | "described", index: number, imageSize: number, maxShapes = 4): Scene {
  const rng = new Rng(seed, SPLIT_STREAM[split], index);
  const grey = rng.range(225, 245);
  const background: [number, number, number] = [grey, grey, grey];
  // the draw for 1..4 shapes is always made, so scenes of maxShapes 4 are unchanged by the option
  const n = Math.min(rng.range(1, 4), maxShapes);
  const cells = rng.shuffle([0, 1, 2, 3]).slice(0, n).sort((a, b) => a - b);
  const colours = rng.shuffle(Object.keys(SHAPE_COLOURS)).slice(0, n);
  const cell = imageSize / 2;
  const objects = cells.map((c, k): SceneObject => {
    const kind = rng.pick(SHAPE_KINDS);
    const size = cell * (0.6 + 0.25 * rng.next());
    const slack = (cell - size) / 2;
    const cx = (c % 2) * cell + cell / 2 + (rng.next() * 2 - 1) * slack;
    const cy = Math.floor(c / 2) * cell + cell / 2 + (rng.next() * 2 - 1) * slack;
    return { colour: colours[k], kind, position: POSITIONS[c], shape: { kind, rgb: SHAPE_COLOURS[colours[k]], cx, cy, size } };
  });
  return { background, objects };
}

export function renderScene(scene: Scene, imageSize: number): RgbImage {
  return renderShapes(
    imageSize,
    scene.background,
    scene.objects.map((o) => o.shape),
  );
}

/**
 * One question of the given type about the scene (every type is always answerable). `maxShapes`:
 * the scenes' cap; at 1, "How many shapes are there?" (always 1) is not asked, so that every
 * question needs the image.
 */
export function askQuestion(scene: Scene, type: QuestionType, rng: Rng, maxShapes: number): QA {
  const objs = scene.objects;
  switch (type) {
    case "color": {
      const unique = SHAPE_KINDS.filter((k) => objs.filter((o) => o.kind === k).length === 1);
      if (unique.length > 0 && rng.next() < 0.5) {
        const kind = rng.pick(unique);
        return { type, question: `What color is the ${kind}?`, answer: (objs.find((o) => o.kind === kind) as SceneObject).colour };
      }
      const o = rng.pick(objs);
      return { type, question: `What color is the shape at the ${o.position}?`, answer: o.colour };
    }
    case "shape": {
      const o = rng.pick(objs);
      return { type, question: `What shape is the ${o.colour} object?`, answer: o.kind };
    }
    case "count": {
      if (maxShapes > 1 && rng.next() < 0.5) return { type, question: "How many shapes are there?", answer: String(objs.length) };
      const kind = rng.pick(SHAPE_KINDS);
      return { type, question: `How many ${PLURAL[kind]} are there?`, answer: String(objs.filter((o) => o.kind === kind).length) };
    }
    case "position": {
      const o = rng.pick(objs);
      return { type, question: `Where is the ${o.colour} ${o.kind}?`, answer: o.position };
    }
    case "yesno": {
      if (rng.next() < 0.5) {
        const o = rng.pick(objs);
        return { type, question: `Is there ${withArticle(o.colour)} ${o.kind}?`, answer: "yes" };
      }
      for (;;) {
        const colour = rng.pick(Object.keys(SHAPE_COLOURS));
        const kind = rng.pick(SHAPE_KINDS);
        if (!objs.some((o) => o.colour === colour && o.kind === kind)) return { type, question: `Is there ${withArticle(colour)} ${kind}?`, answer: "no" };
      }
    }
  }
}

/** A caption listing the shapes in reading order: "two shapes: a red circle at the top left and ...". */
export function describeScene(scene: Scene): string {
  const parts = scene.objects.map((o) => `${withArticle(o.colour)} ${o.kind} at the ${o.position}`);
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
  const n = scene.objects.length;
  return `${NUMBER_WORDS[n]} shape${n === 1 ? "" : "s"}: ${list}.`;
}

/** The human turn's text for a question: the question and the short-answer suffix. */
export function questionPrompt(question: string): string {
  return `${question}\n${SHORT_ANSWER_SUFFIX}`;
}

/** Text-only question/answer pairs about the shapes' world (no image). */
function textOnlyQA(rng: Rng): { question: string; answer: string } {
  const kind = rng.pick(SHAPE_KINDS);
  const pairs: [string, string][] = [
    [`How many corners does ${withArticle(kind)} have?`, String({ circle: 0, square: 4, triangle: 3 }[kind])],
    ["Which color do you get by mixing red and yellow?", "orange"],
    ["Which color do you get by mixing blue and yellow?", "green"],
    ["Which color do you get by mixing red and blue?", "purple"],
    ["What is the opposite of left?", "right"],
    ["What is the opposite of top?", "bottom"],
    ["What is the opposite of yes?", "no"],
  ];
  const [question, answer] = rng.pick(pairs);
  return { question, answer };
}

/**
 * The text split: `count` conversations about scenes told in words instead of shown, for pretraining
 * a language model on the shapes' world (its own scenes, disjoint from the image splits'). The first
 * human turn is the scene's description where the image would be, then the question, as in the
 * training conversations: `two shapes: a red circle at the top left and ...\nWhat color is the
 * circle?\nAnswer the question using a single word or phrase.` -> `red`.
 */
export function generateShapesText(options: { seed?: number; count: number; maxShapes?: number; questionsPerScene?: number }): LlavaJsonSample[] {
  const seed = options.seed ?? 0;
  const turns = options.questionsPerScene ?? 3;
  const maxShapes = options.maxShapes ?? 4;
  const out: LlavaJsonSample[] = [];
  for (let i = 0; i < options.count; i++) {
    // the size only places shapes within their cells, which a description does not tell
    const scene = makeScene(seed, "described", i, 64, maxShapes);
    const rng = new Rng(seed, SPLIT_STREAM.described, i, 1);
    const types = rng.shuffle([...QUESTION_TYPES]).slice(0, turns);
    const conversations: LlavaJsonSample["conversations"] = [];
    types.forEach((type, k) => {
      const qa = askQuestion(scene, type, rng, maxShapes);
      const text = questionPrompt(qa.question);
      conversations.push({ from: "human", value: k === 0 ? `${describeScene(scene)}\n${text}` : text });
      conversations.push({ from: "gpt", value: qa.answer });
    });
    out.push({ id: `shapes-text-${pad(i, options.count)}`, conversations });
  }
  return out;
}

export interface ShapesOptions {
  readonly seed?: number;
  /** training images (default 2000); each gives one multi-turn conversation and one caption */
  readonly train?: number;
  /** test images (default 300); each gives `testQuestionsPerImage` items */
  readonly test?: number;
  /** image side in pixels (default 32) */
  readonly imageSize?: number;
  /** question/answer turns per training conversation (default 3) */
  readonly questionsPerImage?: number;
  /** test items per test image (default 2) */
  readonly testQuestionsPerImage?: number;
  /** text-only training samples, as a fraction of `train` (default 0.05) */
  readonly textOnlyFraction?: number;
  /** tokenizer vocabulary size (default 384) */
  readonly vocabSize?: number;
  /** at most this many shapes per image, 1 to 4 (default 4); fewer make an easier task */
  readonly maxShapes?: number;
  /** the tokenizer's layout: `gemma` (default, for the `gemma` template) or `llama` (for `vicuna_v1`) */
  readonly tokenizerLayout?: "gemma" | "llama";
}

export interface LlavaJsonSample {
  id: string;
  image?: string;
  conversations: { from: "human" | "gpt"; value: string }[];
}

export interface ShapesDataset {
  readonly train: LlavaJsonSample[];
  readonly pretrain: LlavaJsonSample[];
  readonly test: LlavaJsonSample[];
  readonly items: ShapesItemsFile;
  /** image path (relative to the dataset folder) -> scene */
  readonly scenes: Map<string, Scene>;
}

interface ShapesSettings {
  seed: number;
  train: number;
  test: number;
  imageSize: number;
  questionsPerImage: number;
  testQuestionsPerImage: number;
  textOnlyFraction: number;
  vocabSize: number;
  maxShapes: number;
  tokenizerLayout: "gemma" | "llama";
}

function withDefaults(o: ShapesOptions): ShapesSettings {
  const r: ShapesSettings = {
    seed: o.seed ?? 0,
    train: o.train ?? 2000,
    test: o.test ?? 300,
    imageSize: o.imageSize ?? 32,
    questionsPerImage: o.questionsPerImage ?? 3,
    testQuestionsPerImage: o.testQuestionsPerImage ?? 2,
    textOnlyFraction: o.textOnlyFraction ?? 0.05,
    vocabSize: o.vocabSize ?? 384,
    maxShapes: o.maxShapes ?? 4,
    tokenizerLayout: o.tokenizerLayout ?? "gemma",
  };
  const int = (name: Exclude<keyof ShapesSettings, "tokenizerLayout">, min: number, max: number): void => {
    const v = r[name];
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`synthetic_shapes: \`${name}\` must be an integer in ${min}..${max}, got ${v}`);
  };
  int("seed", 0, 2 ** 32 - 1);
  int("train", 0, 10_000_000);
  int("test", 0, 10_000_000);
  int("imageSize", 8, 1024);
  int("questionsPerImage", 1, QUESTION_TYPES.length);
  int("testQuestionsPerImage", 1, QUESTION_TYPES.length);
  int("vocabSize", 128, 65536);
  int("maxShapes", 1, 4);
  if (!(r.textOnlyFraction >= 0 && r.textOnlyFraction <= 1)) throw new RangeError(`synthetic_shapes: \`textOnlyFraction\` must be in 0..1, got ${r.textOnlyFraction}`);
  return r;
}

const pad = (i: number, n: number): string => String(i).padStart(Math.max(5, String(Math.max(n - 1, 0)).length), "0");

/** Builds the annotations (no files): conversations, captions, test items and the scenes. */
export function generateShapes(options: ShapesOptions = {}): ShapesDataset {
  const o = withDefaults(options);
  const scenes = new Map<string, Scene>();
  const train: LlavaJsonSample[] = [];
  const pretrain: LlavaJsonSample[] = [];
  for (let i = 0; i < o.train; i++) {
    const image = `images/train/${pad(i, o.train)}.png`;
    const scene = makeScene(o.seed, "train", i, o.imageSize, o.maxShapes);
    scenes.set(image, scene);
    const rng = new Rng(o.seed, SPLIT_STREAM.train, i, 1);
    const types = rng.shuffle([...QUESTION_TYPES]).slice(0, o.questionsPerImage);
    const conversations: LlavaJsonSample["conversations"] = [];
    types.forEach((type, k) => {
      const qa = askQuestion(scene, type, rng, o.maxShapes);
      const text = questionPrompt(qa.question);
      conversations.push({ from: "human", value: k === 0 ? `${IMAGE_TOKEN}\n${text}` : text });
      conversations.push({ from: "gpt", value: qa.answer });
    });
    train.push({ id: `shapes-train-${pad(i, o.train)}`, image, conversations });

    const crng = new Rng(o.seed, SPLIT_STREAM.caption, i);
    const prompt = crng.pick(CAPTION_PROMPTS);
    // the image marker before or after the instruction, as in LLaVA's pretraining file
    const human = crng.next() < 0.5 ? `${IMAGE_TOKEN}\n${prompt}` : `${prompt}\n${IMAGE_TOKEN}`;
    pretrain.push({ id: `shapes-caption-${pad(i, o.train)}`, image, conversations: [{ from: "human", value: human }, { from: "gpt", value: describeScene(scene) }] });
  }
  const textCount = Math.round(o.train * o.textOnlyFraction);
  for (let i = 0; i < textCount; i++) {
    const qa = textOnlyQA(new Rng(o.seed, SPLIT_STREAM.text, i));
    train.push({ id: `shapes-text-${pad(i, textCount)}`, conversations: [{ from: "human", value: questionPrompt(qa.question) }, { from: "gpt", value: qa.answer }] });
  }

  const test: LlavaJsonSample[] = [];
  const items: ShapesItem[] = [];
  for (let i = 0; i < o.test; i++) {
    const image = `images/test/${pad(i, o.test)}.png`;
    const scene = makeScene(o.seed, "test", i, o.imageSize, o.maxShapes);
    scenes.set(image, scene);
    const rng = new Rng(o.seed, SPLIT_STREAM.test, i, 1);
    for (let j = 0; j < o.testQuestionsPerImage; j++) {
      // types rotate so that each is asked equally often
      const type = QUESTION_TYPES[(i * o.testQuestionsPerImage + j) % QUESTION_TYPES.length];
      const qa = askQuestion(scene, type, rng, o.maxShapes);
      const prompt = `${IMAGE_TOKEN}\n${questionPrompt(qa.question)}`;
      const questionId = `shapes-test-${pad(i, o.test)}-${j}`;
      items.push({ question_id: questionId, image, question: qa.question, prompt, answer: qa.answer, type });
      test.push({ id: questionId, image, conversations: [{ from: "human", value: prompt }, { from: "gpt", value: qa.answer }] });
    }
  }
  return {
    train,
    pretrain,
    test,
    items: {
      benchmark: "synthetic_shapes",
      description: `mmfm synthetic shapes, seed ${o.seed}, ${o.test} test images of ${o.imageSize}px, exact match after normalisation`,
      items,
    },
    scenes,
  };
}

export interface ShapesWriteSummary {
  readonly dir: string;
  readonly images: number;
  readonly trainSamples: number;
  readonly textOnlySamples: number;
  readonly pretrainSamples: number;
  readonly testItems: number;
  readonly vocabSize: number;
  readonly files: readonly string[];
}

/** Writes the dataset into `outDir` (images as PNG, the JSON files, a tokenizer built from the texts). */
export async function writeShapesDataset(outDir: string, options: ShapesOptions = {}): Promise<ShapesWriteSummary> {
  const o = withDefaults(options);
  const data = generateShapes(o);
  await mkdir(join(outDir, "images", "train"), { recursive: true });
  await mkdir(join(outDir, "images", "test"), { recursive: true });

  const entries = [...data.scenes.entries()];
  const parallel = 8;
  for (let k = 0; k < entries.length; k += parallel) {
    await Promise.all(
      entries.slice(k, k + parallel).map(async ([path, scene]) => {
        const png = await encodePng(renderScene(scene, o.imageSize));
        await writeFile(join(outDir, path), png);
      }),
    );
  }

  const json = (v: unknown): string => JSON.stringify(v, null, 1) + "\n";
  await writeFile(join(outDir, "train.json"), json(data.train));
  await writeFile(join(outDir, "pretrain.json"), json(data.pretrain));
  await writeFile(join(outDir, "test.json"), json(data.test));
  await writeFile(join(outDir, "test_items.json"), json(data.items));

  // the templates' own words: gemma's roles; vicuna_v1's system message and roles, often enough to be merged
  const llama = o.tokenizerLayout === "llama";
  const vicuna = [`${VICUNA_SYSTEM} ${VICUNA_USER}: `, ` ${VICUNA_ASSISTANT}: `, `${VICUNA_SEP2}${VICUNA_USER}: `];
  const corpus: string[] = llama ? Array.from({ length: 4 }, () => vicuna).flat() : ["user\n", "model\n"];
  for (const s of [...data.train, ...data.pretrain, ...data.test]) for (const t of s.conversations) corpus.push(t.value);
  const tokenizer = buildTokenizer(corpus, { vocabSize: o.vocabSize, layout: o.tokenizerLayout });
  await saveTokenizer(join(outDir, "tokenizer"), tokenizer);
  const vocabSize = Object.keys((tokenizer.tokenizerJson.model as { vocab: object }).vocab).length;

  const textOnly = data.train.filter((s) => s.image === undefined).length;
  const meta = {
    generator: "mmfm synthetic_shapes 1",
    seed: o.seed,
    imageSize: o.imageSize,
    questionsPerImage: o.questionsPerImage,
    testQuestionsPerImage: o.testQuestionsPerImage,
    counts: { trainImages: o.train, testImages: o.test, trainSamples: data.train.length, textOnlySamples: textOnly, pretrainSamples: data.pretrain.length, testItems: data.items.items.length },
    colours: Object.keys(SHAPE_COLOURS),
    shapes: SHAPE_KINDS,
    positions: POSITIONS,
    questionTypes: QUESTION_TYPES,
    tokenizerVocabSize: vocabSize,
  };
  await writeFile(join(outDir, "meta.json"), json(meta));
  return {
    dir: outDir,
    images: entries.length,
    trainSamples: data.train.length,
    textOnlySamples: textOnly,
    pretrainSamples: data.pretrain.length,
    testItems: data.items.items.length,
    vocabSize,
    files: ["train.json", "pretrain.json", "test.json", "test_items.json", "meta.json", "tokenizer/", "images/"],
  };
}
