// The canonical layout (docs/fmt.md): golden files under test/cases/fmt, and the rules one by one.
//
// Golden files: test/cases/fmt/NAME.mmfm is formatted and compared with NAME.formatted.mmfm. After a
// deliberate change of the layout, rewrite them with
//   MMFM_UPDATE_GOLDEN=1 npx vitest run test/fmt
// and review the diff. CI never writes them.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatText, maxWidth } from "../../compiler/format.js";
import { casesDir, commentTexts, goldenCases, meaning } from "./helpers.js";

const update = process.env.MMFM_UPDATE_GOLDEN === "1";

function fmt(text: string): string {
  const result = formatText(text, "test.mmfm");
  if (result.text === undefined) {
    throw new Error(`syntax errors: ${result.diagnostics.items.map((d) => d.message).join("; ")}`);
  }
  return result.text;
}

describe("golden files", () => {
  const cases = goldenCases();

  it("has cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of cases) {
    describe(name, () => {
      const input = readFileSync(join(casesDir, name), "utf8");
      const goldenPath = join(casesDir, name.replace(/\.mmfm$/, ".formatted.mmfm"));
      const output = fmt(input);

      it("formats to the golden text", () => {
        if (update) writeFileSync(goldenPath, output);
        expect(existsSync(goldenPath), `${goldenPath} is missing; run with MMFM_UPDATE_GOLDEN=1`).toBe(true);
        expect(output).toBe(readFileSync(goldenPath, "utf8"));
      });

      it("is idempotent", () => {
        expect(fmt(output)).toBe(output);
      });

      it("keeps every comment once", () => {
        expect(commentTexts(output)).toEqual(commentTexts(input));
      });

      it("keeps the variants' hashes and the diagnostics", () => {
        expect(meaning(join("test", "cases", "fmt", name), output)).toEqual(meaning(join("test", "cases", "fmt", name), input));
      });

      it("leaves no trailing whitespace and ends with one newline", () => {
        if (output === "") return;
        expect(output.endsWith("\n") && !output.endsWith("\n\n")).toBe(true);
        // lines inside block comments are kept as written; these cases have none with trailing spaces
        expect(output.split("\n").filter((l) => /\s$/.test(l))).toEqual([]);
      });
    });
  }
});

