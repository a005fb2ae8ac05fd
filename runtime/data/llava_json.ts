/**
 * LLaVA conversation files (`llava_v1_5_mix665k.json`, `blip_laion_cc_sbu_558k.json`, or any file in
 * that format), read lazily: the file is scanned once for sample boundaries (never held as one
 * string) and a sample is parsed and checked when it is asked for; images are decoded only on demand.
 *
 * The format (reference/llava-gemma.md §2.8):
 *
 *     [{"id": "...", "image": "coco/train2017/1.jpg",
 *       "conversations": [{"from": "human", "value": "<image>\nWhat is ...?"},
 *                         {"from": "gpt", "value": "A cat."}, ...]}, ...]
 *
 * What a sample becomes, as LLaVA's `LazySupervisedDataset` + `preprocess_multimodal` do it:
 * - a leading turn that is not from `human` is skipped; then turns must alternate human, gpt;
 * - in each turn that holds `<image>`, every `<image>` is removed and one is put at the front:
 *   `"<image>\n" + rest.strip()`, then stripped (so a turn of only `<image>` stays `<image>`);
 * - an `image` field without any `<image>` in the text: LLaVA-1.5's code then silently ignores the
 *   image. Here `<image>\n` is added at the front of the first human turn (counted in
 *   `stats.imageTokenAdded`), or, with `imageWithoutToken: "error"`, the sample is invalid.
 */
import { statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { IMAGE_TOKEN } from "./constants.js";
import { DataError, type DataErrorReason, describeJsonType } from "./errors.js";
import { decodeImage, ImageDecodeError, verifyImage, type RgbImage } from "./images.js";
import { type ArrayIndex, readRange, scanJsonArray } from "./json_scan.js";

export interface LlavaTurn {
  readonly role: "user" | "assistant";
  readonly text: string;
}

export interface LlavaSample {
  /** 0-based position of the sample in the file's top-level array */
  readonly index: number;
  readonly id: string | undefined;
  /** the `image` field as written in the file */
  readonly imageField: string | undefined;
  /** the image's path (the field resolved against the images folder) */
  readonly image: string | undefined;
  /** human, gpt, human, gpt, ... after skipping a leading non-human turn, `<image>` moved to the front */
  readonly turns: readonly LlavaTurn[];
  /** true when the file had an image but no `<image>` and one was added */
  readonly imageTokenAdded: boolean;
  /**
   * words of the conversation as written in the file (every turn's value split on whitespace, as
   * Python's `str.split()`): the length LLaVA's `modality_lengths` groups batches by
   */
  readonly words: number;
}

/** Python's `str.isspace()` characters: `str.split()` with no argument splits on runs of them. */
const PYTHON_WHITESPACE = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** `len(text.split())`. */
export function pythonWordCount(text: string): number {
  return text.split(PYTHON_WHITESPACE).filter((w) => w !== "").length;
}

export interface ParseContext {
  readonly file: string;
  readonly index: number;
  readonly imagesDir: string;
  readonly imageWithoutToken?: "add" | "error";
}

function fail(ctx: ParseContext, id: string | undefined, reason: DataErrorReason, message: string, field?: string): never {
  throw new DataError({ reason, message, file: ctx.file, index: ctx.index, id, field });
}

/** LLaVA's `preprocess_multimodal` for one turn: all `<image>` removed, one put at the front. */
export function moveImageTokenToFront(text: string): string {
  if (!text.includes(IMAGE_TOKEN)) return text;
  const rest = text.split(IMAGE_TOKEN).join("").trim();
  return `${IMAGE_TOKEN}\n${rest}`.trim();
}

/** Checks and normalises one parsed sample; throws a `DataError` naming the field. */
export function parseSample(value: unknown, ctx: ParseContext): LlavaSample {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(ctx, undefined, "not-an-object", `a sample must be an object, found ${describeJsonType(value)}`);
  }
  const obj = value as Record<string, unknown>;
  const id = typeof obj.id === "string" ? obj.id : typeof obj.id === "number" ? String(obj.id) : undefined;

  const conv = obj.conversations;
  if (conv === undefined) fail(ctx, id, "missing-conversations", "the sample has no `conversations`", "conversations");
  if (!Array.isArray(conv)) fail(ctx, id, "missing-conversations", `expected an array of turns, found ${describeJsonType(conv)}`, "conversations");

  const raw: { from: string; value: string }[] = [];
  conv.forEach((turn: unknown, k: number) => {
    if (turn === null || typeof turn !== "object" || Array.isArray(turn)) {
      fail(ctx, id, "bad-turn", `expected a turn object, found ${describeJsonType(turn)}`, `conversations[${k}]`);
    }
    const t = turn as Record<string, unknown>;
    if (typeof t.from !== "string") {
      fail(ctx, id, "bad-turn", `expected \`human\` or \`gpt\`, found ${describeJsonType(t.from)}`, `conversations[${k}].from`);
    }
    if (t.from !== "human" && t.from !== "gpt") {
      fail(ctx, id, "bad-turn", `unknown speaker \`${t.from}\` (expected \`human\` or \`gpt\`)`, `conversations[${k}].from`);
    }
    if (typeof t.value !== "string") {
      fail(ctx, id, "bad-turn", `expected a string, found ${describeJsonType(t.value)}`, `conversations[${k}].value`);
    }
    raw.push({ from: t.from, value: t.value });
  });

  // LLaVA: "Skip the first one if it is not from human"
  const offset = raw.length > 0 && raw[0].from !== "human" ? 1 : 0;
  const kept = raw.slice(offset);
  if (kept.length === 0) {
    fail(ctx, id, "no-reply", raw.length === 0 ? "the conversation is empty" : "the conversation has no human turn", "conversations");
  }
  kept.forEach((t, j) => {
    const expected = j % 2 === 0 ? "human" : "gpt";
    if (t.from !== expected) {
      fail(ctx, id, "bad-turn", `turns must alternate human, gpt: found \`${t.from}\` where \`${expected}\` was expected`, `conversations[${j + offset}].from`);
    }
  });
  if (kept.length % 2 === 1) {
    fail(ctx, id, "no-reply", `the last human turn has no reply from \`gpt\``, `conversations[${kept.length - 1 + offset}]`);
  }

  let imageField: string | undefined;
  if (obj.image !== undefined && obj.image !== null) {
    if (typeof obj.image !== "string") {
      const extra = Array.isArray(obj.image) ? " (one image per sample, as LLaVA-1.5)" : "";
      fail(ctx, id, "bad-image-field", `expected a file name, found ${describeJsonType(obj.image)}${extra}`, "image");
    }
    if (obj.image.trim() === "") fail(ctx, id, "bad-image-field", "the image file name is empty", "image");
    imageField = obj.image;
  }

  const withToken = kept.map((t, j) => (t.value.includes(IMAGE_TOKEN) ? j : -1)).filter((j) => j >= 0);
  if (imageField === undefined && withToken.length > 0) {
    fail(ctx, id, "image-token-without-image", "the text has `<image>` but the sample has no `image`", `conversations[${withToken[0] + offset}].value`);
  }
  if (withToken.length > 1) {
    fail(
      ctx,
      id,
      "too-many-image-tokens",
      `\`<image>\` appears in ${withToken.length} turns (conversations[${withToken.map((j) => j + offset).join("], [")}]) but a sample has one image`,
      "conversations",
    );
  }
  let imageTokenAdded = false;
  const turns: LlavaTurn[] = kept.map((t) => ({
    role: t.from === "human" ? "user" : "assistant",
    text: imageField !== undefined ? moveImageTokenToFront(t.value) : t.value,
  }));
  if (imageField !== undefined && withToken.length === 0) {
    if (ctx.imageWithoutToken === "error") {
      fail(ctx, id, "image-without-image-token", "the sample has an `image` but no `<image>` in its text", `conversations[${offset}].value`);
    }
    turns[0] = { role: "user", text: moveImageTokenToFront(`${IMAGE_TOKEN}\n${turns[0].text}`) };
    imageTokenAdded = true;
  }
  return {
    index: ctx.index,
    id,
    imageField,
    image: imageField === undefined ? undefined : resolve(ctx.imagesDir, imageField),
    turns,
    imageTokenAdded,
    words: raw.reduce((n, t) => n + pythonWordCount(t.value), 0),
  };
}

