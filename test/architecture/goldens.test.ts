/**
 * What the compiler writes for users, held byte for byte: `check --json`, `grid --json`, and the
 * `plan.json` and `grid.yaml` files of `build`, for the examples, the export cases and every invalid
 * spec of the conformance suite. A restructure of the code must leave all of them unchanged
 * (`npm run golden` rewrites them; review the diff).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { jsonDiagnostic, renderDiagnostic } from "../../core/render.js";
import { golden, mmfmc, repo, tempDir } from "../helpers.js";

const goldens = join(repo, "test", "cases", "goldens");

const specs = [
  ...readdirSync(join(repo, "examples")).filter((f) => f.endsWith(".mmfm")).map((f) => `examples/${f}`),
  ...readdirSync(join(repo, "test", "cases", "export")).filter((f) => f.endsWith(".mmfm")).map((f) => `test/cases/export/${f}`),
].sort();

/**
 * Paths of this machine become placeholders, so the goldens hold on any clone wherever it is: the
 * output folder, the repository, and the repository as a path relative to `from` (a plan's
 * `source.dir` is relative to the plan's own folder, which is in a temporary folder).
 */
function portable(text: string, out?: string, from?: string): string {
  let t = text;
  if (from) t = t.split(`"${relative(from, repo)}/`).join(`"<repo>/`);
  if (out) t = t.split(out).join("<out>");
  return t.split(repo).join("<repo>");
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe.each(specs)("%s", (spec) => {
  const name = spec.replace(/[/.]/g, "_");

  it("check --json and grid --json", () => {
    for (const command of ["check", "grid"]) {
      const r = mmfmc([command, spec, "--json"]);
      const g = golden(join(goldens, name, `${command}.json`), portable(r.stdout));
      expect(g.actual).toBe(g.expected);
    }
  });

  it("build: plan.json of every variant and grid.yaml", () => {
    const out = tempDir("mmfm-goldens-");
    const r = mmfmc(["build", spec, "--out", out]);
    expect(r.status).toBe(0);
    const written = files(out).filter((f) => f.endsWith("plan.json") || f.endsWith("grid.yaml"));
    expect(written.length).toBeGreaterThan(1);
    for (const f of written) {
      const g = golden(join(goldens, name, "build", f), portable(readFileSync(join(out, f), "utf8"), out, dirname(join(out, f))));
      expect(g.actual, f).toBe(g.expected);
    }
  });
});

describe("diagnostics of every invalid conformance spec, rendered and as JSON", () => {
  it("are unchanged", () => {
    const dir = join(repo, "test", "cases", "language", "invalid");
    const cases = readdirSync(dir).filter((f) => f.endsWith(".mmfm")).sort();
    const outputs = cases.map((f) => {
      const result = compile(join(dir, f));
      const sorted = result.diagnostics.sorted();
      const rendered = sorted.map((d) => renderDiagnostic(d)).join("\n");
      const json = JSON.stringify({ diagnostics: sorted.map((d) => jsonDiagnostic(d, f)) }, null, 2);
      return `== ${f}\n${rendered}\n${json}\n`;
    });
    const g = golden(join(goldens, "invalid.diagnostics.txt"), portable(outputs.join("")));
    expect(g.actual).toBe(g.expected);
  });
});
