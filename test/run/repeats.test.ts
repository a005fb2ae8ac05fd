// `repeats = N`: an implicit `seed` axis in the grid (ids, seeds, cache keys, --set and --only), and a
// run whose report shows each configuration as mean ± std over its seeds with effect intervals.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile, planExperiments } from "../../compiler/pipeline.js";
import { mmfmc, repo, tempDir } from "../helpers.js";

const spec = (repeats: string, ablate = "finetune.lr: [1e-3, 2e-3]") => `import "std"
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
stage pretrain { data = synthetic_shapes { size = 8 }, train = [connector], batch = 8, max_length = 96 }
stage finetune { data = synthetic_shapes { size = 8 }, train = [connector, language], batch = 8, max_length = 96 }
experiment e {
  model  = m
  stages = [pretrain, finetune]
  seed   = 42
  ${repeats}
  ablate { ${ablate} }
}
`;

function plans(text: string, options: { sets?: string[]; only?: string[] } = {}) {
  const file = join(repo, "test", "cases", "run", "repeats-inline.mmfm"); // never read: the text is given
  const compilation = compile(file, { text, ...options });
  const errors = compilation.diagnostics.items.filter((d) => d.severity === "error");
  return { errors, plans: errors.length ? [] : planExperiments(compilation, { specPath: file, outDir: tempDir() })[0].plans, grid: compilation.experiments[0] };
}

describe("repeats in the grid", () => {
  it("appends a seed axis after the explicit axes: seeds seed..seed+N-1, labelled seedS", () => {
    const { plans: p, grid } = plans(spec("repeats = 3"));
    expect(p.map((x) => x.id)).toEqual(["e/1e-3-seed42", "e/1e-3-seed43", "e/1e-3-seed44", "e/2e-3-seed42", "e/2e-3-seed43", "e/2e-3-seed44"]);
    expect(p.map((x) => x.seed)).toEqual([42, 43, 44, 42, 43, 44]);
    expect(p[4].axes).toEqual({ "finetune.lr": "2e-3", seed: "seed43" });
    expect(grid.axes).toEqual(["finetune.lr", "seed"]);
    expect(grid.repeats).toBe(3);
    expect(new Set(p.map((x) => x.hash)).size).toBe(6);
  });

  it("keeps repeats apart in the cache and shares a stage between variants of the same seed", () => {
    const { plans: p } = plans(spec("repeats = 2"));
    const key = (id: string, stage: number) => p.find((x) => x.id === id)!.stages[stage].cache_key;
    expect(key("e/1e-3-seed42", 0)).toBe(key("e/2e-3-seed42", 0)); // pretrain does not see finetune.lr
    expect(key("e/1e-3-seed42", 0)).not.toBe(key("e/1e-3-seed43", 0)); // the seed changes everything
    expect(key("e/1e-3-seed42", 1)).not.toBe(key("e/2e-3-seed42", 1));
    expect(new Set(p.map((x) => x.stages[1].cache_key)).size).toBe(4);
  });

  it("is the same as writing the seed axis, and has no axis and no config field at repeats = 1", () => {
    const implicit = plans(spec("repeats = 2")).plans;
    const explicit = plans(spec("", "finetune.lr: [1e-3, 2e-3]\n    seed: { seed42 = 42, seed43 = 43 }")).plans;
    expect(explicit.map((x) => [x.id, x.hash])).toEqual(implicit.map((x) => [x.id, x.hash]));
    const one = plans(spec("repeats = 1")).plans;
    const none = plans(spec("")).plans;
    expect(one.map((x) => [x.id, x.hash])).toEqual(none.map((x) => [x.id, x.hash]));
    expect(none.map((x) => x.id)).toEqual(["e/1e-3", "e/2e-3"]);
  });

  it("starts at a --set seed, takes --set repeats, and filters with --only seed", () => {
    expect(plans(spec("repeats = 2"), { sets: ["seed=7"] }).plans.map((x) => x.id)).toEqual(["e/1e-3-seed7", "e/1e-3-seed8", "e/2e-3-seed7", "e/2e-3-seed8"]);
    expect(plans(spec(""), { sets: ["repeats=2"] }).plans.map((x) => x.seed)).toEqual([42, 43, 42, 43]);
    expect(plans(spec("repeats = 3"), { only: ["seed=seed43"] }).plans.map((x) => x.id)).toEqual(["e/1e-3-seed43", "e/2e-3-seed43"]);
  });

  it("refuses repeats together with a seed axis (E0411)", () => {
    const { errors } = plans(spec("repeats = 2", "seed: [1, 2]"));
    expect(errors.map((d) => d.code)).toEqual(["E0411"]);
    expect(errors[0].message).toBe("`repeats` and a `seed` axis both vary the seed");
  });
});

