/**
 * Hugging Face checkpoint folders: `model.safetensors`, or shards listed by
 * `model.safetensors.index.json` (`{ "metadata": {...}, "weight_map": { name: shard file } }`).
 *
 * `openCheckpoint` reads only the headers, so a loader can check names and shapes before any data is
 * read; `read(name)` then reads one tensor from its file. `writeCheckpoint` writes the same layout.
 */
import { open, readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  decodeTensor,
  headerLength,
  parseHeader,
  serializeSafetensors,
  SafetensorsError,
  type HostTensor,
  type TensorEntry,
  type TensorToWrite,
} from "./safetensors.js";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

export interface CheckpointEntry extends TensorEntry {
  /** The file (absolute or relative to the working directory) that holds this tensor. */
  readonly file: string;
  readonly dataStart: number;
}

export interface Checkpoint {
  readonly entries: ReadonlyMap<string, CheckpointEntry>;
  read(name: string): Promise<HostTensor>;
}

/** Opens the safetensors checkpoint in `dir` (single file or sharded) and validates every header. */
export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const listing = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw new SafetensorsError(`cannot read checkpoint folder ${dir}: ${e.code ?? e.message}`);
  });
  let files: string[];
  let weightMap: Record<string, string> | null = null;
  if (listing.includes(SINGLE_FILE)) {
    files = [SINGLE_FILE];
  } else if (listing.includes(INDEX_FILE)) {
    weightMap = await readWeightMap(join(dir, INDEX_FILE));
    files = [...new Set(Object.values(weightMap))].sort();
    const absent = files.filter((f) => !listing.includes(f));
    if (absent.length > 0) {
      throw new SafetensorsError(`${join(dir, INDEX_FILE)} lists shards that are not in ${dir}: ${absent.join(", ")}`);
    }
  } else {
    const other = listing.filter((f) => /\.(bin|pt|pth|ckpt|h5|msgpack)$/.test(f));
    throw new SafetensorsError(
      `${dir} has neither ${SINGLE_FILE} nor ${INDEX_FILE}` +
        (other.length > 0 ? ` (found ${other.join(", ")}: convert the weights to safetensors)` : ""),
    );
  }
  const entries = new Map<string, CheckpointEntry>();
  const problems: string[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const header = await readHeader(path);
    for (const e of header.entries.values()) {
      const seen = entries.get(e.name);
      if (seen) {
        problems.push(`\`${e.name}\` is in both ${seen.file} and ${path}`);
        continue;
      }
      if (weightMap && weightMap[e.name] !== f) {
        problems.push(
          weightMap[e.name] === undefined
            ? `\`${e.name}\` is in ${f} but not in the index's weight_map`
            : `\`${e.name}\` is in ${f} but the index says ${weightMap[e.name]}`,
        );
      }
      entries.set(e.name, { ...e, file: path, dataStart: header.dataStart });
    }
  }
  if (weightMap) {
    for (const [name, f] of Object.entries(weightMap)) {
      if (!entries.has(name)) problems.push(`the index puts \`${name}\` in ${f}, which does not hold it`);
    }
  }
  if (problems.length > 0) {
    throw new SafetensorsError(`inconsistent sharded checkpoint in ${dir}:\n  ${problems.join("\n  ")}`);
  }
  return {
    entries,
    async read(name: string): Promise<HostTensor> {
      const e = entries.get(name);
      if (!e) throw new SafetensorsError(`no tensor \`${name}\` in the checkpoint in ${dir}`);
      const bytes = await readRange(e.file, e.dataStart + e.begin, e.end - e.begin);
      return decodeTensor(e, bytes, e.file);
    },
  };
}

async function readWeightMap(path: string): Promise<Record<string, string>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new SafetensorsError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== "object" || Array.isArray(map)) {
    throw new SafetensorsError(`${path} has no \`weight_map\` object`);
  }
  for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
    if (typeof v !== "string" || v.includes("/") || v.includes("\\")) {
      throw new SafetensorsError(`${path}: weight_map entry \`${k}\` must name a file in the folder, got ${JSON.stringify(v)}`);
    }
  }
  return map as Record<string, string>;
}

/** Reads and validates the header of one safetensors file. */
export async function readHeader(path: string) {
  const handle = await open(path, "r").catch((e: NodeJS.ErrnoException) => {
    throw new SafetensorsError(`cannot open ${path}: ${e.code ?? e.message}`);
  });
  try {
    const size = (await handle.stat()).size;
    const first = new Uint8Array(Math.min(8, size));
    await handle.read(first, 0, first.length, 0);
    if (size < 8) return parseHeader(first, size, path);
    // the length is checked before the header is allocated: only the header is ever read here
    const prefix = new Uint8Array(8 + headerLength(first, size, path));
    await handle.read(prefix, 0, prefix.length, 0);
    return parseHeader(prefix, size, path);
  } finally {
    await handle.close();
  }
}

async function readRange(path: string, position: number, length: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, length - done, position + done);
      if (bytesRead === 0) throw new SafetensorsError(`${path}: unexpected end of file at byte ${position + done}`);
      done += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** Reads every tensor of the checkpoint in `dir` into memory. */
export async function readCheckpoint(dir: string): Promise<Map<string, HostTensor>> {
  const ckpt = await openCheckpoint(dir);
  const out = new Map<string, HostTensor>();
  for (const name of ckpt.entries.keys()) out.set(name, await ckpt.read(name));
  return out;
}

/**
 * Writes tensors to `dir` as `model.safetensors`, or, when they exceed `maxShardBytes`, as
 * `model-0000i-of-0000n.safetensors` shards with `model.safetensors.index.json` (transformers' naming).
 */
export async function writeCheckpoint(
  dir: string,
  tensors: readonly TensorToWrite[],
  options: { maxShardBytes?: number } = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const limit = options.maxShardBytes ?? Infinity;
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : 1));
  const shards: TensorToWrite[][] = [[]];
  let bytes = 0;
  for (const t of sorted) {
    const size = t.data.length * 4;
    if (bytes > 0 && bytes + size > limit) {
      shards.push([]);
      bytes = 0;
    }
    shards[shards.length - 1].push(t);
    bytes += size;
  }
  if (shards.length === 1) {
    await writeFile(join(dir, SINGLE_FILE), serializeSafetensors(shards[0]));
    return [SINGLE_FILE];
  }
  const pad = (i: number) => String(i).padStart(5, "0");
  const names = shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let i = 0; i < shards.length; i++) {
    await writeFile(join(dir, names[i]), serializeSafetensors(shards[i]));
    for (const t of shards[i]) {
      weightMap[t.name] = names[i];
      total += t.data.length * 4;
    }
  }
  const index = { metadata: { total_size: total }, weight_map: weightMap };
  await writeFile(join(dir, INDEX_FILE), JSON.stringify(index, null, 2) + "\n");
  return [...names, INDEX_FILE];
}