/** Parses the bytes of one sample; a JSON error names the byte and line in the file. */
export function parseSampleBytes(bytes: Uint8Array, ctx: ParseContext & { readonly start: number; readonly line: number }): LlavaSample {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const m = /position (\d+)/.exec(message);
    let line = ctx.line;
    let byte = ctx.start;
    if (m) {
      const pos = Number(m[1]);
      const before = text.slice(0, pos);
      line += before.split("\n").length - 1;
      byte += Buffer.byteLength(before, "utf8");
    }
    const reason = message.replace(/ in JSON at position \d+.*$/, "").replace(/, (\.\.\.)?".*is not valid JSON$/s, "");
    throw new DataError({ reason: "broken-json", message: `invalid JSON: ${reason}`, file: ctx.file, index: ctx.index, line, byte });
  }
  return parseSample(value, ctx);
}

export interface LlavaOpenOptions {
  /**
   * parse and check every sample while opening (streamed; nothing is kept but the index), and check
   * the images per `checkImages`; default true. With false, a bad sample is found when `get` reads it.
   */
  readonly validate?: boolean;
  /** `error` (default): the first invalid sample is an error; `skip`: invalid samples are left out and counted */
  readonly onInvalid?: "error" | "skip";
  /** while validating: `exists` (default) stats each image file, `decode` also decodes it fully (as training does), `none` skips */
  readonly checkImages?: "none" | "exists" | "decode";
  /** an `image` without `<image>` in the text: `add` it (default) or count the sample as invalid */
  readonly imageWithoutToken?: "add" | "error";
  /** how many skipped samples' messages to keep in `stats.examples` (default 20) */
  readonly keepExamples?: number;
}

export interface LlavaStats {
  readonly file: string;
  /** elements in the file's array */
  readonly samples: number;
  /** samples the dataset serves (= `length`) */
  readonly kept: number;
  readonly withImage: number;
  readonly textOnly: number;
  readonly skipped: number;
  readonly skippedByReason: Readonly<Partial<Record<DataErrorReason, number>>>;
  /** the messages of the first skipped samples */
  readonly examples: readonly string[];
  /** samples whose `<image>` was added (image field without `<image>`); counted only when validated */
  readonly imageTokenAdded: number;
  readonly validated: boolean;
}

export interface LlavaDataset {
  readonly file: string;
  readonly imagesDir: string;
  readonly length: number;
  readonly stats: LlavaStats;
  /** whether sample `i` has an image (from the scan: a top-level `image` that is not null) */
  hasImage(i: number): boolean;
  /** the sample's size in bytes in the file: a cheap length for grouping */
  byteLength(i: number): number;
  /**
   * each sample's `words` (LlavaSample), in dataset order: from the opening scan when the file was
   * validated, else read sample by sample
   */
  wordCounts(): Promise<Uint32Array>;
  /** 0-based position in the file of the dataset's sample `i` (differs when samples were skipped) */
  fileIndex(i: number): number;
  /** parses sample `i`; throws a `DataError` for a malformed sample */
  get(i: number): Promise<LlavaSample>;
  /** decodes the sample's image; throws a `DataError` naming the file, sample and path */
  loadImage(sample: LlavaSample): Promise<RgbImage>;
}

