/**
 * Every ```mmfm block of README.md and docs/*.md is checked, as docs/language.md ("Examples in this
 * documentation") says: a whole spec checks without errors and is in canonical layout (`mmfmc fmt`);
 * ```mmfm FILE is an excerpt of FILE, whose lines it repeats in order; ```mmfm error [CODE] shows a
 * mistake, which `mmfmc check` must report. The specs shipped in examples/ and std/ check without
 * errors and are in canonical layout (`mmfmc fmt --check`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatText } from "../../compiler/format.js";
import { compile } from "../../compiler/pipeline.js";
import { repo } from "../helpers.js";

interface Block {
  /** `docs/fmt.md:47` */
  readonly where: string;
  /** the words after ```mmfm */
  readonly info: readonly string[];
  readonly text: string;
}

/** The ```mmfm blocks of a Markdown file, their common indentation removed. */
function mmfmBlocks(path: string): Block[] {
  const lines = readFileSync(join(repo, path), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```mmfm(?:\s+(.*))?$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (end < 0) throw new Error(`${path}:${i + 1}: a code block that is never closed`);
    const body = lines.slice(i + 1, end).map((l) => l.slice(open[1].length));
    blocks.push({ where: `${path}:${i + 1}`, info: (open[2] ?? "").split(/\s+/).filter(Boolean), text: body.join("\n") + "\n" });
    i = end;
  }
  return blocks;
}

const markdown = ["README.md", ...readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const blocks = markdown.flatMap(mmfmBlocks);

/** Errors of a spec checked as a file of the repository's root (`import "std"` and relative imports work there). */
function errors(text: string, path = join(repo, "docs.mmfm")): string[] {
  return compile(path, { text })
    .diagnostics.items.filter((d) => d.severity === "error")
    .map((d) => `${d.code} ${d.span ? `line ${d.span.file.position(d.span.start).line}: ` : ""}${d.message}`);
}

/** What `mmfmc fmt` would change: undefined when the text is in canonical layout. */
function unformatted(text: string): string | undefined {
  const r = formatText(text);
  if (r.text === undefined) return `syntax errors: ${r.diagnostics.items.map((d) => d.message).join("; ")}`;
  return r.changed ? r.text : undefined;
}

describe("```mmfm blocks of README.md and docs/", () => {
  it("are found", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    expect(blocks.some((b) => b.where.startsWith("README.md"))).toBe(true);
  });

  for (const block of blocks) {
    const [kind, arg] = block.info;
    if (kind === undefined) {
      it(`${block.where}: a whole spec that checks and is formatted`, () => {
        expect(errors(block.text)).toEqual([]);
        expect(unformatted(block.text)).toBeUndefined();
      });
    } else if (kind === "error") {
      it(`${block.where}: shows a mistake \`mmfmc check\` reports${arg ? ` (${arg})` : ""}`, () => {
        const found = errors(block.text);
        expect(found.length).toBeGreaterThan(0);
        if (arg) expect(found.map((e) => e.split(" ")[0])).toContain(arg);
      });
    } else {
      it(`${block.where}: an excerpt of ${kind}`, () => {
        const file = readFileSync(join(repo, kind), "utf8");
        expect(file.includes(block.text), `the block's lines are not in ${kind}`).toBe(true);
        expect(errors(file, join(repo, kind))).toEqual([]);
      });
    }
  }
});

describe("the specs shipped in examples/ and std/", () => {
  const shipped = ["examples", "std"].flatMap((dir) =>
    readdirSync(join(repo, dir))
      .filter((f) => f.endsWith(".mmfm"))
      .sort()
      .map((f) => `${dir}/${f}`),
  );

  for (const path of shipped) {
    it(`${path} is in canonical layout (mmfmc fmt --check)`, () => {
      expect(unformatted(readFileSync(join(repo, path), "utf8"))).toBeUndefined();
    });
  }

  it("check without errors", () => {
    for (const path of shipped.filter((p) => p.startsWith("examples/"))) expect(errors(readFileSync(join(repo, path), "utf8"), join(repo, path)), path).toEqual([]);
    expect(errors('import "std"\n')).toEqual([]);
  });
});
