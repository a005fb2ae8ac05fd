/**
 * Faults of the compiler (issue 16): inputs that once crashed it, read what it must not read, or
 * showed what it must not show. Each case runs `mmfmc check` in process and asserts exit 1 (an input
 * error, never 70), a diagnostic naming the file and the place, and what must not be printed.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatText } from "../../compiler/format.js";
import { compile } from "../../compiler/pipeline.js";
import { maxNesting } from "../../grammar/nesting.js";
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

/** A spec file in a fresh project, for the cases below. */
function spec(name: string, text: string): string {
  const { root } = project();
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

/** The value of `let NAME` after compiling `text` (and the compilation's errors). */
function letValue(text: string, name: string) {
  const c = compile(spec("values.mmfm", text));
  const binding = c.program.entry.own.get(name);
  if (binding?.kind !== "let") throw new Error(`no let ${name}`);
  return { value: c.evaluator.letValue(binding), errors: c.diagnostics.items.filter((d) => d.severity === "error") };
}

describe("deep nesting is an error at the place where the limit is crossed (E0108)", () => {
  const n = 200;
  const prefix = "let x = ";
  const deep: Record<string, string> = {
    lists: prefix + "[".repeat(n) + "1" + "]".repeat(n),
    records: prefix + "{ a = ".repeat(n) + "1" + " }".repeat(n),
    parentheses: prefix + "(".repeat(n) + "1" + ")".repeat(n),
    refinements: "import \"std\"\nlet x = " + "cosine { warmup = ".repeat(n) + "0.1" + " }".repeat(n),
    "unary minus": prefix + "-".repeat(3000) + "1",
    "not": prefix + "not ".repeat(3000) + "true",
    "unclosed lists": prefix + "[".repeat(n) + "1",
  };
  for (const [what, text] of Object.entries(deep)) {
    it(`${n} levels of ${what}: exit 1, E0108 naming the file, line and column`, async () => {
      const file = spec("deep.mmfm", text + "\n");
      const r = await check(file);
      expect(r.code).toBe(1);
      expect(r.text).toContain(`error[E0108]: brackets and prefix operators nest more than ${maxNesting} levels deep`);
      // the level past the limit: its opener after `let x = ` and 32 levels
      const lines = text.split("\n");
      const line = lines.length;
      const last = lines[line - 1];
      const opener = /^let x = (\[|\{ a = |\(|-|not |cosine \{ warmup = )/.exec(last)![1];
      const column = "let x = ".length + maxNesting * opener.length + opener.search(/[[{(-]|not/) + 1;
      expect(r.text).toContain(`deep.mmfm:${line}:${column}`);
      expect(r.text).toContain(`level ${maxNesting + 1} opens here`);
      expect(r.text).not.toContain("internal error");
    });
  }

  it("the limit itself is fine, closed; unclosed it is a syntax error, not a crash", async () => {
    const ok = await check(spec("ok.mmfm", "let x = " + "[".repeat(maxNesting - 1) + "1" + "]".repeat(maxNesting - 1) + "\nlet y = x\nlet z = y\n"));
    expect(ok.text).not.toContain("error");
    const open = await check(spec("open.mmfm", "let x = " + "[".repeat(maxNesting) + "1\n"));
    expect(open.code).toBe(1);
    expect(open.text).toContain("E0106");
    expect(open.text).not.toContain("E0108");
  });

  it("only the item that is too deep is cut: the next ones are read and checked", async () => {
    const file = spec("two.mmfm", "let x = " + "[".repeat(n) + "\nlet y = 1 + true\n");
    const r = await check(file);
    expect(r.code).toBe(1);
    expect(r.text).toContain("E0108");
    expect(r.text).toMatch(/error\[E0310\][^\n]*\n --> [^\n]*two\.mmfm:2:/);
  });

  it("`mmfmc fmt` on a too deep file: exit 1 with E0108, the file unchanged", async () => {
    const text = "let x = " + "(".repeat(n) + "1" + ")".repeat(n) + "\n";
    const file = spec("deep.mmfm", text);
    const r = await mmfmc("fmt", file);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("E0108");
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("a --set value nested too deep is a usage error, not a crash", async () => {
    const file = spec("e.mmfm", "import \"std\"\nmodel m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }\neval e { data = [shapes_test] }\nexperiment x { model = m, stages = [e] }\n");
    const r = await mmfmc("check", file, "--set", "seed=" + "[".repeat(n) + "1" + "]".repeat(n));
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("E0501");
    expect(r.stdout + r.stderr).toContain(`nest more than ${maxNesting} levels deep`);
  });
});

describe("long expressions and chains are evaluated by loops", () => {
  it("a sum of 2,000 terms, and of 100,000", () => {
    expect(letValue(`let x = ${Array(2000).fill("1").join(" + ")}\n`, "x").value).toMatchObject({ type: "int", value: 2000n });
    const terms = Array.from({ length: 100_000 }, (_, i) => String(i + 1)).join(" + ");
    expect(letValue(`let x = ${terms}\n`, "x").value).toMatchObject({ type: "int", value: 5_000_050_000n });
  });

  it("long chains of `-`, `*`, `and`, `or` and mixed precedence keep their meaning", () => {
    expect(letValue(`let x = 100000 ${" - 1".repeat(50_000)}\n`, "x").value).toMatchObject({ value: 50_000n });
    expect(letValue(`let x = ${Array(20_000).fill("1").join(" * ")} * 3\n`, "x").value).toMatchObject({ value: 3n });
    expect(letValue(`let x = ${Array(20_000).fill("true").join(" and ")} and false\n`, "x").value).toMatchObject({ type: "bool", value: false });
    expect(letValue(`let x = ${Array(20_000).fill("false").join(" or ")} or not true == true\n`, "x").value).toMatchObject({ type: "bool", value: false });
    expect(letValue(`let x = ${Array(10_000).fill("2 * 3").join(" + ")} == 60000\n`, "x").value).toMatchObject({ type: "bool", value: true });
  });

  it("a chain of 50,000 `let`s, each naming the next, and of 50,000 declarations, each based on the next", () => {
    const n = 50_000;
    const lets = Array.from({ length: n }, (_, i) => `let a${i} = a${i + 1} + 1`).join("\n") + `\nlet a${n} = 0\n`;
    const r = letValue(lets, "a0");
    expect(r.errors).toEqual([]);
    expect(r.value).toMatchObject({ value: BigInt(n) });
    const decls = 'import "std"\n' + Array.from({ length: n }, (_, i) => `dataset d${i} = d${i + 1} {}`).join("\n") + `\ndataset d${n} = synthetic_shapes { size = 7 }\nlet size = d0.size\n`;
    expect(letValue(decls, "size")).toMatchObject({ errors: [], value: { value: 7n } });
  });

  it("`mmfmc fmt` prints a 50,000-term sum, and the result formats to itself", () => {
    const text = `let x = ${Array(50_000).fill("1").join("+")}\n`;
    const once = formatText(text).text!;
    expect(once).toBe(`let x = ${Array(50_000).fill("1").join(" + ")}\n`);
    expect(formatText(once).text).toBe(once);
  });
});

describe("large grids", () => {
  it("a block of 202,500 points (crossed before `exclude` keeps 450) expands without a stack overflow", () => {
    const values = Array.from({ length: 450 }, (_, i) => i + 1).join(", ");
    const text = `import "std"
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
eval e { data = [shapes_test] }
experiment big {
  model  = m
  stages = [e]
  ablate {
    seed:    [${values}]
    devices: [${values}]
  }
  exclude devices != 1
}
`;
    const c = compile(spec("big.mmfm", text));
    expect(c.diagnostics.items.filter((d) => d.severity === "error")).toEqual([]);
    const variants = c.experiments[0].variants;
    expect(variants.length).toBe(450);
    expect(variants[449].id).toBe("big/450-1");
    expect(variants[449].config.json.seed).toBe(450);
  }, 60_000);
});
