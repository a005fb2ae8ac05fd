/**
 * Diagnostics at the edge (LANGUAGE.md §7, §8): the rustc-style rendering of the §7 example, and the
 * positions of `--json` on tabs, multi-byte characters, CRLF and a last line without a newline
 * (lines and columns 1-based, columns in code points).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { casePath, checkJson, mmfmc } from "./harness.js";

/** The rendered source row `N | text` and the caret row under it. */
function rows(stderr: string, line: number): { source: string; carets: string } {
  const all = stderr.split("\n");
  const i = all.findIndex((r) => new RegExp(`^\\s*${line} \\| `).test(r));
  if (i < 0 || i + 1 >= all.length) throw new Error(`no source row for line ${line} in:\n${stderr}`);
  return { source: all[i], carets: all[i + 1] };
}

/** Terminal cells of a string: wide emoji take two, everything else one. */
function cells(text: string): number {
  let n = 0;
  for (const ch of text) n += (ch.codePointAt(0) ?? 0) >= 0x1f300 ? 2 : 1;
  return n;
}

/** Where the carets start and where the word starts, in terminal cells after the `| ` of each row. */
function caretAndWord(r: { source: string; carets: string }, word: string): { caret: number; word: number } {
  const sourceBody = r.source.slice(r.source.indexOf("| ") + 2);
  const caretBody = r.carets.slice(r.carets.indexOf("|") + 2);
  return { caret: cells(caretBody.slice(0, caretBody.indexOf("^"))), word: cells(sourceBody.slice(0, sourceBody.indexOf(word))) };
}

describe("the rendering of LANGUAGE.md §7", () => {
  it("code, message, --> file:line:col, the source line, carets under the word, did you mean", async () => {
    const file = casePath("render", "selct_layer.mmfm");
    const r = await mmfmc("check", file);
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    const at = lines.indexOf("error[E0203]: unknown field `selct_layer` in vision `clip`");
    expect(at, r.stderr).toBeGreaterThanOrEqual(0);
    // LANGUAGE.md's example shows `:4:38`, but its own carets sit under column 34, where the word is
    expect(lines[at + 1]).toMatch(new RegExp(`^ {1,3}--> ${file.replace(/[.]/g, "\\.")}:4:34$`));
    expect(lines[at + 2]).toMatch(/^ {2,4}\|$/);
    expect(lines[at + 3]).toMatch(/^ ?4 \| vision clip = clip_vit_l14_336 \{ selct_layer = -2 \}$/);
    expect(lines[at + 4]).toMatch(/^ {2,4}\| +\^{11} did you mean `select_layer`\?$/);
    // the bars line up, and the carets are exactly under `selct_layer`
    const bar = lines[at + 3].indexOf("|");
    expect(lines[at + 2].indexOf("|")).toBe(bar);
    expect(lines[at + 4].indexOf("|")).toBe(bar);
    expect(lines[at + 4].indexOf("^")).toBe(lines[at + 3].indexOf("selct_layer"));
    // the arrow's second `-` is above the gutter's bar, as in rustc and in §7
    expect(lines[at + 1].indexOf("-->") + 1).toBe(bar);
  });

  it("--json gives the same place, 1-based, with an exclusive end", async () => {
    const { diagnostics } = await checkJson(casePath("render", "selct_layer.mmfm"));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      severity: "error",
      code: "E0203",
      message: "unknown field `selct_layer` in vision `clip`",
      file: casePath("render", "selct_layer.mmfm"),
      line: 4,
      column: 34,
      endLine: 4,
      endColumn: 45,
    });
  });

  it("--json has exactly the documented keys with the documented types", async () => {
    const { diagnostics } = await checkJson(casePath("render", "positions.mmfm"));
    for (const d of diagnostics) {
      for (const key of ["severity", "code", "message", "file"] as const) expect(typeof d[key], key).toBe("string");
      for (const key of ["line", "column", "endLine", "endColumn"] as const) expect(Number.isInteger(d[key]), key).toBe(true);
      expect(["error", "warning"]).toContain(d.severity);
    }
  });
});

