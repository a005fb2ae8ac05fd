/**
 * Errors of the data path. Each names the file, the sample (0-based index in the file's array and its
 * `id` when it has one), the field and what is wrong, so that a user can find the sample in a 1 GB file.
 */

/** Why a sample was rejected; the keys of `LlavaStats.skippedByReason`. */
export type DataErrorReason =
  | "broken-json"
  | "not-an-object"
  | "missing-conversations"
  | "bad-turn"
  | "no-reply"
  | "image-token-without-image"
  | "image-without-image-token"
  | "too-many-image-tokens"
  | "bad-image-field"
  | "missing-image"
  | "unreadable-image"
  | "template"
  | "too-long";

export interface DataErrorInit {
  readonly reason: DataErrorReason;
  /** what is wrong, lowercase, no full stop */
  readonly message: string;
  readonly file?: string;
  /** 0-based position of the sample in the file's top-level array */
  readonly index?: number;
  readonly id?: string;
  /** the JSON path of the field, e.g. `conversations[1].value` */
  readonly field?: string;
  /** for broken JSON: byte offset and 1-based line in the file */
  readonly byte?: number;
  readonly line?: number;
}

export class DataError extends Error {
  readonly reason: DataErrorReason;
  readonly detail: string;
  readonly file: string | undefined;
  readonly index: number | undefined;
  readonly id: string | undefined;
  readonly field: string | undefined;
  readonly byte: number | undefined;
  readonly line: number | undefined;

  constructor(init: DataErrorInit) {
    super(formatDataError(init));
    this.name = "DataError";
    this.reason = init.reason;
    this.detail = init.message;
    this.file = init.file;
    this.index = init.index;
    this.id = init.id;
    this.field = init.field;
    this.byte = init.byte;
    this.line = init.line;
  }

  /** The same error with more context (used when a lower layer did not know the file or sample). */
  with(context: Partial<Omit<DataErrorInit, "reason" | "message">>): DataError {
    return new DataError({
      reason: this.reason,
      message: this.detail,
      file: this.file ?? context.file,
      index: this.index ?? context.index,
      id: this.id ?? context.id,
      field: this.field ?? context.field,
      byte: this.byte ?? context.byte,
      line: this.line ?? context.line,
    });
  }
}

/** `train.json: sample 12 (id `abc`), line 40, field `conversations[1].value`: expected a string, found a number` */
export function formatDataError(e: DataErrorInit): string {
  const where: string[] = [];
  if (e.index !== undefined) where.push(`sample ${e.index}${e.id !== undefined ? ` (id \`${e.id}\`)` : ""}`);
  if (e.line !== undefined) where.push(`line ${e.line}`);
  if (e.byte !== undefined) where.push(`byte ${e.byte}`);
  if (e.field !== undefined) where.push(`field \`${e.field}\``);
  const prefix = [e.file, where.join(", ")].filter((s) => s !== undefined && s !== "").join(": ");
  return prefix ? `${prefix}: ${e.message}` : e.message;
}

/** `a number`, `an array`, `null`: how a JSON value's type reads in a message. */
export function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}