describe("a run with repeats = 3", () => {
  it("reports each configuration as mean ± std over its seeds and each effect with a 95% interval", () => {
    const work = tempDir("mmfm-repeats-");
    const file = join(repo, "test", "fixtures", "llava_eval", "repeats.mmfm");
    const grid = mmfmc(["grid", file]);
    expect(grid.stdout).toContain("experiment repeated: 6 variants (each configuration with 3 seeds: `repeats = 3`, axis `seed`)");
    const r = mmfmc(["run", file, "--runs", join(work, "runs"), "--out", join(work, "build"), "--backend", "wasm"]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(work, "runs", "repeated", "report.json"), "utf8"));
    expect(report.repeats).toEqual({ axis: "seed", seeds: ["seed11", "seed12", "seed13"] });
    expect(report.variants).toHaveLength(6);
    // the groups' statistics are those of their variants' numbers
    const value = (id: string) => report.variants.find((v: { id: string }) => v.id === id).metrics["gqa.accuracy"] as number;
    const runs = (lr: string) => ["seed11", "seed12", "seed13"].map((s) => value(`repeated/${lr}-${s}`));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
    const [fast, slow] = report.groups;
    expect(fast.id).toBe("repeated/5e-3");
    expect(fast.metrics["gqa.accuracy"].mean).toBeCloseTo(mean(runs("5e-3")), 12);
    expect(fast.metrics["gqa.accuracy"].std).toBeCloseTo(std(runs("5e-3")), 12);
    expect(fast.metrics["gqa.accuracy"].n).toBe(3);
    expect(slow.metrics["gqa.accuracy"].mean).toBeCloseTo(mean(runs("1e-3")), 12);
    // the effect: per seed 1e-3 minus 5e-3, then the mean and its t interval over the three seeds
    const perSeed = runs("1e-3").map((x, i) => x - runs("5e-3")[i]);
    const effect = report.effects["tune.lr"]["1e-3 vs 5e-3"]["gqa.accuracy"];
    expect(effect.mean).toBeCloseTo(mean(perSeed), 12);
    expect(effect.seeds).toBe(3);
    const half = (4.302652729749462 * std(perSeed)) / Math.sqrt(3);
    expect(effect.interval.low).toBeCloseTo(mean(perSeed) - half, 9);
    expect(effect.interval.high).toBeCloseTo(mean(perSeed) + half, 9);
    const md = readFileSync(join(work, "runs", "repeated", "report.md"), "utf8");
    expect(md).toContain("6 variants in 2 configurations × 3 seeds (seed11, seed12, seed13)");
    expect(md).toMatch(/\| 5e-3 \| 5e-3 \| \d+\.\d\d ± \d+\.\d\d \(3\) \|/);
    expect(md).toMatch(/\| tune\.lr \| 1e-3 vs 5e-3 \| [+-]\d+\.\d\d \[[+-]\d+\.\d\d, [+-]\d+\.\d\d\]( \*)? \|/);
    expect(md).toContain("## Every run");
  });
});
