/**
 * Randomly mutated specs never crash the compiler (issue 2, LANGUAGE.md §7 "never a stack trace"):
 * seeded mutations (deleted spans, inserted tokens, truncation, duplicated and swapped lines) of the
 * example, every std file and every language case. `compile` must not throw and every span must lie in
 * its file; on a sample, `mmfmc check --json` must exit 0 or 1 with every line and column inside the
 * file, and the real binary too. MMFM_FUZZ_SCALE=10 runs ten times as many mutations.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { casesDir, checkJson, mmfmFiles, repoRoot } from "./harness.js";

const scale = Number(process.env.MMFM_FUZZ_SCALE ?? "1") || 1;
const PER_MAIN_FILE = 200 * scale; // the example and each std file
const PER_CASE_FILE = 20 * scale; // each language case
const CLI_SAMPLE = 120 * scale;
const BINARY_SAMPLE = 4;

/** mulberry32: a small seeded generator, so every failure can be replayed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tokens = [
  "{", "}", "[", "]", "(", ")", "=", "==", "!=", ":", ",", ";", ".", "+", "-", "*", "/", "\"", "'", "\\",
  "/*", "*/", "//", "#", "@", "$", "`", "\t", "\n", "\r\n", "\r", "\u0000", "\ufeff", "é", "😀", "\ud800",
  "import", "let", "vision", "connector", "language", "dataset", "stage", "eval", "model", "experiment",
  "ablate", "zip", "exclude", "and", "or", "not", "in", "true", "false", "std", "\"std\"", "\"./x.mmfm\"",
  "0", "-0", "1", "-2", "256_000", "1__0", "1_", "1e", "2e-5", "1E3", "0x10", "1.", ".5", "9007199254740993",
  "99999999999999999999999", "1e400", "0.0", "1 / 0", "3 / 2",
  "\"\\u{1F600}\"", "\"\\u{110000}\"", "\"\\q\"", "\"abc", "a.b.c", "model.vision", "finetune.lr",
  "clip_vit", "clip_vit_l14_336", "gemma", "gemma_2b", "mlp2x_gelu", "mlp", "linear", "identity", "cosine",
  "llava_json", "gqa", "seed", "stages", "train", "data", "select_layer", "width", "heads", "kv_heads",
  "in", "out", "depth", "x", "_", "vision v = clip_vit {}", "ablate { seed: [1, 2] }", "exclude seed == 1",
  "{ a = 1 }", "[[a], [b]]", "not not true",
];

const values = [
  '"connector"', "1", "0", "-1", "1.5", "true", "[]", "[1]", '[""]', '""', "{ a = 1 }", "{}", "clip_vit", "clip_vit_l14_336",
  "gemma_2b", "mlp2x_gelu", "identity", "linear", "cosine", "adamw", "llava_json", "gqa", "[gqa, gqa]", "[connector, connector]",
  "[vision, connector, language]", "connector", "[[pretrain]]", "m", "s", "d", "e", "model", "2e-5", "256_000", "1 / 0",
  '"a" + 1', "not 1", "1 == 1", "x in [1]", "[clip_vit_l14_336, gemma_2b]", "{ x = clip_vit }", "(1)", "- - 1",
];

type Mutation = (text: string, rand: () => number) => string;

const pick = <T>(items: readonly T[], rand: () => number): T => items[Math.floor(rand() * items.length)];
const offset = (text: string, rand: () => number) => Math.floor(rand() * (text.length + 1));

const mutations: Record<string, Mutation> = {
  deleteSpan: (text, rand) => {
    const start = offset(text, rand);
    return text.slice(0, start) + text.slice(Math.min(text.length, start + 1 + Math.floor(rand() * 40)));
  },
  insertToken: (text, rand) => {
    const at = offset(text, rand);
    const sep = rand() < 0.5 ? " " : "";
    return text.slice(0, at) + sep + pick(tokens, rand) + sep + text.slice(at);
  },
  truncate: (text, rand) => text.slice(0, offset(text, rand)),
  duplicateLine: (text, rand) => {
    const lines = text.split("\n");
    const i = Math.floor(rand() * lines.length);
    lines.splice(i, 0, lines[i]);
    return lines.join("\n");
  },
  swapLines: (text, rand) => {
    const lines = text.split("\n");
    const i = Math.floor(rand() * lines.length);
    const j = Math.floor(rand() * lines.length);
    [lines[i], lines[j]] = [lines[j], lines[i]];
    return lines.join("\n");
  },
  replaceValue: (text, rand) => {
    // a field's value replaced by a value of another type or kind: the checker's favourite input
    const starts = [...text.matchAll(/[=:]\s*/g)].map((m) => m.index! + m[0].length);
    if (starts.length === 0) return text;
    const at = pick(starts, rand);
    const end = at + (/^[^\s,;}\]]*/.exec(text.slice(at))?.[0].length ?? 0);
    return text.slice(0, at) + pick(values, rand) + text.slice(end);
  },
  replaceChar: (text, rand) => {
    if (text.length === 0) return text;
    const at = Math.floor(rand() * text.length);
    return text.slice(0, at) + pick(["{", "}", "\"", "=", "[", "]", ":", "/", "*", "-", " ", "\n", "0"], rand) + text.slice(at + 1);
  },
};
const mutationNames = Object.keys(mutations);

