// File access for the benchmark loaders: errors that name the path, the benchmark and the layout
// it belongs to; JSON, JSON-lines and CSV reading with line/row numbers in errors.

import { readFile, stat } from "node:fs/promises";
import type { BenchmarkName } from "../items.js";

/** A benchmark file that is missing, unreadable or malformed. */
export class BenchmarkFileError extends Error {
  constructor(
    readonly benchmark: BenchmarkName,
    readonly path: string,
    detail: string,
  ) {
    super(`${benchmark}: ${path}: ${detail}`);
    this.name = "BenchmarkFileError";
  }
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Fails unless `path` is a file; `role` says what the file is in the benchmark's layout. */
export async function requireFile(benchmark: BenchmarkName, path: string, role: string): Promise<void> {
  if (await isFile(path)) return;
  const what = (await isDirectory(path)) ? "is a folder, expected" : "missing";
  throw new BenchmarkFileError(benchmark, path, `${what} ${role} (see \`benchmarkLayouts.${benchmark}\` in docs/evaluation.md)`);
}

export async function requireDirectory(benchmark: BenchmarkName, path: string, role: string): Promise<void> {
  if (await isDirectory(path)) return;
  throw new BenchmarkFileError(benchmark, path, `missing ${role} folder (see \`benchmarkLayouts.${benchmark}\` in docs/evaluation.md)`);
}

async function readText(benchmark: BenchmarkName, path: string, role: string): Promise<string> {
  await requireFile(benchmark, path, role);
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new BenchmarkFileError(benchmark, path, `cannot read ${role}: ${(e as Error).message}`);
  }
}

export async function readJson(benchmark: BenchmarkName, path: string, role: string): Promise<unknown> {
  const text = await readText(benchmark, path, role);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BenchmarkFileError(benchmark, path, `${role} is not valid JSON: ${(e as Error).message}`);
  }
}

/** One JSON value per non-blank line; `line` in errors is 1-based. */
export async function readJsonLines(benchmark: BenchmarkName, path: string, role: string): Promise<{ line: number; value: unknown }[]> {
  const text = await readText(benchmark, path, role);
  const out: { line: number; value: unknown }[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.trim() === "") return;
    try {
      out.push({ line: i + 1, value: JSON.parse(raw) });
    } catch (e) {
      throw new BenchmarkFileError(benchmark, path, `line ${i + 1} of ${role} is not valid JSON: ${(e as Error).message}`);
    }
  });
  return out;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  const s = text.startsWith("\ufeff") ? text.slice(1) : text;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === "") {
      quoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && s[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

export async function readCsv(benchmark: BenchmarkName, path: string, role: string): Promise<string[][]> {
  return parseCsv(await readText(benchmark, path, role));
}

/** Reads a plain text file (for MME's question/answer files). */
export async function readTextFile(benchmark: BenchmarkName, path: string, role: string): Promise<string> {
  return readText(benchmark, path, role);
}

/** A record's field as a string, or a file error naming the record. */
export function field(benchmark: BenchmarkName, path: string, where: string, record: unknown, key: string, kind: "string" | "id" = "string"): string {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new BenchmarkFileError(benchmark, path, `${where}: expected an object`);
  }
  const v = (record as Record<string, unknown>)[key];
  if (typeof v === "string") return v;
  if (kind === "id" && typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new BenchmarkFileError(benchmark, path, `${where}: field \`${key}\` ${v === undefined ? "is missing" : `is not a ${kind === "id" ? "string or number" : "string"}`}`);
}

/** A record's id field as the file has it (a string or a number), after `field` has checked it. */
export function rawId(record: unknown, key: string): string | number {
  return (record as Record<string, string | number>)[key];
}

/**
 * Fails if any image is missing, listing how many and the first few. Images are stat'ed a batch
 * at a time so a 100K-question benchmark does not open 100K handles at once.
 */
export async function requireImages(benchmark: BenchmarkName, images: readonly string[], folder: string): Promise<void> {
  const unique = [...new Set(images)];
  const missing: string[] = [];
  for (let i = 0; i < unique.length; i += 256) {
    const batch = unique.slice(i, i + 256);
    const ok = await Promise.all(batch.map(isFile));
    batch.forEach((p, j) => {
      if (!ok[j]) missing.push(p);
    });
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 3).join(", ");
    throw new BenchmarkFileError(benchmark, folder, `${missing.length} of ${unique.length} images are missing (${shown}${missing.length > 3 ? ", ..." : ""}); pass checkImages: false to load the questions without them`);
  }
}
