import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { catalog } from "../../core/diagnostics.js";
import { M } from "../../core/messages.js";
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
  const files = ["core", "grammar", "compiler", "cli", "runtime", "plan", "lsp"].flatMap((d) => sources(join(repo, d)));
  const text = new Map(files.map((f) => [relative(repo, f).split(sep).join("/"), readFileSync(f, "utf8")]));
  const catalogFiles = ["core/diagnostics.ts", "core/messages.ts"];
  const docs = readFileSync(join(repo, "docs", "language.md"), "utf8");
  const outside = (allowed: readonly string[]) => [...text].filter(([f]) => !allowed.includes(f));

  it("has unique codes grouped by phase, errors E and warnings W", () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const [c, entry] of Object.entries(catalog)) {
      expect(c).toMatch(/^[EW]0[1-5]\d\d$/);
      expect(entry.severity).toBe(c.startsWith("E") ? "error" : "warning");
    }
  });

  it("uses every code: each has messages", () => {
    const withMessages = new Set<string>(Object.values(M).map((m) => m.code));
    const unused = codes.filter((c) => !withMessages.has(c));
    expect(unused).toEqual([]);
  });

  it("reports every message of the catalog somewhere", () => {
    const code = outside(["core/messages.ts"]).map(([, t]) => t).join("\n");
    const unused = Object.keys(M).filter((name) => !new RegExp(`\\bM\\.${name}\\b`).test(code));
    expect(unused).toEqual([]);
  });

  it("makes no diagnostic outside the catalog: no codes or raw diagnostics in the sources", () => {
    const offenders: string[] = [];
    for (const [file, t] of outside(catalogFiles)) {
      for (const m of t.matchAll(/["'`][EW]0\d{3}["'`]|\bdiagnostic\(/g)) offenders.push(`${file}: ${m[0]}`);
    }
    expect(offenders).toEqual([]);
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
