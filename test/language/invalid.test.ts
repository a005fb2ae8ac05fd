/**
 * Invalid specs: every `.mmfm` under test/cases/language/invalid/ with an expectations header.
 *
 *   // expect: E0203 line 4 col 34 "selct_layer" "select_layer"
 *   // expect: E0201|E0303 line 7|8 "langauge"
 *   // expect: E0207 line 3|lib/cycle_b.mmfm:2 "cycle"
 *   // allow: line 7
 *   // expect-exit: 0
 *
 * An `expect` line asks for a diagnostic with one of the codes, at one of the lines (of this file, or
 * of FILE relative to it), at the column when given (1-based, in code points), whose message or label
 * holds each quoted word (`a|b`: either). Every error must be expected, except those on an `allow`ed
 * line: one mistake gives one error, not a cascade (warnings are not counted). The exit status is 1 when an error is
 * expected, else 0 (or `expect-exit`). Files without a header are support files of other cases.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { casesDir, checkJson, type JsonDiagnostic, mmfmc, mmfmFiles, showDiagnostics } from "./harness.js";

interface Expectation {
  readonly raw: string;
  readonly codes: readonly string[];
  readonly at: readonly { file: string; line: number }[];
  readonly column?: number;
  readonly words: readonly (readonly string[])[];
}

interface Case {
  readonly file: string;
  readonly expectations: readonly Expectation[];
  readonly allowed: ReadonlySet<number>;
  readonly exit: number;
}

const expectLine = /^\/\/ expect: (\S+) line (\S+)(?: col (\d+))?((?: "[^"]*")*)\s*$/;

function readCase(path: string): Case | undefined {
  const file = relative(process.cwd(), path);
  const lines = readFileSync(path, "utf8").split("\n");
  const expectations: Expectation[] = [];
  const allowed = new Set<number>();
  let exit: number | undefined;
  let header = false;
  for (const line of lines) {
    if (!line.startsWith("// expect") && !line.startsWith("// allow")) continue;
    header = true;
    const m = expectLine.exec(line);
    if (m) {
      const at = m[2].split("|").map((loc) => {
        const colon = loc.lastIndexOf(":");
        return colon < 0 ? { file, line: Number(loc) } : { file: join(dirname(file), loc.slice(0, colon)), line: Number(loc.slice(colon + 1)) };
      });
      const words = [...m[4].matchAll(/"([^"]*)"/g)].map((w) => w[1].split("|"));
      expectations.push({ raw: line, codes: m[1].split("|"), at, column: m[3] ? Number(m[3]) : undefined, words });
      continue;
    }
    const allow = /^\/\/ allow: line (\d+)$/.exec(line);
    if (allow) {
      allowed.add(Number(allow[1]));
      continue;
    }
    const e = /^\/\/ expect-exit: (\d+)$/.exec(line);
    if (e) {
      exit = Number(e[1]);
      continue;
    }
    throw new Error(`${file}: cannot read the expectation \`${line}\``);
  }
  if (!header) return undefined;
  const errors = expectations.some((x) => x.codes.some((c) => c.startsWith("E")));
  return { file, expectations, allowed, exit: exit ?? (errors ? 1 : 0) };
}

function at(d: JsonDiagnostic, e: Expectation): boolean {
  return e.codes.includes(d.code) && e.at.some((l) => l.file === d.file && l.line === d.line);
}

function satisfies(d: JsonDiagnostic, e: Expectation): boolean {
  if (!at(d, e)) return false;
  if (e.column !== undefined && d.column !== e.column) return false;
  const text = `${d.message} ${d.label ?? ""}`;
  return e.words.every((alternatives) => alternatives.some((w) => text.includes(w)));
}

const cases = mmfmFiles(join(casesDir, "invalid"))
  .map(readCase)
  .filter((c): c is Case => c !== undefined);

describe("invalid specs report the mistake on its line, naming it", () => {
  it("has the invalid cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
  });

  for (const c of cases) {
    it(c.file.slice(c.file.indexOf("invalid/") + "invalid/".length), async () => {
      const { code, diagnostics } = await checkJson(c.file);
      const all = showDiagnostics(diagnostics);
      const problems: string[] = [];
      for (const e of c.expectations) {
        if (!diagnostics.some((d) => satisfies(d, e))) {
          const near = diagnostics.filter((d) => at(d, e));
          problems.push(`missing: ${e.raw.slice(3)}${near.length ? ` (at that place: ${near.map((d) => `col ${d.column} "${d.message}"`).join("; ")})` : ""}`);
        }
      }
      for (const d of diagnostics) {
        if (d.severity !== "error") continue; // warnings (unused imports, ...) are not part of the mistake
        const expected = c.expectations.some((e) => at(d, e));
        const allowed = d.file === c.file && c.allowed.has(d.line);
        if (!expected && !allowed) problems.push(`unexpected: ${d.severity}[${d.code}] ${d.file}:${d.line}:${d.column} ${d.message}`);
      }
      if (code !== c.exit) problems.push(`exit status ${code}, expected ${c.exit}`);
      expect(problems, `diagnostics:\n${all}`).toEqual([]);
    });
  }
});

describe("the human rendering of invalid specs", () => {
  it("shows every diagnostic of --json with its code and place, with the same exit status, and no stack trace", async () => {
    for (const c of cases) {
      // a crash (exit 70, no JSON) fails the case's own test above; here only what was rendered counts
      const json = await checkJson(c.file).catch(() => undefined);
      if (!json) continue;
      const r = await mmfmc("check", c.file);
      expect(r.code, c.file).toBe(json.code);
      expect(r.stderr, c.file).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      for (const d of json.diagnostics) {
        expect(r.stderr, c.file).toContain(`${d.severity}[${d.code}]: ${d.message}`);
        expect(r.stderr, c.file).toContain(`--> ${d.file}:${d.line}:${d.column}`);
      }
    }
  });

  it("a duplicate name across two imported files names both places (LANGUAGE.md §3)", async () => {
    const file = relative(process.cwd(), join(casesDir, "invalid", "name_duplicate_imports.mmfm"));
    const r = await mmfmc("check", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dirname(file), "lib", "dup_a.mmfm")}:2`);
    expect(r.stderr).toContain(`${join(dirname(file), "lib", "dup_b.mmfm")}:2`);
  });

  it("a duplicate name in one file names both lines", async () => {
    const file = relative(process.cwd(), join(casesDir, "invalid", "name_duplicate_local.mmfm"));
    const r = await mmfmc("check", file);
    const text = readFileSync(file, "utf8").split("\n");
    const lines = text.map((l, i) => (l.startsWith("stage finetune") ? i + 1 : 0)).filter((n) => n > 0);
    expect(lines).toHaveLength(2);
    for (const n of lines) expect(r.stderr).toMatch(new RegExp(`^\\s*${n} \\| stage finetune`, "m"));
  });
});
