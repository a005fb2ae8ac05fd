// The items-file format that `mmfmc score` reads (evals.md, "Item format for scoring"), its
// per-benchmark item types, and their validation. Validation errors name the item index and
// the field; the CLI adds the file name.

/** The benchmarks with a scorer. */
export const benchmarkNames = ["vqav2", "gqa", "pope", "mme", "scienceqa_img", "mmvp"] as const;
export type BenchmarkName = (typeof benchmarkNames)[number];

/** Other spellings accepted for a benchmark name (the dataset family is called `scienceqa`). */
const aliases: Record<string, BenchmarkName> = {
  scienceqa: "scienceqa_img",
  sqa: "scienceqa_img",
  "scienceqa-img": "scienceqa_img",
  vqa_v2: "vqav2",
  "vqa-v2": "vqav2",
};

/** The canonical benchmark name for `name`, or undefined if it names none. */
export function benchmarkName(name: string): BenchmarkName | undefined {
  const lower = name.toLowerCase();
  if ((benchmarkNames as readonly string[]).includes(lower)) return lower as BenchmarkName;
  return aliases[lower];
}

export interface Vqav2Item {
  readonly question_id: number;
  readonly image_id?: number;
  readonly question?: string;
  readonly question_type: string;
  readonly answer_type: string;
  /** one answer per annotator (10 in VQAv2); duplicates are separate annotators */
  readonly answers: readonly string[];
  readonly prediction: string;
}

export interface GqaItem {
  readonly question_id: string;
  readonly question: string;
  readonly answer: string;
  readonly structural: string;
  readonly semantic: string;
  readonly prediction: string;
}

export interface PopeItem {
  readonly question_id: number | string;
  readonly category: string;
  readonly image?: string;
  readonly question?: string;
  readonly label: string;
  readonly prediction: string;
}

export interface MmeItem {
  readonly subtask: string;
  readonly image?: string;
  readonly question?: string;
  readonly answer: string;
  readonly prediction: string;
}

export interface ScienceQaItem {
  readonly question_id: string;
  readonly question?: string;
  readonly choices: readonly string[];
  /** index of the correct choice */
  readonly answer: number;
  readonly has_image: boolean;
  /** null: no prediction for this problem (scored as FAILED) */
  readonly prediction: string | null;
}

export interface MmvpItem {
  /** 1-based; pairs are (1,2), (3,4), ... */
  readonly index: number;
  readonly question?: string;
  readonly options?: string;
  readonly answer: string;
  readonly prediction: string;
  /** the GPT grader's raw reply; null or absent when no grader was run */
  readonly judge?: string | null;
}

export interface ItemsByBenchmark {
  vqav2: Vqav2Item;
  gqa: GqaItem;
  pope: PopeItem;
  mme: MmeItem;
  scienceqa_img: ScienceQaItem;
  mmvp: MmvpItem;
}

/** An items file: `{ benchmark, description, items }`. */
export interface ItemsFile<B extends BenchmarkName = BenchmarkName> {
  readonly benchmark: B;
  readonly description: string;
  readonly items: readonly ItemsByBenchmark[B][];
}

/** A malformed item: which item (0-based index; null for the file as a whole) and which field. */
export class ItemError extends Error {
  constructor(
    readonly index: number | null,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${index === null ? "" : `item ${index}, `}field \`${field}\`: ${detail}`);
    this.name = "ItemError";
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  if (typeof value === "number") return `the number ${value}`;
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Reads the fields of one raw item, failing with the item index and field name. */
class Fields {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly index: number,
  ) {}

  private fail(field: string, expected: string, value: unknown): never {
    throw new ItemError(this.index, field, `expected ${expected}, got ${value === undefined ? "nothing (missing)" : describe(value)}`);
  }

  string(field: string): string {
    const v = this.raw[field];
    if (typeof v !== "string") this.fail(field, "a string", v);
    return v;
  }

