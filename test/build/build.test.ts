import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Project, SyntaxKind } from "ts-morph";
import { beforeAll, describe, expect, it } from "vitest";
import { emit } from "../../compiler/emit.js";
import { compile } from "../../compiler/pipeline.js";
import { buildPlan } from "../../compiler/plan.js";
import { planSchema } from "../../compiler/plan_schema.js";
import { validatePlan } from "../../plan/io.js";
import type { Plan } from "../../plan/plan.js";
import { golden, mmfmc, repo, tempDir } from "../helpers.js";

const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");

function plansFor(spec: string, outDir: string): { plans: Plan[]; axes: readonly string[]; experiment: string } {
  const result = compile(join(repo, spec));
  expect(result.diagnostics.items.map((d) => d.message)).toEqual([]);
  const e = result.experiments[0];
  const plans = e.variants.map((v) =>
    buildPlan(v, { specPath: join(repo, spec), planDir: join(outDir, e.name, v.id.split("/")[1]), stdDir: join(repo, "std") }),
  );
  return { plans, axes: e.axes, experiment: e.name };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      if (e === "node_modules") continue;
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The tsconfig.json docs/build.md gives for type-checking a build folder in a user's project. */
function documentedTsconfig(): { compilerOptions: Record<string, unknown>; include: string[] } {
  const doc = readFileSync(join(repo, "docs", "build.md"), "utf8");
  const section = doc.slice(doc.indexOf("**Type-checking a build folder in your own project.**"));
  const block = /```json\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("docs/build.md gives no tsconfig.json for a user's project");
  return JSON.parse(block[1]);
}

/**
 * The `@types` packages a project that installs mmfm gets: those in the closure of mmfm's
 * production dependencies (npm hoists them into the project's node_modules/@types), as folders.
 */
function installedTypes(): string[] {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    let dir = from;
    for (;;) {
      if (existsSync(join(dir, "node_modules", name, "package.json"))) break;
      if (dir === repo) return; // an optional dependency not installed here
      dir = join(dir, "..");
    }
    const pkg = join(dir, "node_modules", name);
    if (seen.has(pkg)) return;
    seen.add(pkg);
    if (name.startsWith("@types/")) found.add(pkg);
    const deps = (JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {};
    for (const dep of Object.keys(deps)) visit(dep, pkg);
  };
  const own = (JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
  for (const dep of Object.keys(own)) visit(dep, repo);
  return [...found].sort();
}

/**
 * Type-checks the TypeScript files under `dir` as a user's project does with the setup docs/build.md
 * documents: a fresh ES-module project outside the repository (so nothing of the repository's own
 * node_modules/@types, such as @types/node, is visible), mmfm installed with the @types packages its
 * dependencies bring, the documented tsconfig.json (no skipLibCheck), `dir` as its `build/` folder.
 */
function typecheck(dir: string): { status: number | null; output: string } {
  const project = tempDir("mmfm-user-project-");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }));
  mkdirSync(join(project, "node_modules", "@types"), { recursive: true });
  symlinkSync(repo, join(project, "node_modules", "mmfm"));
  for (const types of installedTypes()) symlinkSync(types, join(project, "node_modules", "@types", types.slice(types.lastIndexOf("/") + 1)));
  cpSync(dir, join(project, "build"), { recursive: true, filter: (src) => !src.endsWith("node_modules") });
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(documentedTsconfig(), null, 2));
  const r = spawnSync(process.execPath, [tsc, "-p", join(project, "tsconfig.json")], { encoding: "utf8", cwd: project });
  rmSync(project, { recursive: true, force: true });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe("a user's project", () => {
  it("is documented without skipLibCheck, and mmfm brings no @types/node", () => {
    const config = documentedTsconfig();
    expect(config.compilerOptions.skipLibCheck).toBeUndefined();
    expect(config.compilerOptions.types).toBeUndefined();
    const types = installedTypes().map((t) => t.slice(t.lastIndexOf("node_modules/") + "node_modules/".length));
    expect(types).toContain("@types/long");
    expect(types).not.toContain("@types/node");
  });
});

describe("the plan schema", () => {
  it("is the one generated from the family schemas (run `npm run schema` after changing families)", () => {
    const shipped = JSON.parse(readFileSync(join(repo, "schema", "plan.schema.json"), "utf8"));
    expect(shipped).toEqual(planSchema());
  });
});

describe("plans of the paper spec", () => {
  const out = join(repo, "build", "golden");
  const { plans } = plansFor("examples/llava-gemma.mmfm", out);

  it("validate against the shipped schema", () => {
    for (const p of plans) expect(validatePlan(p)).toEqual([]);
  });

  it("reject a plan with a wrong field", () => {
    const bad = JSON.parse(JSON.stringify(plans[0]));
    bad.model.vision.select_layer = "minus two";
    delete bad.stages[0].lr;
    const problems = validatePlan(bad);
    expect(problems.some((p) => p.includes("/model/vision"))).toBe(true);
    expect(problems.some((p) => p.includes("/stages/0"))).toBe(true);
  });

  it("hold every value resolved: defaults, inferred widths, counts, trainable, cache keys", () => {
    const p = plans.find((x) => x.id === "llava_gemma_ablations/pretrained-clip-2b")!;
    expect(p.model.connector).toMatchObject({ family: "mlp", in: 1024, out: 2048, depth: 2, act: "gelu" });
    expect(p.model.params).toEqual({ vision: 303507456, connector: 6295552, language: 2506172416, total: 2815975424 });
    expect(p.model.image_tokens).toBe(576);
    const [pretrain, finetune, evaluation] = p.stages;
    expect(pretrain).toMatchObject({ kind: "stage", name: "pretrain", train: ["connector"], batch: 256, lr: 0.001, trainable: 6295552, template: "gemma", aspect: "crop" });
    expect(pretrain.kind === "stage" && pretrain.schedule).toEqual({ family: "cosine", warmup: 0.03 });
    expect(finetune).toMatchObject({ train: ["connector", "language"], trainable: 2512467968, aspect: "pad" });
    expect(evaluation.kind).toBe("eval");
    expect(evaluation.kind === "eval" && evaluation.data.map((d) => d.name)).toEqual(["gqa", "pope", "mme", "scienceqa_img"]);
    // spans point at the source of each value
    expect(p.spans["/stages/0/lr"]).toMatchObject({ file: "llava-gemma.mmfm", line: 26 });
    expect(p.spans["/model/language/width"]).toMatchObject({ file: "std/language.mmfm" });
  });

  it("share the cache key of a shared prefix and differ after it", () => {
    const byId = new Map(plans.map((p) => [p.id.split("/")[1], p]));
    const a = byId.get("pretrained-clip-2b")!;
    const b = byId.get("direct-clip-2b")!;
    const c = byId.get("pretrained-clip-7b")!;
    // same model: the finetune of `direct` starts from nothing, the one of `pretrained` from pretrain
    expect(a.stages[1].cache_key).not.toBe(b.stages[0].cache_key);
    expect(a.stages[0].cache_key).not.toBe(c.stages[0].cache_key);
    const again = plansFor("examples/llava-gemma.mmfm", out).plans;
    expect(again.map((p) => p.stages.map((s) => s.cache_key))).toEqual(plans.map((p) => p.stages.map((s) => s.cache_key)));
  });
});

describe("golden output of the examples", () => {
  for (const spec of ["examples/llava-gemma.mmfm"]) {
    it(`${spec}: graph.ts, plan.json, index.ts and grid.yaml`, () => {
      const out = join(repo, "build", "golden");
      const { plans, axes, experiment } = plansFor(spec, out);
      const files = emit({ experiment, source: spec, axes, plans });
      const name = spec.replace(/^examples\//, "").replace(/\.mmfm$/, "");
      for (const f of files) {
        const { expected, actual } = golden(join(repo, "test", "cases", "build", name, f.path), f.text);
        expect(actual, f.path).toBe(expected);
      }
    });
  }
});

describe("mmfmc build", () => {
  let out: string;
  beforeAll(() => {
    out = join(repo, "build", "test-build");
    rmSync(out, { recursive: true, force: true });
  });

  it("writes 8 variant folders that type-check with tsc against the package", () => {
    const r = mmfmc(["build", "examples/llava-gemma.mmfm", "--out", out]);
    expect(r.stderr).toContain("8 variants built");
    expect(r.status).toBe(0);
    const dir = join(out, "llava_gemma_ablations");
    const folders = readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory());
    expect(folders.sort()).toEqual(
      ["direct-clip-2b", "direct-clip-7b", "direct-dino-2b", "direct-dino-7b", "pretrained-clip-2b", "pretrained-clip-7b", "pretrained-dino-2b", "pretrained-dino-7b"].sort(),
    );
    for (const f of folders) {
      const plan = JSON.parse(readFileSync(join(dir, f, "plan.json"), "utf8"));
      expect(validatePlan(plan)).toEqual([]);
      expect(readFileSync(join(dir, f, "graph.ts"), "utf8")).toMatch(/^\/\/ generated by mmfmc from "examples\/llava-gemma\.mmfm", do not edit\n/);
    }
    const checked = typecheck(out);
    expect(checked.output).toBe("");
    expect(checked.status).toBe(0);
  });

  it("is deterministic, skips unchanged files and removes variants that no longer exist", () => {
    const dir = join(out, "llava_gemma_ablations");
    const before = new Map(listFiles(dir).filter((f) => f !== "../tsconfig.json").map((f) => [f, readFileSync(join(dir, f), "utf8")]));
    const again = mmfmc(["build", "examples/llava-gemma.mmfm", "--out", out, "--json"]);
    expect(again.status).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.experiments[0].written).toEqual([]);
    expect(report.experiments[0].unchanged).toHaveLength(18);
    for (const [f, text] of before) expect(readFileSync(join(dir, f), "utf8")).toBe(text);
    // a user file in the output folder is never removed
    mkdirSync(join(dir, "notes"), { recursive: true });
    writeFileSync(join(dir, "notes", "todo.txt"), "mine");
    const narrowed = mmfmc(["build", "examples/llava-gemma.mmfm", "--out", out, "--only", "model.vision=clip", "--json"]);
    expect(narrowed.status).toBe(0);
    const r2 = JSON.parse(narrowed.stdout).experiments[0];
    expect(r2.variants).toHaveLength(4);
    expect(r2.removed.sort()).toEqual(["direct-dino-2b", "direct-dino-7b", "pretrained-dino-2b", "pretrained-dino-7b"]);
    expect(existsSync(join(dir, "notes", "todo.txt"))).toBe(true);
    expect(existsSync(join(dir, "pretrained-dino-2b"))).toBe(false);
  });

  it("exits 1 with diagnostics and writes nothing for a spec with errors", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "bad.mmfm"), 'import "std"\nvision v = clip_vit_l14_336 { selct_layer = -2 }\n');
    const r = mmfmc(["build", join(dir, "bad.mmfm"), "--out", join(dir, "out")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("E0203");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});

describe("the typed graph API", () => {
  it("rejects a hand-written module wiring a 1024-wide vision encoder to a connector expecting 768, on that line", () => {
    const dir = join(repo, "build", "test-miswired");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const source = readFileSync(join(repo, "test", "cases", "build", "miswired.ts"), "utf8");
    writeFileSync(join(dir, "miswired.ts"), source);
    const line = source.split("\n").findIndex((l) => l.startsWith("export const model = llava({")) + 1;
    const r = typecheck(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`miswired.ts(${line},`);
    expect(r.output).toMatch(/'768' is not assignable to type '1024'/);
    // and the same module with the right width type-checks
    writeFileSync(join(dir, "miswired.ts"), source.replace("in: 768", "in: 1024"));
    expect(typecheck(dir)).toEqual({ status: 0, output: "" });
  });
});

describe("safety of generated code", () => {
  it("carries hostile strings unchanged as literals and writes nothing outside --out", () => {
    const dir = tempDir();
    const hostile = 'a"b\\c`${process.exit(1)}`*/ </script>\n\t\u{1F600} ../../../etc/passwd \' // end';
    const escaped = JSON.stringify(hostile);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(
      join(dir, "evil.mmfm"),
      `import "std"
dataset d = synthetic_shapes { size = 16 }
dataset l = llava_json { annotations = ${escaped}  images = "../../x\\"y" }
vision v = tiny_clip_vit { weights = ${escaped} }
model m { vision = v  connector = mlp2x_gelu  language = tiny_gemma_2b  image_token = "<img \\"x\\">" }
stage s { data = l  train = [connector] }
experiment e {
  model = m
  stages = [s]
  ablate { s.lr: { "a.b" = 1e-3, c_d = 2e-3 } }
}
`,
    );
    const out = join(dir, "out");
    // the output resolves `mmfm/runtime` as a project that installed mmfm would
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    symlinkSync(repo, join(dir, "node_modules", "mmfm"));
    const r = mmfmc(["build", join(dir, "evil.mmfm"), "--out", out]);
    expect(r.stderr).toBe(r.stderr.replace("error", "")); // no errors
    expect(r.status).toBe(0);
    const files = listFiles(dir).filter((f) => !f.startsWith("node_modules"));
    for (const f of files) expect(f === "evil.mmfm" || f === "package.json" || f === "tsconfig.json" || f.startsWith("out/")).toBe(true);
    expect(typecheck(out)).toEqual({ status: 0, output: "" });
    for (const variant of ["a.b", "c_d"]) {
      const plan = JSON.parse(readFileSync(join(out, "e", variant, "plan.json"), "utf8")) as Plan;
      const stage = plan.stages[0];
      expect(stage.kind === "stage" && stage.data[0].family === "llava_json" && stage.data[0].annotations).toBe(hostile);
      expect(plan.model.vision.weights).toBe(hostile);
      const project = new Project({ useInMemoryFileSystem: true });
      const sf = project.createSourceFile("g.ts", readFileSync(join(out, "e", variant, "graph.ts"), "utf8"));
      const strings = sf.getDescendantsOfKind(SyntaxKind.StringLiteral).map((s) => s.getLiteralValue());
      expect(strings).toContain(hostile);
      expect(strings).toContain('<img "x">');
      // nothing but the declarations we emit: imports, exported consts
      for (const st of sf.getStatements()) expect([SyntaxKind.ImportDeclaration, SyntaxKind.VariableStatement]).toContain(st.getKind());
    }
  });

  it("rejects labels that are not safe file names", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "package.json"), "{}");
    writeFileSync(
      join(dir, "labels.mmfm"),
      `import "std"
model m { vision = tiny_clip_vit  connector = mlp2x_gelu  language = tiny_gemma_2b }
stage s { data = shapes_train  train = [connector] }
experiment e {
  model = m
  stages = [s]
  ablate { s.lr: { "../up" = 1e-3, "a/b" = 2e-3, ".hidden" = 3e-3, "sp ace" = 4e-3 } }
}
`,
    );
    const r = mmfmc(["check", join(dir, "labels.mmfm"), "--json"]);
    expect(r.status).toBe(1);
    const codes = JSON.parse(r.stdout).diagnostics.map((d: { code: string }) => d.code);
    expect(codes.filter((c: string) => c === "E0408")).toHaveLength(4);
  });
});
