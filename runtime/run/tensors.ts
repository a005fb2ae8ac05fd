/** Named tensors to and from safetensors files, for stage results and checkpoints. */
import { readFileSync } from "node:fs";
import { tf } from "../tf.js";
import { decodeTensor, parseHeader, serializeSafetensors, type HostTensor, type TensorToWrite } from "../weights/index.js";
import { writeAtomic } from "../../core/files.js";

/** Reads every tensor of a safetensors file into host memory. */
export function readTensors(path: string): Map<string, HostTensor> {
  const bytes = new Uint8Array(readFileSync(path));
  const header = parseHeader(bytes, bytes.byteLength, path);
  const out = new Map<string, HostTensor>();
  for (const entry of header.entries.values()) {
    out.set(entry.name, decodeTensor(entry, bytes.subarray(header.dataStart + entry.begin, header.dataStart + entry.end), path));
  }
  return out;
}

/** Writes tensors (read from the device) to a safetensors file, atomically. */
export async function writeTensors(path: string, tensors: ReadonlyMap<string, tf.Tensor>, metadata?: Record<string, string>): Promise<void> {
  const list: TensorToWrite[] = [];
  for (const [name, t] of tensors) {
    const data = await t.data();
    list.push({ name, shape: t.shape, data: data instanceof Int32Array ? data : Float32Array.from(data as Float32Array) });
  }
  writeAtomic(path, serializeSafetensors(list, metadata));
}

/**
 * Assigns every variable from the file; every name must be present with its shape (a mismatch means
 * the file belongs to another configuration, which cache keys should make impossible).
 */
export function assignFrom(path: string, params: ReadonlyMap<string, tf.Variable>): void {
  const tensors = readTensors(path);
  const problems: string[] = [];
  for (const [name, v] of params) {
    const t = tensors.get(name);
    if (!t) problems.push(`\`${name}\` is missing`);
    else if (t.shape.join(",") !== v.shape.join(",")) problems.push(`\`${name}\`: [${t.shape.join(", ")}] in the file, [${v.shape.join(", ")}] in the model`);
  }
  if (problems.length) throw new Error(`${path} does not fit the model:\n  ${problems.slice(0, 10).join("\n  ")}`);
  for (const [name, v] of params) {
    const t = tensors.get(name)!;
    const value = tf.tensor(t.data, t.shape as number[], t.dtype);
    v.assign(value);
    value.dispose();
  }
}
