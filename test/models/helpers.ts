/** Shared helpers for the model tests: fixture folders, reference tensors, closeness checks. */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { tf } from "../../runtime/tf.js";
import { readFile } from "node:fs/promises";
import { readHeader } from "../../runtime/weights/checkpoint.js";
import { decodeTensor, type HostTensor } from "../../runtime/weights/safetensors.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures", import.meta.url));

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** The inputs and reference outputs stored beside a fixture model (io.safetensors). */
export async function readIo(name: string): Promise<Map<string, HostTensor>> {
  const path = join(fixture(name), "io.safetensors");
  const header = await readHeader(path);
  const bytes = new Uint8Array(await readFile(path));
  const out = new Map<string, HostTensor>();
  for (const e of header.entries.values()) {
    out.set(e.name, decodeTensor(e, bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end), path));
  }
  return out;
}

export function toTensor(h: HostTensor | undefined, name = "tensor"): tf.Tensor {
  if (!h) throw new Error(`reference tensor ${name} is missing`);
  return tf.tensor(h.data, [...h.shape], h.dtype);
}

/** Largest |a - b| over all elements; shapes must agree. */
export function maxAbsDiff(actual: tf.Tensor, expected: HostTensor | tf.Tensor): number {
  const exp = expected instanceof tf.Tensor ? expected : toTensor(expected);
  if (actual.shape.join(",") !== exp.shape.join(",")) {
    throw new Error(`shape [${actual.shape.join(", ")}] differs from the reference [${exp.shape.join(", ")}]`);
  }
  const a = actual.dataSync();
  const b = exp.dataSync();
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  if (!(expected instanceof tf.Tensor)) exp.dispose();
  return worst;
}
