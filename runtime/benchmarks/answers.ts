// LLaVA's answers file: one JSON line per question, as `llava/eval/model_vqa_loader.py` and
// `model_vqa_science.py` write it (`ans_file.write(json.dumps({...}) + "\n")`):
//
//   {"question_id": 1, "prompt": "Is there a dog?\nAnswer ...", "text": "Yes", "answer_id": "...", "model_id": "...", "metadata": {}}
//
// Keys in that order; Python's `json.dumps` defaults (separators `, ` and `: `, `ensure_ascii`:
// every character outside printable ASCII as `\uXXXX`, astral ones as a surrogate pair); the
// `question_id` keeps its JSON type from the question file. LLaVA's `answer_id` is a random
// `shortuuid.uuid()` (22 characters of shortuuid's 57-letter alphabet); mmfm derives it from the
// stage, the benchmark and the question instead (`answerId`), so a rerun writes the same bytes.

import { createHash } from "node:crypto";

/** One line of an answers file. */
export interface AnswerRecord {
  readonly question_id: string | number;
  /** the question as the script's `cur_prompt` (see `answerPrompt`) */
  readonly prompt: string;
  /** the model's decoded answer, special tokens skipped, stripped */
  readonly text: string;
  readonly answer_id: string;
  readonly model_id: string;
  readonly metadata: Readonly<Record<string, never>>;
}

/** A JSON string as Python's `json.dumps` writes it with `ensure_ascii=True` (the default). */
function pythonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else out += `\\u${c.toString(16).padStart(4, "0")}`; // UTF-16 units: astral characters become surrogate pairs, as Python's
  }
  return out + '"';
}

/**
 * `json.dumps(value)` for the values an answers file holds: strings, integers, booleans, null, and
 * arrays and objects of them (object keys in insertion order).
 */
export function pythonJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return pythonString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`pythonJson writes integers only, got ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pythonString(k)}: ${pythonJson(v)}`)
      .join(", ")}}`;
  }
  throw new Error(`pythonJson cannot write a ${typeof value}`);
}

/** One line of the answers file, newline included, keys in the scripts' order. */
export function answerLine(record: AnswerRecord): string {
  const { question_id, prompt, text, answer_id, model_id, metadata } = record;
  return pythonJson({ question_id, prompt, text, answer_id, model_id, metadata }) + "\n";
}

/** shortuuid's default alphabet, in its (sorted) order. */
const ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/**
 * A deterministic `answer_id` in shortuuid's form: the first 128 bits of
 * sha256(`parts` joined by NUL), as a UUID version 4 would be, written in base 57 with
 * shortuuid's alphabet, most significant digit first, padded to 22 characters (what
 * `shortuuid.uuid()` gives for a random UUID).
 */
export function answerId(...parts: readonly string[]): string {
  const bytes = createHash("sha256").update(parts.join("\0")).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  let n = BigInt(`0x${bytes.toString("hex")}`);
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % 57n)] + out;
    n /= 57n;
  }
  return out.padStart(22, ALPHABET[0]);
}

/** An answer read back from a file. */
export interface ReadAnswer {
  readonly questionId: string | number;
  readonly prompt: string | null;
  readonly text: string;
  /** 1-based line number */
  readonly line: number;
}

export interface ParsedAnswers {
  readonly answers: ReadAnswer[];
  /** bytes of the complete lines (a crash mid-write leaves a partial last line after them) */
  readonly completeBytes: number;
  /** the last line is complete JSON but has no newline after it */
  readonly missingNewline: boolean;
  /** a partial last line was found (and is not in `answers`) */
  readonly partialLine: boolean;
}

export class AnswersFileError extends Error {}

/**
 * Reads an answers file's text: one JSON object per line with `question_id` and `text`. A last
 * line that does not parse is a write cut short by a crash, and is left out; a bad line before it
 * is an error naming the file and line.
 */
export function parseAnswers(text: string, path: string): ParsedAnswers {
  const answers: ReadAnswer[] = [];
  let offset = 0;
  let completeBytes = 0;
  let missingNewline = false;
  let partialLine = false;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const last = i === lines.length - 1;
    const bytes = Buffer.byteLength(raw, "utf8") + (last ? 0 : 1);
    if (raw.trim() === "") {
      offset += bytes;
      if (!last) completeBytes = offset;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      if (last) {
        partialLine = true;
        break;
      }
      throw new AnswersFileError(`${path}: line ${i + 1} is not valid JSON (${(e as Error).message}); an answers file holds one JSON object per line`);
    }
    const record = value as { question_id?: unknown; text?: unknown; prompt?: unknown } | null;
    if (typeof record !== "object" || record === null || (typeof record.question_id !== "string" && typeof record.question_id !== "number")) {
      throw new AnswersFileError(`${path}: line ${i + 1} has no \`question_id\` (a string or a number)`);
    }
    if (typeof record.text !== "string") throw new AnswersFileError(`${path}: line ${i + 1} has no \`text\` string (the model's answer)`);
    answers.push({ questionId: record.question_id, prompt: typeof record.prompt === "string" ? record.prompt : null, text: record.text, line: i + 1 });
    offset += bytes;
    completeBytes = offset;
    if (last) missingNewline = true;
  }
  return { answers, completeBytes, missingNewline, partialLine };
}