describe("layout rules", () => {
  it("indents by two spaces, one field per line, with `=` aligned in a run", () => {
    expect(fmt("model m {vision=clip connector=mlp2x_gelu language=gemma_2b_it}")).toBe(
      "model m {\n  vision    = clip\n  connector = mlp2x_gelu\n  language  = gemma_2b_it\n}\n",
    );
  });

  it("ends a run of aligned fields at a blank line and at a multi-line field", () => {
    const text = "stage s {\n  a = 1\n  bbb = 2\n\n  cc = 3\n  d = [\n    1, // one\n  ]\n  eeee = 5\n  f = 6\n}\n";
    expect(fmt(text)).toBe("stage s {\n  a   = 1\n  bbb = 2\n\n  cc = 3\n  d = [\n    1,  // one\n  ]\n  eeee = 5\n  f    = 6\n}\n");
  });

  it("separates top-level items with at most one blank line, and multi-line ones with exactly one", () => {
    const text = "let a = 1\n\n\n\nlet b = 2\nlet c = 3\nstage s {\n  lr = 1\n  batch = 2\n  epochs = 1\n}\nlet d = 4\n";
    expect(fmt(text)).toBe("let a = 1\n\nlet b = 2\nlet c = 3\n\nstage s {\n  lr     = 1\n  batch  = 2\n  epochs = 1\n}\n\nlet d = 4\n");
  });

  it("drops blank lines at the start and end of the file and of blocks", () => {
    expect(fmt("\n\n\nstage s {\n\n  a = 1\n  b = 2\n  c = 3\n\n}\n\n\n")).toBe("stage s {\n  a = 1\n  b = 2\n  c = 3\n}\n");
  });

  it("keeps a top-level body of at most two fields on one line when it fits, else breaks it", () => {
    expect(fmt("vision v = clip_vit_l14_336 {\n  image = 224\n}")).toBe("vision v = clip_vit_l14_336 { image = 224 }\n");
    expect(fmt("vision v = b { a = 1, b = 2, c = 3 }")).toBe("vision v = b {\n  a = 1\n  b = 2\n  c = 3\n}\n");
    const long = `dataset d = llava_json { annotations = "${"x".repeat(60)}", images = "data" }`;
    expect(fmt(long)).toBe(`dataset d = llava_json {\n  annotations = "${"x".repeat(60)}"\n  images      = "data"\n}\n`);
  });

  it("puts refinements and records on one line when they fit in the width, else one entry per line", () => {
    expect(fmt("stage s {\n  schedule = cosine {\n    warmup = 0.03\n  }\n  x = 1\n  y = 2\n}")).toBe(
      "stage s {\n  schedule = cosine { warmup = 0.03 }\n  x        = 1\n  y        = 2\n}\n",
    );
    const name = "n".repeat(maxWidth);
    expect(fmt(`let r = { a = ${name}, b = 2 }`)).toBe(`let r = {\n  a = ${name}\n  b = 2\n}\n`);
  });

  it("breaks a list that would pass column 100 into one item per line with a trailing comma", () => {
    const items = Array.from({ length: 10 }, (_, i) => `item_${String(i).padStart(2, "0")}`); // 7 characters each
    items[0] = "item_0000";
    // `let l = [` is 9 columns, the items 9 + 9*7, the `, ` between them 18, `]` 1: 100 in all
    const at100 = `let l = [${items.join(", ")}]`;
    expect(at100.length).toBe(maxWidth);
    expect(fmt(at100)).toBe(at100 + "\n");
    items[1] = "item_011";
    const at101 = `let l = [${items.join(", ")}]`;
    expect(at101.length).toBe(maxWidth + 1);
    expect(fmt(at101)).toBe(`let l = [\n${items.map((i) => `  ${i},\n`).join("")}]\n`);
  });

  it("writes ablate blocks one axis per line with the values aligned after the colon", () => {
    const text = "experiment e { ablate zip { model.vision: [clip, dino] seed: [1, 2] } exclude seed==1 }";
    expect(fmt(text)).toBe("experiment e {\n  ablate zip {\n    model.vision: [clip, dino]\n    seed:         [1, 2]\n  }\n  exclude seed == 1\n}\n");
  });

  it("writes a `zip` group inside `ablate` one axis per line, crossed axes around it, and `label(AXIS)` without spaces", () => {
    const text = "experiment e { ablate { zip { model.language.width: [1024, 2048] heads: [8,16] } depth: [12, 18] } exclude label ( model.language.width )==\"1024\" }";
    const out = fmt(text);
    expect(out).toBe(
      "experiment e {\n  ablate {\n    zip {\n      model.language.width: [1024, 2048]\n      heads:                [8, 16]\n    }\n    depth: [12, 18]\n  }\n" +
        '  exclude label(model.language.width) == "1024"\n}\n',
    );
    expect(fmt(out)).toBe(out);
    // an empty group, and comments inside a group and before its brace, survive
    const commented = "experiment e {\n  ablate {\n    zip /* a */ {  // b\n      // c\n      seed: [1]  // d\n    }\n    zip {}\n  }\n}\n";
    expect(fmt(commented)).toBe(commented);
  });

  it("spaces binary operators and keeps parentheses, numbers and strings as written", () => {
    expect(fmt('let x = ((1+2))*3-(-4)/2e-5\nlet s = "a\\u{1F600}\\"b"\nlet n = 256_000')).toBe(
      'let x = ((1 + 2)) * 3 - (-4) / 2e-5\nlet s = "a\\u{1F600}\\"b"\nlet n = 256_000\n',
    );
  });

  it("keeps a `,` before a field named `in`, which would otherwise read as `in [...]`", () => {
    const out = fmt("connector c = mlp { depth = 2, in = 1024, out = 2048 }");
    expect(out).toBe("connector c = mlp {\n  depth = 2,\n  in    = 1024\n  out   = 2048\n}\n");
    expect(fmt("let r = { a = 1; in = 2 }")).toBe("let r = { a = 1, in = 2 }\n");
  });

  it("does not reorder items (imports stay where they are)", () => {
    expect(fmt('let a = 1\nimport "std"\n')).toBe('let a = 1\nimport "std"\n');
  });

  it("reads CRLF line ends, tabs and a missing final newline", () => {
    expect(fmt("model m {\r\n\tvision = clip\r\n\r\n\r\n\tconnector = c\r\n\tlanguage = l\r\n}")).toBe(
      "model m {\n  vision = clip\n\n  connector = c\n  language  = l\n}\n",
    );
  });

  it("formats an empty file, or one of whitespace, to nothing", () => {
    expect(fmt("")).toBe("");
    expect(fmt("\n \n\t\n")).toBe("");
  });

  it("refuses a file with syntax errors and returns its diagnostics", () => {
    const result = formatText("model m {\n  vision = \n}\nlet = 3\n", "bad.mmfm");
    expect(result.text).toBeUndefined();
    expect(result.changed).toBe(false);
    expect(result.diagnostics.items.map((d) => d.code)).toContain("E0106");
  });

  it("reports whether the text changed", () => {
    expect(formatText("let a = 1\n").changed).toBe(false);
    expect(formatText("let a=1\n").changed).toBe(true);
  });
});