  optionalString(field: string): string | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") this.fail(field, "a string", v);
    return v;
  }

  nullableString(field: string): string | null {
    const v = this.raw[field];
    if (v === null) return null;
    if (typeof v !== "string") this.fail(field, "a string or null", v);
    return v;
  }

  integer(field: string): number {
    const v = this.raw[field];
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(field, "an integer", v);
    return v;
  }

  optionalInteger(field: string): number | undefined {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    return this.integer(field);
  }

  /** a string, or an integer turned into its decimal string (ids are keys) */
  id(field: string): string {
    const v = this.raw[field];
    if (typeof v === "string") return v;
    if (typeof v === "number" && Number.isInteger(v)) return String(v);
    this.fail(field, "a string or an integer", v);
  }

  boolean(field: string): boolean {
    const v = this.raw[field];
    if (typeof v !== "boolean") this.fail(field, "true or false", v);
    return v;
  }

  strings(field: string, minLength = 1): string[] {
    const v = this.raw[field];
    if (!Array.isArray(v)) this.fail(field, "an array of strings", v);
    if (v.length < minLength) throw new ItemError(this.index, field, `expected at least ${minLength} strings, got ${v.length}`);
    v.forEach((s, i) => {
      if (typeof s !== "string") throw new ItemError(this.index, `${field}[${i}]`, `expected a string, got ${describe(s)}`);
    });
    return v as string[];
  }

  oneOf(field: string, allowed: readonly string[]): string {
    const v = this.string(field);
    if (!allowed.includes(v)) throw new ItemError(this.index, field, `expected one of ${allowed.map((a) => `\`${a}\``).join(", ")}, got ${describe(v)}`);
    return v;
  }
}

/** The 14 MME subtasks in the order of the official `calculation.py`, with their category. */
export const mmeSubtasks: ReadonlyArray<readonly [string, "Perception" | "Cognition"]> = [
  ["existence", "Perception"],
  ["count", "Perception"],
  ["position", "Perception"],
  ["color", "Perception"],
  ["posters", "Perception"],
  ["celebrity", "Perception"],
  ["scene", "Perception"],
  ["landmark", "Perception"],
  ["artwork", "Perception"],
  ["OCR", "Perception"],
  ["commonsense_reasoning", "Cognition"],
  ["numerical_calculation", "Cognition"],
  ["text_translation", "Cognition"],
  ["code_reasoning", "Cognition"],
];

const validators: { [B in BenchmarkName]: (f: Fields, index: number) => ItemsByBenchmark[B] } = {
  vqav2: (f) => ({
    question_id: f.integer("question_id"),
    image_id: f.optionalInteger("image_id"),
    question: f.optionalString("question"),
    question_type: f.string("question_type"),
    answer_type: f.string("answer_type"),
    answers: f.strings("answers"),
    prediction: f.string("prediction"),
  }),
  gqa: (f) => ({
    question_id: f.id("question_id"),
    question: f.string("question"),
    answer: f.string("answer"),
    structural: f.string("structural"),
    semantic: f.string("semantic"),
    prediction: f.string("prediction"),
  }),
  pope: (f) => ({
    question_id: f.id("question_id"),
    category: f.string("category"),
    image: f.optionalString("image"),
    question: f.optionalString("question"),
    label: f.string("label"),
    prediction: f.string("prediction"),
  }),
  mme: (f, index) => {
    const subtask = f.oneOf("subtask", mmeSubtasks.map(([name]) => name));
    const answer = f.string("answer");
    if (!["yes", "no"].includes(answer.toLowerCase())) throw new ItemError(index, "answer", `expected "Yes" or "No", got ${describe(answer)}`);
    const prediction = f.string("prediction");
    // calculation.py reads a tab-separated text file line by line: these would split the line
    const bad = /[\t\n\r]/.exec(prediction);
    if (bad) throw new ItemError(index, "prediction", `contains a ${bad[0] === "\t" ? "tab" : "line break"}, which the MME result file format cannot hold`);
    return { subtask, image: f.optionalString("image"), question: f.optionalString("question"), answer, prediction };
  },
  scienceqa_img: (f, index) => {
    const choices = f.strings("choices");
    if (choices.length > 5) throw new ItemError(index, "choices", `expected at most 5 choices (options A-E), got ${choices.length}`);
    const answer = f.integer("answer");
    if (answer < 0 || answer >= choices.length) throw new ItemError(index, "answer", `expected a choice index from 0 to ${choices.length - 1}, got ${answer}`);
    return {
      question_id: f.id("question_id"),
      question: f.optionalString("question"),
      choices,
      answer,
      has_image: f.boolean("has_image"),
      prediction: f.nullableString("prediction"),
    };
  },
  mmvp: (f, index) => {
    const idx = f.integer("index");
    if (idx < 1) throw new ItemError(index, "index", `expected a 1-based index (1 or more), got ${idx}`);
    return {
      index: idx,
      question: f.optionalString("question"),
      options: f.optionalString("options"),
      answer: f.string("answer"),
      prediction: f.string("prediction"),
      judge: f.optionalString("judge") ?? null,
    };
  },
};

/** The key that must be unique among a benchmark's items, if any (the scripts key dicts by it). */
const uniqueKey: Partial<Record<BenchmarkName, string>> = {
  vqav2: "question_id",
  gqa: "question_id",
  scienceqa_img: "question_id",
  // pope: ids are keys of `per_question_parsed` only (a repeated id keeps its last parse, as a
  // Python dict would); mmvp: a repeated index makes a group of 3, which is not a pair
};

/** Checks every item of `raw` against the benchmark's item format; throws `ItemError`. */
export function validateItems<B extends BenchmarkName>(benchmark: B, raw: unknown): ItemsByBenchmark[B][] {
  if (!Array.isArray(raw)) throw new ItemError(null, "items", `expected an array of items, got ${describe(raw)}`);
  if (raw.length === 0) throw new ItemError(null, "items", "expected at least one item, got an empty array");
  const validate = validators[benchmark] as (f: Fields, index: number) => ItemsByBenchmark[B];
  const seen = new Map<string, number>();
  const key = uniqueKey[benchmark];
  return raw.map((item, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new ItemError(index, "(item)", `expected an object, got ${describe(item)}`);
    }
    const checked = validate(new Fields(item as Record<string, unknown>, index), index);
    if (key) {
      const id = String((checked as unknown as Record<string, unknown>)[key]);
      const first = seen.get(id);
      if (first !== undefined) throw new ItemError(index, key, `duplicate value ${JSON.stringify(id)} (also item ${first})`);
      seen.set(id, index);
    }
    return checked;
  });
}

/**
 * Parses the text of an items file. Accepts `{ benchmark, description, items }` (and, leniently,
 * a bare array of items). Throws `ItemError` (with index null for file-level problems).
 */
export function parseItemsFile<B extends BenchmarkName>(benchmark: B, text: string): { declared: string | undefined; description: string; items: ItemsByBenchmark[B][] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ItemError(null, "(file)", `not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (Array.isArray(data)) return { declared: undefined, description: "", items: validateItems(benchmark, data) };
  if (typeof data !== "object" || data === null) throw new ItemError(null, "(file)", `expected a JSON object with \`items\`, got ${describe(data)}`);
  const obj = data as Record<string, unknown>;
  const declared = typeof obj.benchmark === "string" ? obj.benchmark : undefined;
  const description = typeof obj.description === "string" ? obj.description : "";
  return { declared, description, items: validateItems(benchmark, obj.items) };
}
