// Shared by the fmt tests: the spec files to try, a seeded random source, and the two mutations the
// property tests apply (re-spacing between tokens, inserting comments between tokens).

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Diagnostics } from "../../core/diagnostics.js";
import { compile } from "../../compiler/pipeline.js";
import { SourceFile } from "../../core/source.js";
import { lex } from "../../grammar/lexer.js";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const casesDir = join(root, "test", "cases", "fmt");

/** The golden inputs: `test/cases/fmt/NAME.mmfm` (not the `.formatted.mmfm` beside them). */
export function goldenCases(): string[] {
  return readdirSync(casesDir)
    .filter((f) => f.endsWith(".mmfm") && !f.endsWith(".formatted.mmfm"))
    .sort();
}

/** Every `.mmfm` file of `examples/` and `std/`, as paths relative to the repository. */
export function shippedSpecs(): string[] {
  return ["examples", "std"].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith(".mmfm"))
      .sort()
      .map((f) => join(dir, f)),
  );
}

export function read(path: string): string {
  return readFileSync(join(root, path), "utf8");
}

/** mulberry32: a small seeded generator, so a failing case can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rng: () => number, options: readonly T[]): T {
  return options[Math.floor(rng() * options.length)];
}

interface Piece {
  readonly start: number;
  readonly end: number;
  readonly comment?: "line" | "block";
}

/** Tokens and comments of a text, in order. */
function pieces(text: string): Piece[] {
  const { tokens, comments } = lex(new SourceFile("x.mmfm", text), new Diagnostics());
  return [
    ...tokens.map((t) => ({ start: t.startOffset, end: t.startOffset + t.image.length })),
    ...comments.map((c) => ({ start: c.span.start, end: c.span.end, comment: c.block ? ("block" as const) : ("line" as const) })),
  ].sort((a, b) => a.start - b.start);
}

/** Whether two tokens written side by side would lex differently (`a b` -> `ab`, `= =` -> `==`). */
function needsSpace(before: string, after: string): boolean {
  const x = before[before.length - 1];
  const y = after[0];
  const word = (c: string) => /[A-Za-z0-9_]/.test(c);
  return (word(x) && word(y)) || ((x === "=" || x === "!") && y === "=") || (x === "/" && (y === "/" || y === "*")) || (x === "*" && y === "/");
}

function newlines(gap: string): number {
  return (gap.match(/\r\n|\r|\n/g) ?? []).length;
}

/**
 * The same tokens and comments with different whitespace between them: spaces, tabs and single
 * line breaks are added, removed and moved at random (joining and splitting lines), while what the
 * layout may depend on stays: where the user left a blank line, and whether a comment starts its
 * own line or follows code (and the line break that ends a line comment).
 */
export function respace(text: string, rng: () => number): string {
  const all = pieces(text);
  if (all.length === 0) return text;
  const spaces = () => pick(rng, ["", " ", "  ", "\t", " \t "]);
  let out = pick(rng, ["", "\n", "\n\n  ", "  "]);
  all.forEach((p, i) => {
    out += text.slice(p.start, p.end);
    const next = all[i + 1];
    if (!next) {
      out += pick(rng, p.comment === "line" ? ["", "\n", "\n\n\n"] : ["", "\n", "\n\n\n", "  \n"]);
      return;
    }
    const gap = text.slice(p.end, next.start);
    const lines = newlines(gap);
    const a = text.slice(p.start, p.end);
    const b = text.slice(next.start, next.end);
    // spaces after a line comment would become part of it
    const before = p.comment === "line" ? "" : spaces();
    if (lines >= 2) {
      out += before + pick(rng, ["\n\n", "\n\n\n", "\n\t\n", "\n  \n\n  "]);
    } else if (p.comment === "line" || next.comment !== undefined) {
      // a line comment ends its line; a comment keeps starting its own line or following code
      out += lines === 1 ? before + "\n" + spaces() : (needsSpace(a, b) ? " " : "") + spaces();
    } else {
      const options = needsSpace(a, b) ? [" ", "  ", "\t", "\n", " \n    ", "\n\t"] : ["", "", " ", "\n", "\n    "];
      out += pick(rng, options);
    }
  });
  return out;
}

/**
 * Inserts `count` comments (`/* cN *\/` or `// cN` with its line break) at random places between
 * tokens; returns the text and the inserted comments.
 */
export function insertComments(text: string, rng: () => number, count: number, tag = "c"): { text: string; inserted: string[] } {
  // not right after a line comment: what follows it on its line is part of it
  const at = [0, ...pieces(text).filter((p) => p.comment !== "line").map((p) => p.end)];
  const chosen = Array.from({ length: count }, () => pick(rng, at)).sort((a, b) => a - b);
  const inserted: string[] = [];
  let out = "";
  let from = 0;
  chosen.forEach((offset, i) => {
    out += text.slice(from, offset);
    from = offset;
    const block = rng() < 0.5;
    const comment = block ? `/* ${tag}${i} */` : `// ${tag}${i}`;
    inserted.push(comment);
    out += block ? ` ${comment} ` : ` ${comment}\n`;
  });
  return { text: out + text.slice(from), inserted };
}

/** What formatting must not change: every variant's id and hash, and the diagnostics' codes. */
export function meaning(path: string, text: string): { variants: string[]; codes: string[] } {
  const result = compile(join(root, path), { text });
  return {
    variants: result.experiments.flatMap((e) => e.variants.map((v) => `${v.id} ${v.hash}`)),
    codes: result.diagnostics.items.map((d) => d.code).sort(),
  };
}

/** The texts of a file's comments, sorted (a multiset). */
export function commentTexts(text: string): string[] {
  return lex(new SourceFile("x.mmfm", text), new Diagnostics()).comments.map((c) => c.text).sort();
}
