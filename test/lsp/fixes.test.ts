/**
 * Every "did you mean" carries a fix (the edit an editor offers as a quick fix), and applying the fix
 * removes the error: checked on every diagnostic of the invalid spec cases, in the compiler itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../core/diagnostics.js";
import { compile } from "../../compiler/pipeline.js";
import { nodeHost } from "../../compiler/resolve.js";
import { casesDir, mmfmFiles } from "../language/harness.js";

function withText(path: string, text: string) {
  const disk = nodeHost();
  return { ...disk, readFile: (p: string) => (p === path ? text : disk.readFile(p)) };
}

describe("fixes", () => {
  it("every `did you mean` label comes with its fix, and the fix removes the error", () => {
    const codes = new Set<string>();
    let checked = 0;
    for (const file of mmfmFiles(join(casesDir, "invalid"))) {
      for (const d of compile(file).diagnostics.items) {
        const suggestion = /^did you mean `(.+)`\?$/.exec(d.label ?? "")?.[1];
        if (!suggestion) continue;
        const fix = d.fixes?.find((f) => f.text === suggestion);
        expect(fix, `${file}: ${d.code} ${d.message}`).toBeDefined();
        expect(fix!.span).toEqual(d.span);
        expect(stillThere(file, d, fix!)).toBe(false);
        codes.add(d.code);
        checked++;
      }
    }
    // unknown fields (check), names and bases (evaluate), enum values (check), axes (grid)
    expect([...codes].sort()).toEqual(["E0201", "E0203", "E0303", "E0401"]);
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it("a preset used without `import \"std\"` gets the import as its fix", () => {
    const file = join(casesDir, "invalid", "name_missing_std.mmfm");
    const [d] = compile(file).diagnostics.items;
    expect(d.code).toBe("E0201");
    const fix = d.fixes!.find((f) => f.text === 'import "std"\n')!;
    expect([fix.span.start, fix.span.end]).toEqual([0, 0]);
    const text = readFileSync(file, "utf8");
    const fixed = compile(file, { text: fix.text + text });
    expect(fixed.diagnostics.items.filter((x) => x.severity === "error")).toEqual([]);
  });
});

/** Whether the diagnostic's code is still reported where the fix applied, after applying it. */
function stillThere(entry: string, d: Diagnostic, fix: NonNullable<Diagnostic["fixes"]>[number]): boolean {
  const path = fix.span.file.absolutePath!;
  const text = fix.span.file.text;
  const fixed = text.slice(0, fix.span.start) + fix.text + text.slice(fix.span.end);
  const result = path === entry ? compile(entry, { text: fixed }) : compile(entry, { host: withText(path, fixed) });
  return result.diagnostics.items.some((x) => x.code === d.code && x.span?.file.absolutePath === path && x.span.start === fix.span.start);
}