/** Opens a LLaVA conversation file. See `LlavaOpenOptions` for validation and skipping. */
export async function openLlavaJson(annotationsPath: string, imagesDir: string, options: LlavaOpenOptions = {}): Promise<LlavaDataset> {
  const file = basename(annotationsPath);
  const validate = options.validate ?? true;
  const onInvalid = options.onInvalid ?? "error";
  const checkImages = options.checkImages ?? "exists";
  const keepExamples = options.keepExamples ?? 20;
  const imageWithoutToken = options.imageWithoutToken ?? "add";

  const skipped = new Map<number, DataError>();
  const byReason: Partial<Record<DataErrorReason, number>> = {};
  const examples: string[] = [];
  let imageTokenAdded = 0;
  const toDecode: LlavaSample[] = [];
  const words: number[] = [];

  const reject = (error: DataError): void => {
    if (onInvalid === "error") throw error;
    const index = error.index ?? -1;
    if (skipped.has(index)) return;
    skipped.set(index, error);
    byReason[error.reason] = (byReason[error.reason] ?? 0) + 1;
    if (examples.length < keepExamples) examples.push(error.message);
  };

  const index: ArrayIndex = await scanJsonArray(annotationsPath, {
    displayName: file,
    onElement: validate
      ? (bytes, i, line, start) => {
          try {
            const sample = parseSampleBytes(bytes, { file, index: i, imagesDir, imageWithoutToken, start, line });
            words[i] = sample.words;
            if (sample.imageTokenAdded) imageTokenAdded++;
            if (sample.image !== undefined && checkImages !== "none") {
              let exists = false;
              try {
                exists = statSync(sample.image).isFile();
              } catch {
                exists = false;
              }
              if (!exists) {
                throw new DataError({
                  reason: "missing-image",
                  message: `the image file does not exist: ${sample.image}`,
                  file,
                  index: i,
                  id: sample.id,
                  field: "image",
                });
              }
              if (checkImages === "decode") toDecode.push(sample);
            }
          } catch (error) {
            if (error instanceof DataError) reject(error);
            else throw error;
          }
        }
      : undefined,
  });

  for (let k = 0; k < toDecode.length; k += 16) {
    const batch = toDecode.slice(k, k + 16);
    const results = await Promise.allSettled(batch.map((s) => verifyImage(s.image as string)));
    results.forEach((r, j) => {
      if (r.status === "rejected") reject(imageError(r.reason, file, batch[j]));
    });
  }

  // the dataset's samples: all, or those not skipped
  let map: Uint32Array | undefined;
  if (skipped.size > 0) {
    map = new Uint32Array(index.count - skipped.size);
    let n = 0;
    for (let i = 0; i < index.count; i++) if (!skipped.has(i)) map[n++] = i;
  }
  const length = map ? map.length : index.count;
  const at = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= length) throw new RangeError(`sample ${i} is out of range: ${file} has ${length} samples`);
    return map ? map[i] : i;
  };
  let withImage = 0;
  for (let i = 0; i < length; i++) withImage += index.hasImage[map ? map[i] : i];

  const stats: LlavaStats = {
    file,
    samples: index.count,
    kept: length,
    withImage,
    textOnly: length - withImage,
    skipped: skipped.size,
    skippedByReason: byReason,
    examples,
    imageTokenAdded,
    validated: validate,
  };

  let counts: Uint32Array | undefined;
  const dataset: LlavaDataset = {
    file,
    imagesDir,
    length,
    stats,
    hasImage: (i) => index.hasImage[at(i)] === 1,
    byteLength: (i) => {
      const k = at(i);
      return index.ends[k] - index.starts[k];
    },
    fileIndex: at,
    async wordCounts() {
      if (!counts) {
        const out = new Uint32Array(length);
        for (let i = 0; i < length; i++) out[i] = validate ? words[at(i)] : (await dataset.get(i)).words;
        counts = out;
      }
      return counts;
    },
    async get(i) {
      const k = at(i);
      const bytes = await readRange(annotationsPath, index.starts[k], index.ends[k]);
      return parseSampleBytes(bytes, { file, index: k, imagesDir, imageWithoutToken, start: index.starts[k], line: index.lines[k] });
    },
    async loadImage(sample) {
      if (sample.image === undefined) {
        throw new DataError({ reason: "bad-image-field", message: "the sample has no image", file, index: sample.index, id: sample.id, field: "image" });
      }
      try {
        return await decodeImage(sample.image);
      } catch (error) {
        throw imageError(error, file, sample);
      }
    },
  };
  return dataset;
}

function imageError(error: unknown, file: string, sample: LlavaSample): DataError {
  const missing = error instanceof ImageDecodeError && error.code === "missing";
  const message = error instanceof Error ? error.message : String(error);
  return new DataError({
    reason: missing ? "missing-image" : "unreadable-image",
    message,
    file,
    index: sample.index,
    id: sample.id,
    field: "image",
  });
}
