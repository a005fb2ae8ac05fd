/**
 * Faults of the compiler (issue 16): inputs that once crashed it, read what it must not read, or
 * showed what it must not show. Each case runs `mmfmc check` in process and asserts exit 1 (an input
 * error, never 70), a diagnostic naming the file and the place, and what must not be printed.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers.js";
import { mmfmc } from "../language/harness.js";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A project folder (with package.json, so it is the root) beside a folder outside it. */
function project(): { root: string; outside: string } {
  const dir = tempDir("mmfm-faults-");
  made.push(dir);
  const root = join(dir, "project");
  const outside = join(dir, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(root, "package.json"), "{}\n");
  return { root, outside };
}

/** `mmfmc check FILE` as a user runs it, with the file given relative to the working directory. */
async function check(file: string) {
  const r = await mmfmc("check", relative(process.cwd(), file));
  return { ...r, text: r.stdout + r.stderr };
}

const secret = "SECRET_LINE_5f3a";

describe("imports through symbolic links (E0208)", () => {
  it("a link inside the project to a file outside it is outside the project, and the file is not read", async () => {
    const { root, outside } = project();
    // outside the project: a valid spec, so only the root check can stop it
    writeFileSync(join(outside, "shadow.mmfm"), `let leaked = "${secret}"\n`);
    symlinkSync(join(outside, "shadow.mmfm"), join(root, "s.mmfm"));
    writeFileSync(join(root, "main.mmfm"), 'import "./s.mmfm"\nlet x = leaked\n');
    const r = await check(join(root, "main.mmfm"));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/error\[E0208\]: import `\.\/s\.mmfm` reaches outside the project root/);
    expect(r.text).toMatch(/main\.mmfm:1:8/);
    expect(r.text).toContain("shadow.mmfm"); // where it leads
    expect(r.text).not.toContain(secret);
  });

  it("a link to a file that is not a spec (like /etc/passwd) is refused without showing its lines", async () => {
    const { root, outside } = project();
    writeFileSync(join(outside, "passwd"), `root:x:0:0:${secret}:/root:/bin/bash\n`);
    symlinkSync(join(outside, "passwd"), join(root, "s.mmfm"));
    writeFileSync(join(root, "main.mmfm"), 'import "./s.mmfm"\n');
    const r = await check(join(root, "main.mmfm"));
    expect(r.code).toBe(1);
    expect(r.text).toContain("E0208");
    expect(r.text).not.toContain(secret);
    expect(r.text).not.toContain("root:x");
  });

  it("a linked folder inside the project that leads outside it is outside the project", async () => {
    const { root, outside } = project();
    writeFileSync(join(outside, "common.mmfm"), `let leaked = "${secret}"\n`);
    symlinkSync(outside, join(root, "lib"));
    writeFileSync(join(root, "main.mmfm"), 'import "./lib/common.mmfm"\nlet x = leaked\n');
    const r = await check(join(root, "main.mmfm"));
    expect(r.code).toBe(1);
    expect(r.text).toContain("E0208");
    expect(r.text).toMatch(/main\.mmfm:1:8/);
    expect(r.text).not.toContain(secret);
  });

  it("a link that stays inside the project is followed", async () => {
    const { root } = project();
    mkdirSync(join(root, "lib"));
    writeFileSync(join(root, "lib", "common.mmfm"), "let width = 64\n");
    symlinkSync(join(root, "lib", "common.mmfm"), join(root, "common.mmfm"));
    writeFileSync(join(root, "main.mmfm"), 'import "./common.mmfm"\nlet x = width\n');
    const r = await check(join(root, "main.mmfm"));
    expect(r.text).not.toContain("error");
    expect(r.code).toBe(0);
  });

  it("a folder linked to itself is a cycle (E0207), not an endless chain of imports", async () => {
    const { root } = project();
    symlinkSync(".", join(root, "again"));
    writeFileSync(join(root, "main.mmfm"), 'import "./again/main.mmfm"\n');
    const r = await check(join(root, "main.mmfm"));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/error\[E0207\]: import cycle/);
    expect(r.text).toMatch(/main\.mmfm:1:8/);
  });
});

describe("files that are not specs are named, never quoted (E0215)", () => {
  it("an imported binary file", async () => {
    const { root } = project();
    writeFileSync(join(root, "weights.mmfm"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x41, 0x42]));
    writeFileSync(join(root, "main.mmfm"), 'import "./weights.mmfm"\n');
    const r = await check(join(root, "main.mmfm"));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/error\[E0215\]: `[^`]*weights\.mmfm` is not an mmfm spec: it is binary/);
    expect(r.text).toMatch(/main\.mmfm:1:8/);
    expect(r.text).not.toContain("PNG");
    expect(r.text).not.toContain("E0101");
  });

  it("an imported text file that does not begin like a spec (an .env file)", async () => {
    const { root } = project();
    writeFileSync(join(root, ".env"), `API_KEY=${secret}\nOTHER = 1\n`);
    writeFileSync(join(root, "main.mmfm"), 'import "./.env"\n');
    const r = await check(join(root, "main.mmfm"));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/error\[E0215\]: `[^`]*\.env` is not an mmfm spec: it does not begin with `import`, `let` or a declaration/);
    expect(r.text).toMatch(/main\.mmfm:1:8/);
    expect(r.text).not.toContain(secret);
    expect(r.text).not.toContain("E0106");
  });

  it("an imported spec with a syntax error still shows its lines", async () => {
    const { root } = project();
    writeFileSync(join(root, "common.mmfm"), "let width = 64\nlet = 3\n");
    writeFileSync(join(root, "main.mmfm"), 'import "./common.mmfm"\nlet x = width\n');
    const r = await check(join(root, "main.mmfm"));
    expect(r.code).toBe(1);
    expect(r.text).toContain("E0106");
    expect(r.text).toMatch(/common\.mmfm:2:5/);
    expect(r.text).toContain("let = 3");
  });

  it("a binary file given on the command line", async () => {
    const { root } = project();
    writeFileSync(join(root, "model.safetensors"), Buffer.from([0x10, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xc3, 0x28]));
    const r = await check(join(root, "model.safetensors"));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/error\[E0215\]: `[^`]*model\.safetensors` is not an mmfm spec: it is binary/);
  });
});