describe("positions in --json and carets in the rendering", () => {
  const file = casePath("render", "positions.mmfm");
  // computed by hand from the file: a tab is one column, é and 😀 one each (code points)
  const expected = [
    { line: 3, column: 32, endColumn: 43, word: "selct_layer" }, // tabs before the word
    { line: 4, column: 40, endColumn: 46, word: "feture" }, // é😀 in a comment before it
    { line: 5, column: 46, endColumn: 52, word: "aspekt" }, // é😀é in a string before it
    { line: 6, column: 47, endColumn: 52, word: "sizee" }, // café
    { line: 7, column: 31, endColumn: 37, word: "imagee" }, // the last line, without a newline
  ];

  it("the file is what the expectations assume", () => {
    const text = readFileSync(file, "utf8");
    expect(text.endsWith("\n")).toBe(false);
    expect(text.split("\n")[2].startsWith("\tvision\tv")).toBe(true);
  });

  it("lines and columns count from 1, columns in code points", async () => {
    const { code, diagnostics } = await checkJson(file);
    expect(code).toBe(1);
    expect(diagnostics.map((d) => ({ line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn, word: /`([^`]+)`/.exec(d.message)?.[1] }))).toEqual(
      expected.map((e) => ({ line: e.line, column: e.column, endLine: e.line, endColumn: e.endColumn, word: e.word })),
    );
  });

  it("carets sit under the word after tabs and accented letters", async () => {
    const r = await mmfmc("check", file);
    for (const e of [expected[0], expected[3], expected[4]]) {
      const { caret, word } = caretAndWord(rows(r.stderr, e.line), e.word);
      expect(caret, `line ${e.line}`).toBe(word);
    }
  });

  it("carets sit under the word after a wide emoji (judgement: terminals draw 😀 two cells wide)", async () => {
    const r = await mmfmc("check", file);
    for (const e of [expected[1], expected[2]]) {
      const { caret, word } = caretAndWord(rows(r.stderr, e.line), e.word);
      expect(caret, `line ${e.line}`).toBe(word);
    }
  });

  it("CRLF line endings count as one line break", async () => {
    const crlf = casePath("render", "crlf.mmfm");
    expect(readFileSync(crlf, "utf8")).toContain("\r\n");
    const { diagnostics } = await checkJson(crlf);
    expect(diagnostics.map((d) => [d.code, d.line, d.column, d.endColumn])).toEqual([["E0203", 3, 34, 45]]);
    const r = await mmfmc("check", crlf);
    expect(r.stderr).not.toContain("\r");
    const { caret, word } = caretAndWord(rows(r.stderr, 3), "selct_layer");
    expect(caret).toBe(word);
  });

  it("an unterminated string on a last line without a newline stays within the file", async () => {
    const f = casePath("render", "eof_string.mmfm");
    const lines = readFileSync(f, "utf8").split("\n");
    const { code, diagnostics } = await checkJson(f);
    expect(code).toBe(1);
    expect(diagnostics.some((d) => d.code === "E0102" && d.line === 2)).toBe(true);
    for (const d of diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.endLine).toBeLessThanOrEqual(lines.length);
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(d.endColumn).toBeLessThanOrEqual([...lines[d.endLine - 1]].length + 1);
    }
  });
});

describe("a value that came from a base or an import also points at where it was set (§7)", () => {
  it("names the base's line in the imported file", async () => {
    const f = casePath("render", "inherited.mmfm");
    const { diagnostics } = await checkJson(f);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "E0305", line: 3 });
    const r = await mmfmc("check", f);
    expect(r.stderr).toContain(`${casePath("render", "lib", "wide.mmfm")}:4:3`);
    expect(r.stderr).toMatch(/^\s*4 \|\s+width = 1000$/m);
  });
});
