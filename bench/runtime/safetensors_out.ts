/**
 * A minimal safetensors writer for the benchmark (F32 and I32 only): 8-byte little-endian header
 * length, a JSON header of dtype/shape/data_offsets, then the raw little-endian data. The runtime's
 * own reader/writer lives in runtime/weights; this keeps the benchmark independent of it.
 */
import * as fs from "node:fs";

export interface NamedArray {
  data: Float32Array | Int32Array;
  shape: number[];
}

export function writeSafetensors(path: string, tensors: Map<string, NamedArray>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.data instanceof Float32Array ? "F32" : "I32", shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const parts: Uint8Array[] = [head, Buffer.from(json)];
  for (const t of tensors.values()) parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  fs.writeFileSync(path, Buffer.concat(parts));
}
