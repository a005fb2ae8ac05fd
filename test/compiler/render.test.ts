import { describe, expect, it } from "vitest";
import { diagnostic } from "../../core/diagnostics.js";
import { jsonDiagnostic, renderDiagnostic } from "../../core/render.js";
import { SourceFile } from "../../core/source.js";
import { compile } from "../../compiler/pipeline.js";
import { repo } from "../helpers.js";
import { join } from "node:path";

function at(file: SourceFile, word: string, nth = 0) {
  let index = -1;
  for (let i = 0; i <= nth; i++) index = file.text.indexOf(word, index + 1);
  return file.span(index, index + word.length);
}

describe("positions", () => {
  it("count lines and code-point columns from 1, across CRLF, tabs, multi-byte characters and a last line without newline", () => {
    const f = new SourceFile("x.mmfm", 'let a = 1\r\n\tlet é = "😀" bad\nlast');
    expect(f.position(0)).toEqual({ line: 1, column: 1 });
    expect(f.position(f.text.indexOf("let", 5))).toEqual({ line: 2, column: 2 });
    // 😀 is two UTF-16 code units but one column
    expect(f.position(f.text.indexOf("bad"))).toEqual({ line: 2, column: 14 });
    expect(f.position(f.text.length)).toEqual({ line: 3, column: 5 });
    expect(f.lineText(1)).toBe('\tlet é = "😀" bad');
    expect(f.lineText(2)).toBe("last");
  });

  it("render carets under the word, tabs expanded", () => {
    const f = new SourceFile("x.mmfm", 'vision v = clip_vit {\n\tselct_layer = -2 }\n');
    const d = diagnostic("E0203", "unknown field `selct_layer` in vision `v`", { span: at(f, "selct_layer"), label: "did you mean `select_layer`?" });
    expect(renderDiagnostic(d)).toBe(
      [
        "error[E0203]: unknown field `selct_layer` in vision `v`",
        " --> x.mmfm:2:2",
        "  |",
        "2 |     selct_layer = -2 }",
        "  |     ^^^^^^^^^^^ did you mean `select_layer`?",
      ].join("\n"),
    );
    expect(jsonDiagnostic(d, "x.mmfm")).toMatchObject({ file: "x.mmfm", line: 2, column: 2, endLine: 2, endColumn: 13 });
  });

  it("shows secondary spans in other files and help notes", () => {
    const a = new SourceFile("a.mmfm", "language l = base { kv_heads = 3 }");
    const b = new SourceFile("std/b.mmfm", "language base = gemma {\n  heads = 8\n}");
    const d = diagnostic("E0306", "heads not divisible", { span: at(a, "kv_heads = 3"), secondary: [{ span: at(b, "heads = 8"), text: "`heads` set here" }], help: "pick values" });
    const text = renderDiagnostic(d);
    expect(text).toContain(" --> a.mmfm:1:21");
    expect(text).toContain(" ::: std/b.mmfm:2:3");
    expect(text).toContain("  ---------");
    expect(text).toContain("= help: pick values");
  });
});

describe("the example of LANGUAGE.md §7", () => {
  it("renders as the contract shows", () => {
    const text = `// llava-gemma.mmfm\nimport "std"\n\nvision clip = clip_vit_l14_336 { selct_layer = -2 }\n`;
    const result = compile(join(repo, "examples", "llava-gemma.mmfm"), { text });
    const d = result.diagnostics.items.find((x) => x.code === "E0203")!;
    expect(renderDiagnostic(d)).toBe(
      [
        "error[E0203]: unknown field `selct_layer` in vision `clip`",
        " --> examples/llava-gemma.mmfm:4:34",
        "  |",
        "4 | vision clip = clip_vit_l14_336 { selct_layer = -2 }",
        "  |                                  ^^^^^^^^^^^ did you mean `select_layer`?",
      ].join("\n"),
    );
  });
});

describe("mmfmc check -", () => {
  it("reads the spec from standard input", async () => {
    const { mmfmc } = await import("../helpers.js");
    const r = mmfmc(["check", "-", "--json"], { input: 'import "std"\nvision v = clip_vit { width = 64, heads = 5 }\n' });
    expect(r.status).toBe(1);
    const d = JSON.parse(r.stdout).diagnostics.find((x: { code: string }) => x.code === "E0305");
    expect(d).toMatchObject({ file: "<stdin>.mmfm", line: 2 });
    expect(mmfmc(["build", "-"]).status).toBe(2);
  });
});
