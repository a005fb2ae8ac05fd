import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalog } from "../../core/diagnostics.js";
import { familiesMarkdown } from "../../compiler/doc.js";
import { repo } from "../helpers.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("the diagnostic catalog", () => {
  const codes = Object.keys(catalog);
  const code = ["grammar", "compiler", "cli", "runtime"].flatMap((d) => sources(join(repo, d))).filter((f) => !f.endsWith("diagnostics.ts"));
  const text = code.map((f) => readFileSync(f, "utf8")).join("\n");
  const docs = readFileSync(join(repo, "docs", "language.md"), "utf8");

  it("has unique codes grouped by phase, errors E and warnings W", () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const [c, entry] of Object.entries(catalog)) {
      expect(c).toMatch(/^[EW]0[1-5]\d\d$/);
      expect(entry.severity).toBe(c.startsWith("E") ? "error" : "warning");
    }
  });

  it("uses every code somewhere in the compiler or the command line", () => {
    const unused = codes.filter((c) => !text.includes(`"${c}"`));
    expect(unused).toEqual([]);
  });

  it("documents every code in docs/language.md with its summary", () => {
    for (const [c, entry] of Object.entries(catalog)) expect(docs).toContain(`| ${c} | ${entry.severity} | ${entry.summary} |`);
  });
});

describe("docs/families.md", () => {
  it("is the one generated from the family schemas (run `npm run docs` after changing families)", () => {
    expect(readFileSync(join(repo, "docs", "families.md"), "utf8")).toBe(familiesMarkdown());
  });
});
