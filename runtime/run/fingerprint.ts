/**
 * What a variant starts from, by content. A stage's cache key covers the spec as written, so a
 * `weights` or `tokenizer` folder enters it as a path: regenerating the files behind that path (e.g.
 * `npm run pretrain-tiny` rewriting std/weights, or a new checkpoint copied over an old one) would
 * leave every cached stage in place, computed from files that no longer exist. So each stage folder
 * records the fingerprint of its variant's starting files when it starts (`start.json`), and a stage
 * whose record differs from the files as they are now is computed again (runtime/run/execute.ts).
 *
 * The fingerprint is a sha256 over the files' contents, named by role and relative path (not where the
 * folder lies, so moving the package or the runs folder changes nothing). Hashing a 7B checkpoint takes
 * tens of seconds, so each file's digest is kept in RUNS/EXPERIMENT/start-hashes.json under its path,
 * size and modification time, and read again only when one of those changes.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { writeAtomic } from "../../core/files.js";

/** A folder a variant starts from: `vision` / `language` weights, or its `tokenizer`. */
export interface StartFolder {
  readonly role: string;
  readonly dir: string;
}

export interface Fingerprint {
  /** sha256 over every file's role, relative path and content digest */
  readonly digest: string;
  /** `role/relative/path` -> sha256 of the file */
  readonly files: Readonly<Record<string, string>>;
}

interface CachedDigest {
  size: number;
  mtimeMs: number;
  sha256: string;
}

interface DigestCache {
  version: 1;
  files: Record<string, CachedDigest>;
}

/** Every regular file under `dir`, relative, sorted (symbolic links followed, as the loaders do). */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) found.push(relative(dir, path).split("\\").join("/"));
    }
  };
  walk(dir);
  return found.sort();
}

/** sha256 of a file, read in chunks (checkpoints can be larger than a Node buffer). */
function sha256File(path: string): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

function readCache(path: string): DigestCache {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as DigestCache;
    if (parsed && parsed.version === 1 && parsed.files && typeof parsed.files === "object") return parsed;
  } catch {
    // absent or damaged: digests are computed again (the file is only a cache)
  }
  return { version: 1, files: {} };
}

/**
 * The fingerprint of the given folders' files. `cachePath` keeps the digests between runs; null
 * computes every digest. A folder that does not exist counts as empty (the loader reports it).
 */
export function fingerprint(folders: readonly StartFolder[], cachePath: string | null): Fingerprint {
  const cache = cachePath ? readCache(cachePath) : { version: 1 as const, files: {} };
  let changed = false;
  const files: Record<string, string> = {};
  for (const { role, dir } of folders) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const file of filesUnder(dir)) {
      const path = join(dir, file);
      const stat = statSync(path);
      let entry = cache.files[path];
      if (!entry || entry.size !== stat.size || entry.mtimeMs !== stat.mtimeMs) {
        entry = { size: stat.size, mtimeMs: stat.mtimeMs, sha256: sha256File(path) };
        cache.files[path] = entry;
        changed = true;
      }
      files[`${role}/${file}`] = entry.sha256;
    }
  }
  if (cachePath && changed) writeAtomic(cachePath, JSON.stringify(cache, null, 1) + "\n");
  const digest = createHash("sha256");
  for (const name of Object.keys(files).sort()) digest.update(`${name}\t${files[name]}\n`);
  return { digest: digest.digest("hex"), files };
}

/** The file names whose digests differ between two fingerprints (added, removed or changed), sorted. */
export function changedFiles(before: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...names].filter((n) => before[n] !== now[n]).sort();
}
