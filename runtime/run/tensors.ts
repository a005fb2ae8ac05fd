/** Named tensors to and from safetensors files, for stage results and checkpoints. */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { tf } from "../tf.js";
import { decodeTensor, headerLength, parseHeader, SafetensorsError, serializeSafetensors, type HostTensor, type TensorToWrite } from "../weights/index.js";
import { FileError, fileError, writeAtomic } from "../../core/files.js";

/**
 * Reads every tensor of a safetensors file into host memory: the header first (its length checked
 * before it is read), then each tensor's bytes, so a file that is not safetensors is never read whole.
 */
export function readTensors(path: string): Map<string, HostTensor> {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const first = readAt(fd, 0, Math.min(8, size), path);
    if (size < 8) parseHeader(first, size, path); // throws: too short
    const header = parseHeader(readAt(fd, 0, 8 + headerLength(first, size, path), path), size, path);
    const out = new Map<string, HostTensor>();
    for (const entry of header.entries.values()) {
      out.set(entry.name, decodeTensor(entry, readAt(fd, header.dataStart + entry.begin, entry.end - entry.begin, path), path));
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, position: number, length: number, path: string): Uint8Array {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new SafetensorsError(`${path}: unexpected end of file at byte ${position + done}`);
    done += n;
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
 * Checks that `tensors` hold every variable with its shape; a mismatch means the file belongs to
 * another configuration (which cache keys should make impossible) or was damaged.
 */
export function checkFits(tensors: ReadonlyMap<string, HostTensor>, params: ReadonlyMap<string, tf.Variable>, path: string, help?: string): void {
  const problems: string[] = [];
  for (const [name, v] of params) {
    const t = tensors.get(name);
    if (!t) problems.push(`\`${name}\` is missing`);
    else if (t.shape.join(",") !== v.shape.join(",")) problems.push(`\`${name}\`: [${t.shape.join(", ")}] in the file, [${v.shape.join(", ")}] in the model`);
  }
  if (problems.length === 0) return;
  const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : "";
  throw new FileError(`${path} does not fit the model:\n  ${problems.slice(0, 10).join("\n  ")}${more}${help ? `\n  help: ${help}` : ""}`);
}

/** Assigns every variable from host tensors already checked by `checkFits`. */
export function assignHost(tensors: ReadonlyMap<string, HostTensor>, params: ReadonlyMap<string, tf.Variable>): void {
  for (const [name, v] of params) {
    const t = tensors.get(name)!;
    const value = tf.tensor(t.data, t.shape as number[], t.dtype);
    v.assign(value);
    value.dispose();
  }
}

/** Assigns every variable from the file; every name must be present with its shape. */
export function assignFrom(path: string, params: ReadonlyMap<string, tf.Variable>, help?: string): void {
  let tensors: Map<string, HostTensor>;
  try {
    tensors = readTensors(path);
  } catch (error) {
    if (!(error instanceof SafetensorsError) || !help) throw fileError(error, "read", path);
    throw new SafetensorsError(`${error.message}\n  help: ${help}`);
  }
  checkFits(tensors, params, path, help);
  assignHost(tensors, params);
}
