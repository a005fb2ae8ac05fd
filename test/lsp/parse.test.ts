/**
 * The language server's incremental parser gives exactly the tree and diagnostics of a full parse,
 * after edits of every sort (inside a declaration, between declarations, opening a comment or a
 * string, breaking and repairing the syntax), and takes the incremental path where it can.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedSpec } from "../../bench/lsp-spec.js";
import { Diagnostics } from "../../core/diagnostics.js";
import { SourceFile } from "../../core/source.js";
import { parseSource } from "../../grammar/index.js";
import { IncrementalParser } from "../../lsp/parse.js";
import { repo } from "../helpers.js";

/** The tree as JSON with spans as [start, end] (the file object left out). */
function shape(x: unknown): string {
  return JSON.stringify(x, (key, value) => {
    if (key === "source" || key === "file") return undefined;
    if (typeof value === "bigint") return `${value}n`;
    if (value && typeof value === "object" && "start" in value && "end" in value && "file" in value) return [value.start, value.end];
    return value;
  });
}

function full(path: string, text: string) {
  const diagnostics = new Diagnostics();
  const file = parseSource(new SourceFile(path, text, path), diagnostics);
  return { file, diagnostics };
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const snippets = [
  "1", "x", " ", "\n", "width = 8\n", "{", "}", "[", "/*", "*/", '"', "// note\n", "vision extra = clip_vit { depth = 2 }\n",
  "let k = 3 * 4\n", "=", ".", "import \"std\"\n", "stage", "-", "  lr = 2e-5\n", "ablate { seed: [1, 2] }\n", "\u00e9", "😀",
];

function edit(text: string, next: () => number): string {
  const at = Math.floor(next() * (text.length + 1));
  const choice = next();
  if (choice < 0.45) return text.slice(0, at) + snippets[Math.floor(next() * snippets.length)] + text.slice(at);
  if (choice < 0.75) return text.slice(0, at) + text.slice(Math.min(text.length, at + 1 + Math.floor(next() * 12)));
  // change a digit or a letter in place: the usual edit while typing
  const i = Math.min(text.length - 1, at);
  const c = text[i];
  const replacement = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : /[a-z]/.test(c) ? "q" : c;
  return text.slice(0, i) + replacement + text.slice(i + 1);
}

const inputs: [string, string][] = [
  ...readdirSync(join(repo, "examples")).map((f): [string, string] => [join(repo, "examples", f), readFileSync(join(repo, "examples", f), "utf8")]),
  ...readdirSync(join(repo, "std"))
    .filter((f) => f.endsWith(".mmfm")) // std/weights holds the tiny presets' weights
    .map((f): [string, string] => [join(repo, "std", f), readFileSync(join(repo, "std", f), "utf8")]),
  ["/virtual/generated.mmfm", generatedSpec(200)],
];

describe("incremental parsing", () => {
  for (const [path, original] of inputs) {
    it(`agrees with a full parse after random edits of ${path.startsWith(repo) ? path.slice(repo.length + 1) : path}`, () => {
      const next = random(path.length * 7919 + original.length);
      const parser = new IncrementalParser();
      let text = original;
      for (let step = 0; step < 60; step++) {
        // every third step goes back to the valid text, as a user repairs what they broke
        text = step % 3 === 0 ? original : edit(text, next);
        const diagnostics = new Diagnostics();
        const tree = parser.parse(new SourceFile(path, text, path), diagnostics);
        const expected = full(path, text);
        expect(shape(tree)).toBe(shape(expected.file));
        expect(tree.source.text).toBe(text);
        const show = (d: Diagnostics) => d.items.map((x) => `${x.code} ${x.span?.start}-${x.span?.end} ${x.message}`);
        expect(show(diagnostics)).toEqual(show(expected.diagnostics));
        // every span of the tree points into the source of this text
        JSON.stringify(tree, (key, value) => {
          if (key === "file") expect(value).toBe(tree.source);
          return typeof value === "bigint" ? String(value) : value;
        });
      }
      expect(parser.stats.incremental).toBeGreaterThan(8);
      expect(parser.stats.full).toBeGreaterThan(0);
    });
  }

  it("reuses the tree of unchanged text and replays its diagnostics", () => {
    const parser = new IncrementalParser();
    const text = "vision a = clip_vit { width = }\n";
    const first = new Diagnostics();
    const tree = parser.parse(new SourceFile("a.mmfm", text, "/a.mmfm"), first);
    const again = new Diagnostics();
    expect(parser.parse(new SourceFile("a.mmfm", text, "/a.mmfm"), again)).toBe(tree);
    expect(first.items.length).toBeGreaterThan(0);
    expect(again.items).toEqual(first.items);
    expect(parser.stats.reused).toBe(1);
  });

  it("reparses only the repaired declaration after a syntax error", () => {
    const parser = new IncrementalParser();
    const text = generatedSpec(600);
    const broken = text.replace("  epochs     = 1\n", "  epochs     = \n");
    const repaired = text.replace("  epochs     = 1\n", "  epochs     = 2\n");
    const source = (t: string) => new SourceFile("g.mmfm", t, "/g.mmfm");
    parser.parse(source(text), new Diagnostics());
    const errors = new Diagnostics();
    parser.parse(source(broken), errors);
    expect(errors.items.map((d) => d.code)).toEqual(full("g.mmfm", broken).diagnostics.items.map((d) => d.code));
    expect(errors.hasErrors).toBe(true);
    const tree = parser.parse(source(repaired), new Diagnostics());
    expect(parser.stats).toEqual({ reused: 0, incremental: 1, full: 2 });
    expect(shape(tree)).toBe(shape(full("g.mmfm", repaired).file));
  });

  it("reparses one declaration of a large file", () => {
    const parser = new IncrementalParser();
    const text = generatedSpec(2000);
    parser.parse(new SourceFile("g.mmfm", text, "/g.mmfm"), new Diagnostics());
    const edited = text.replace("  lr         = 5e-4", "  lr         = 6e-4");
    const tree = parser.parse(new SourceFile("g.mmfm", edited, "/g.mmfm"), new Diagnostics());
    expect(parser.stats).toEqual({ reused: 0, incremental: 1, full: 1 });
    expect(shape(tree)).toBe(shape(full("g.mmfm", edited).file));
  });
});