describe("comments", () => {
  it("keeps a trailing comment on its line, two spaces after the code, aligned with its neighbours'", () => {
    expect(fmt("model m {\n  vision = clip // v\n  connector = c /* c */\n  language = l\n}")).toBe(
      "model m {\n  vision    = clip  // v\n  connector = c     /* c */\n  language  = l\n}\n",
    );
  });

  it("keeps a leading comment on its own line before the item, with the blank line before it", () => {
    expect(fmt("let a = 1\n\n   // about b\nlet b = 2")).toBe("let a = 1\n\n// about b\nlet b = 2\n");
  });

  it("keeps comments on an opening bracket's line there, and dangling ones before the closing one", () => {
    expect(fmt("let l = [ // the list\n  a, b\n  // the end\n]")).toBe("let l = [  // the list\n  a,\n  b,\n  // the end\n]\n");
  });

  it("breaks a group that holds a comment", () => {
    expect(fmt("let l = [a, /* one */ b]")).toBe("let l = [\n  a,  /* one */\n  b,\n]\n");
    expect(fmt("let r = { /* empty */ }")).toBe("let r = {  /* empty */\n}\n");
  });

  it("keeps a comment between `=` and the value, and inside arithmetic", () => {
    expect(fmt("let a = // why\n  1")).toBe("let a = // why\n  1\n");
    expect(fmt("let a = 1 + /* b */ 2")).toBe("let a = 1 + /* b */ 2\n");
    expect(fmt("let a = 1 // one\n  + 2")).toBe("let a = 1 // one\n  + 2\n");
  });

  it("keeps comments at the end of the file, with a blank line after a multi-line item", () => {
    expect(fmt("stage s {\n  a = 1\n  b = 2\n  c = 3\n}\n// end")).toBe("stage s {\n  a = 1\n  b = 2\n  c = 3\n}\n\n// end\n");
    expect(fmt("let a = 1\n// end\n\n\n/* last */")).toBe("let a = 1\n// end\n\n/* last */\n");
  });

  it("keeps a block comment spanning lines as written", () => {
    const text = "/* one\n   two */\nlet a = 1  /* three\n four */\n";
    expect(fmt(text)).toBe(text);
  });
});