function mutate(text: string, rand: () => number): { text: string; applied: string[] } {
  const applied: string[] = [];
  let out = text;
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) {
    const name = pick(mutationNames, rand);
    applied.push(name);
    out = mutations[name](out, rand);
  }
  return { text: out, applied };
}

const corpus = [
  ...mmfmFiles(join(repoRoot, "examples")),
  ...mmfmFiles(join(repoRoot, "std")),
  ...mmfmFiles(casesDir),
].filter((f) => existsSync(f));

interface Sample {
  readonly file: string;
  readonly text: string;
  readonly label: string;
}

/** Every mutation, deterministic from the file's place in the corpus. */
function samples(): Sample[] {
  const out: Sample[] = [];
  corpus.forEach((file, fi) => {
    const original = readFileSync(file, "utf8");
    const main = !file.startsWith(casesDir);
    const count = main ? PER_MAIN_FILE : PER_CASE_FILE;
    for (let k = 0; k < count; k++) {
      const seed = fi * 100_003 + k;
      const { text, applied } = mutate(original, generator(seed));
      out.push({ file, text, label: `${relative(repoRoot, file)} seed ${seed} (${applied.join(", ")})` });
    }
  });
  return out;
}

const all = samples();

function lineLengths(text: string): number[] {
  return text.split(/\r\n|\r|\n/).map((l) => [...l].length);
}

describe("mutated specs never crash the compiler", () => {
  it(`compile() survives ${all.length} mutations with every span inside its file`, () => {
    const failures: string[] = [];
    for (const s of all) {
      try {
        const result = compile(s.file, { text: s.text });
        for (const d of result.diagnostics.items) {
          for (const span of [d.span, ...d.secondary.map((l) => l.span)]) {
            if (!span) continue;
            const n = span.file.text.length;
            if (!(span.start >= 0 && span.start <= span.end && span.end <= n)) {
              failures.push(`${s.label}: ${d.code} span ${span.start}..${span.end} outside ${span.file.path} (${n} chars)`);
            }
          }
          if (d.severity !== "error" && d.severity !== "warning") failures.push(`${s.label}: ${d.code} has severity ${String(d.severity)}`);
        }
      } catch (error) {
        failures.push(`${s.label}: threw ${error instanceof Error ? (error.stack ?? error.message).split("\n").slice(0, 3).join(" | ") : String(error)}`);
      }
      if (failures.length >= 20) break;
    }
    expect(failures).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), "mmfm-fuzz-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // files with relative imports need their folder; the sample takes the others (example, std, most cases)
  const standalone = all.filter((s) => !/import\s+"\.\.?\//.test(s.text));
  const step = Math.max(1, Math.floor(standalone.length / CLI_SAMPLE));
  const sample = standalone.filter((_, i) => i % step === 0).slice(0, CLI_SAMPLE);

  it(`mmfmc check --json on ${sample.length} of them exits 0 or 1, every position inside the file`, async () => {
    const failures: string[] = [];
    for (const [i, s] of sample.entries()) {
      const path = join(dir, `m${i}.mmfm`);
      writeFileSync(path, s.text);
      const shown = relative(process.cwd(), path);
      let result: Awaited<ReturnType<typeof checkJson>>;
      try {
        result = await checkJson(path);
      } catch (error) {
        failures.push(`${s.label}: ${(error as Error).message.split("\n")[0]}`);
        continue;
      }
      if (result.code !== 0 && result.code !== 1) failures.push(`${s.label}: exit ${result.code}: ${result.stderr.split("\n")[0]}`);
      const lengths = lineLengths(s.text);
      for (const d of result.diagnostics) {
        if (d.file !== shown && d.file !== path) continue;
        const inside = (line: number, column: number) => line >= 1 && line <= lengths.length && column >= 1 && column <= lengths[line - 1] + 1;
        const ordered = d.line < d.endLine || (d.line === d.endLine && d.column <= d.endColumn);
        if (!inside(d.line, d.column) || !inside(d.endLine, d.endColumn) || !ordered) {
          failures.push(`${s.label}: ${d.code} at ${d.line}:${d.column}-${d.endLine}:${d.endColumn} outside a file of ${lengths.length} lines`);
        }
      }
      if (failures.length >= 20) break;
    }
    expect(failures).toEqual([]);
  });

  it(`the mmfmc binary on ${BINARY_SAMPLE} of them exits 0 or 1 without a stack trace`, () => {
    const bin = join(repoRoot, "bin", "mmfmc.js");
    expect(existsSync(join(repoRoot, "dist", "cli", "main.js")), "dist/ is built by `npm test` (tsc -p tsconfig.build.json)").toBe(true);
    const failures: string[] = [];
    const every = Math.max(1, Math.floor(sample.length / BINARY_SAMPLE));
    for (const [i, s] of sample.filter((_, k) => k % every === 0).slice(0, BINARY_SAMPLE).entries()) {
      const path = join(dir, `b${i}.mmfm`);
      writeFileSync(path, s.text);
      const r = spawnSync(process.execPath, [bin, "check", path], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      if (r.status !== 0 && r.status !== 1) failures.push(`${s.label}: exit ${r.status}: ${r.stderr.split("\n")[0]}`);
      if (/^\s+at .+:\d+:\d+\)?$/m.test(r.stderr)) failures.push(`${s.label}: stack trace on stderr`);
    }
    expect(failures).toEqual([]);
  });
});
