/**
 * The `.safetensors` format, read and written exactly (https://github.com/huggingface/safetensors):
 *
 *   [8 bytes: N, little-endian u64] [N bytes: JSON header, space-padded] [raw little-endian data]
 *
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets into the
 * data part) and may hold a `__metadata__` map of strings. The tensors must cover the data part with no
 * gap and no overlap. Every violation is reported with the file, the tensor and the numbers involved.
 *
 * In memory the runtime holds float32 and int32 only: F16, BF16 and F64 become float32; I64, I32, I16,
 * I8, U8 and BOOL become int32 (an I64 value outside the int32 range is an error, never wrapped).
 */

/** The dtypes this reader understands, with their size in bytes. */
export const SAFETENSORS_DTYPES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** One header entry, after validation. `begin`/`end` are offsets into the data part. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Byte length of the 8-byte prefix plus the JSON header: where the data part starts in the file. */
  readonly dataStart: number;
  readonly entries: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A tensor in memory, converted to the runtime's dtypes. */
export interface HostTensor {
  readonly dtype: "float32" | "int32";
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export class SafetensorsError extends Error {
  override readonly name = "SafetensorsError";
}

/** Headers larger than this are refused (the reference implementation's limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** Number of elements of `shape` (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The header length N from the first 8 bytes, checked against the file size and the limit before
 * anything is allocated for it: a file that is not safetensors (a renamed PyTorch `.bin` is a zip
 * archive, whose first bytes read as an enormous N) must be refused, never read whole.
 */
export function headerLength(first8: Uint8Array, fileBytes: number, file: string): number {
  if (fileBytes < 8 || first8.byteLength < 8) {
    throw new SafetensorsError(`${file}: ${fileBytes} bytes is too short for a safetensors file (needs 8 or more)`);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const headerBytes = view.getBigUint64(0, true);
  if (headerBytes <= BigInt(MAX_HEADER_BYTES) && 8 + Number(headerBytes) <= fileBytes) return Number(headerBytes);
  const zip = first8[0] === 0x50 && first8[1] === 0x4b; // "PK": torch.save's zip archive
  throw new SafetensorsError(
    `${file}: the header claims ${headerBytes} bytes but the file has ${fileBytes} bytes ` +
      `(the header must fit in the file and be at most ${MAX_HEADER_BYTES} bytes); ` +
      (zip
        ? "the file starts like a zip archive, as a PyTorch `.bin`/`.pt` checkpoint does: convert it to safetensors"
        : "is this a safetensors file? it may be truncated or of another format"),
  );
}

/** Reads and validates the header. `prefix` holds at least the first 8 + N bytes of the file. */
export function parseHeader(prefix: Uint8Array, fileBytes: number, file: string): SafetensorsHeader {
  if (fileBytes < 8) {
    throw new SafetensorsError(`${file}: ${fileBytes} bytes is too short for a safetensors file (needs 8 or more)`);
  }
  const headerBytes = headerLength(prefix, fileBytes, file);
  if (prefix.byteLength < 8 + headerBytes) {
    throw new SafetensorsError(`${file}: internal error: header prefix not fully read`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(prefix.subarray(8, 8 + headerBytes)));
  } catch (e) {
    throw new SafetensorsError(`${file}: the ${headerBytes}-byte header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new SafetensorsError(`${file}: the header must be a JSON object`);
  }
  const dataBytes = fileBytes - 8 - headerBytes;
  const problems: string[] = [];
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = checkMetadata(raw, problems);
      continue;
    }
    const entry = checkEntry(name, raw, dataBytes, problems);
    if (entry) entries.set(name, entry);
  }
  checkCoverage([...entries.values()], dataBytes, problems);
  if (problems.length > 0) {
    throw new SafetensorsError(`${file}: invalid safetensors header:\n  ${problems.join("\n  ")}`);
  }
  return { dataStart: 8 + headerBytes, entries, metadata };
}

function checkMetadata(raw: unknown, problems: string[]): Record<string, string> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push("`__metadata__` must be an object of strings");
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== "string") problems.push(`\`__metadata__.${k}\` must be a string, got ${JSON.stringify(v)}`);
    else out[k] = v;
  }
  return out;
}

function checkEntry(name: string, raw: unknown, dataBytes: number, problems: string[]): TensorEntry | null {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push(`\`${name}\`: entry must be an object with dtype, shape and data_offsets`);
    return null;
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  const before = problems.length;
  if (typeof dtype !== "string" || !(dtype in SAFETENSORS_DTYPES)) {
    problems.push(
      `\`${name}\`: dtype ${JSON.stringify(dtype)} is not supported (supported: ${Object.keys(SAFETENSORS_DTYPES).join(", ")})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    problems.push(`\`${name}\`: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    problems.push(`\`${name}\`: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  if (problems.length > before) return null;
  const [begin, end] = offsets as [number, number];
  const dims = shape as number[];
  const expected = numel(dims) * SAFETENSORS_DTYPES[dtype as SafetensorsDtype];
  if (end - begin !== expected) {
    problems.push(
      `\`${name}\`: ${dtype} shape [${dims.join(", ")}] needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
    return null;
  }
  if (end > dataBytes) {
    problems.push(`\`${name}\`: data_offsets end ${end} is past the end of the data (${dataBytes} bytes)`);
    return null;
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: dims, begin, end };
}

/** The spec requires the tensors to tile the data part exactly: no gap, no overlap, nothing after. */
function checkCoverage(entries: TensorEntry[], dataBytes: number, problems: string[]): void {
  const sorted = [...entries].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  let at = 0;
  let previous = "the start of the data";
  for (const e of sorted) {
    if (e.begin < at) problems.push(`\`${e.name}\` (bytes ${e.begin}-${e.end}) overlaps ${previous} (ends at ${at})`);
    else if (e.begin > at) problems.push(`bytes ${at}-${e.begin} between ${previous} and \`${e.name}\` belong to no tensor`);
    at = Math.max(at, e.end);
    previous = `\`${e.name}\``;
  }
  if (problems.length === 0 && at !== dataBytes) {
    problems.push(`the data part has ${dataBytes} bytes but the tensors cover only ${at}`);
  }
}

/** Converts the raw little-endian bytes of one entry to a float32 or int32 host tensor. */
export function decodeTensor(entry: TensorEntry, bytes: Uint8Array, file: string): HostTensor {
  const n = numel(entry.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = entry.shape;
  switch (entry.dtype) {
    case "F32": {
      if (LITTLE_ENDIAN) return { dtype: "float32", shape, data: new Float32Array(aligned(bytes, 4 * n)) };
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
      return { dtype: "float32", shape, data };
    }
    case "F64": {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat64(8 * i, true);
      return { dtype: "float32", shape, data };
    }
    case "F16": {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(2 * i, true));
      return { dtype: "float32", shape, data };
    }
    case "BF16": {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return { dtype: "float32", shape, data: new Float32Array(bits.buffer) };
    }
    case "I64": {
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new SafetensorsError(
            `${file}: \`${entry.name}\` element ${i} is ${v}, outside the int32 range the runtime uses for I64 tensors`,
          );
        }
        data[i] = Number(v);
      }
      return { dtype: "int32", shape, data };
    }
    case "I32": {
      if (LITTLE_ENDIAN) return { dtype: "int32", shape, data: new Int32Array(aligned(bytes, 4 * n)) };
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt32(4 * i, true);
      return { dtype: "int32", shape, data };
    }
    case "I16": {
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt16(2 * i, true);
      return { dtype: "int32", shape, data };
    }
    case "I8":
      return { dtype: "int32", shape, data: Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, n)) };
    case "U8":
    case "BOOL":
      return { dtype: "int32", shape, data: Int32Array.from(bytes.subarray(0, n)) };
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A fresh, 4-byte aligned copy of the first `length` bytes. */
function aligned(bytes: Uint8Array, length: number): ArrayBuffer {
  const out = new Uint8Array(length);
  out.set(bytes.subarray(0, length));
  return out.buffer;
}

/** IEEE 754 half precision bits to a number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A tensor to write: float32 data is stored as F32, int32 data as I32. */
export interface TensorToWrite {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/**
 * Serialises tensors (in name order) into one safetensors byte array. `metadata` defaults to
 * `{ format: "pt" }`, which transformers requires to load a file.
 */
export function serializeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of sorted) {
    if (numel(t.shape) !== t.data.length) {
      throw new SafetensorsError(
        `cannot write \`${t.name}\`: shape [${t.shape.join(", ")}] has ${numel(t.shape)} elements but the data has ${t.data.length}`,
      );
    }
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: t.data instanceof Float32Array ? "F32" : "I32", shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const rawLength = new TextEncoder().encode(json).length;
  json += " ".repeat((8 - ((8 + rawLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of sorted) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
      at += t.data.byteLength;
      continue;
    }
    for (let i = 0; i < t.data.length; i++, at += 4) {
      if (t.data instanceof Float32Array) view.setFloat32(at, t.data[i], true);
      else view.setInt32(at, t.data[i], true);
    }
  }
  return out;
}
