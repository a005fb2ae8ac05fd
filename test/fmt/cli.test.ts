// `mmfmc fmt FILE... [--check]` through the CLI: rewriting in place atomically, leaving formatted
// files untouched, --check for CI, syntax errors, several files and folders, and `-` for stdin.

import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseArgs } from "../../cli/args.js";
import { commonOptions } from "../../cli/command.js";
import { fmtCommand } from "../../cli/commands/fmt.js";
import { main } from "../../cli/main.js";
import { memoryOutput } from "../../cli/output.js";

const messy = "model m {vision=clip connector=mlp2x_gelu}\nlet  a=1\n";
const tidy = "model m { vision = clip, connector = mlp2x_gelu }\nlet a = 1\n";
const broken = "model m {\n  vision = \n}\nlet = 3\n";

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "mmfm-fmt-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function run(...argv: string[]) {
  const out = memoryOutput();
  const code = await main(["fmt", ...argv], out);
  return { code, stdout: out.stdout, stderr: out.stderr };
}

async function runStdin(input: string, ...argv: string[]) {
  const out = memoryOutput();
  const command = fmtCommand({ readStdin: () => input });
  const code = await command.run(parseArgs(argv, { ...commonOptions, ...command.options }), out);
  return { code, stdout: out.stdout, stderr: out.stderr };
}

describe("mmfmc fmt", () => {
  it("prints its usage with --help", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: mmfmc fmt FILE... [--check]");
    expect(r.stdout).toContain("--check");
  });

  it("is a usage error without a file, with a missing file, or with `-` twice", async () => {
    expect((await run()).code).toBe(2);
    const missing = await run("no/such/file.mmfm");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file: no/such/file.mmfm");
    expect((await run("-", "-")).code).toBe(2);
  });

  it("rewrites a file in canonical layout, through a new file renamed over it, keeping its mode", async () => {
    const dir = folder({ "spec.mmfm": messy });
    const path = join(dir, "spec.mmfm");
    chmodSync(path, 0o640);
    const before = statSync(path);
    const r = await run(path);
    expect(r.code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe(tidy);
    const after = statSync(path);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(["spec.mmfm"]);
    expect(r.stderr).toContain(`formatted ${path}`);
    expect(r.stdout).toBe("");
  });

  it("does not touch a file that is already formatted", async () => {
    const dir = folder({ "spec.mmfm": tidy });
    const path = join(dir, "spec.mmfm");
    utimesSync(path, new Date("2001-01-01"), new Date("2001-01-01"));
    const before = statSync(path);
    const r = await run(path);
    expect(r.code).toBe(0);
    const after = statSync(path);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect(r.stderr).toContain("1 file, 0 rewritten");
  });

  it("writes through a symbolic link to its target", async () => {
    const dir = folder({ "real.mmfm": messy });
    symlinkSync(join(dir, "real.mmfm"), join(dir, "link.mmfm"));
    expect((await run(join(dir, "link.mmfm"))).code).toBe(0);
    expect(lstatSync(join(dir, "link.mmfm")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "real.mmfm"), "utf8")).toBe(tidy);
  });

  it("--check lists the files that are not formatted, writes nothing and exits 1", async () => {
    const dir = folder({ "a.mmfm": messy, "b.mmfm": tidy });
    const a = join(dir, "a.mmfm");
    const b = join(dir, "b.mmfm");
    const r = await run("--check", a, b);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${a}\n`);
    expect(r.stderr).toContain("1 file not formatted");
    expect(readFileSync(a, "utf8")).toBe(messy);
    const clean = await run("--check", b);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe("");
  });

  it("does not rewrite a file with syntax errors: prints its diagnostics and exits 1, formatting the others", async () => {
    const dir = folder({ "bad.mmfm": broken, "good.mmfm": messy });
    const bad = join(dir, "bad.mmfm");
    const good = join(dir, "good.mmfm");
    const r = await run(bad, good);
    expect(r.code).toBe(1);
    expect(readFileSync(bad, "utf8")).toBe(broken);
    expect(readFileSync(good, "utf8")).toBe(tidy);
    expect(r.stderr).toMatch(/error\[E0106\]/);
    expect(r.stderr).toContain(`${bad}:3:1`);
    expect(r.stderr).toContain(`${bad} has syntax errors; not formatted`);
    const check = await run("--check", bad);
    expect(check.code).toBe(1);
  });

  it("formats every .mmfm file below a folder", async () => {
    const dir = folder({ "a.mmfm": messy, "sub/b.mmfm": messy, "notes.txt": messy, ".hidden/c.mmfm": messy });
    const r = await run(dir);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "a.mmfm"), "utf8")).toBe(tidy);
    expect(readFileSync(join(dir, "sub", "b.mmfm"), "utf8")).toBe(tidy);
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe(messy);
    expect(readFileSync(join(dir, ".hidden", "c.mmfm"), "utf8")).toBe(messy);
    expect(r.stderr).toContain("2 files, 2 rewritten");
  });

  it("reads standard input for `-` and writes the result to standard output", async () => {
    const r = await runStdin(messy, "-");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(tidy);
    expect(r.stderr).toBe("");
    const check = await runStdin(messy, "-", "--check");
    expect(check.code).toBe(1);
    expect(check.stdout).toBe("<stdin>\n");
    expect((await runStdin(tidy, "-", "--check")).code).toBe(0);
    const bad = await runStdin(broken, "-");
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("<stdin>:3:1");
  });
});
