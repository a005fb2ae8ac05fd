/**
 * The fields a single objective reads, `self_distill`'s: `hue_jitter` (its colour jitter) and
 * `global_crops` / `local_crops` (its crops' areas). Each is in the plan with DINO's value by
 * default, bounded, in the cache key of a `self_distill` stage alone, and a warning where no
 * objective reads it; a crop range must be written [min, max].
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile, planExperiments } from "../../compiler/pipeline.js";
import type { Plan, TrainStagePlan } from "../../plan/plan.js";
import { tempDir } from "../helpers.js";

const spec = (distill: string, tune = "") => `import "std"
dataset scenes = synthetic_shapes { split = "caption"  size = 64 }
model m { vision = tiny_dinov2_untrained  connector = mlp2x_gelu  language = tiny_gemma_2b_untrained  template = "gemma" }
stage distill { data = scenes  train = [vision]  objective = "self_distill"  batch = 8  max_length = 128 ${distill} }
stage tune { data = scenes  train = [connector]  batch = 8  max_length = 128 ${tune} }
experiment e { model = m  stages = [distill, tune] }
experiment f { model = m  stages = [tune] }
`;

function compiled(text: string) {
  const dir = tempDir("mmfm-distill-fields-");
  writeFileSync(join(dir, "package.json"), "{}");
  const file = join(dir, "spec.mmfm");
  writeFileSync(file, text);
  return { file, dir, result: compile(file) };
}

function plansOf(text: string): Plan[] {
  const { file, dir, result } = compiled(text);
  expect(result.diagnostics.items.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return planExperiments(result, { specPath: file, outDir: join(dir, "out") }).flatMap((e) => [...e.plans]);
}

const stages = (plan: Plan) => plan.stages.filter((s): s is TrainStagePlan => s.kind === "stage");

describe("`hue_jitter`", () => {
  it("is in every stage's plan, DINO's 0.1 unless set", () => {
    const [e] = plansOf(spec("hue_jitter = 0.5"));
    expect(stages(e).map((s) => [s.name, s.hue_jitter])).toEqual([
      ["distill", 0.5],
      ["tune", 0.1],
    ]);
  });

  it("is in the cache key of a self_distill stage, and not in any other's", () => {
    const [e1, f1] = plansOf(spec(""));
    const [e2] = plansOf(spec("hue_jitter = 0.5"));
    const [, f3] = plansOf(spec("", "hue_jitter = 0.5"));
    // the self_distill stage is keyed by it (and so the stage after it)
    expect(e2.stages[0].cache_key).not.toBe(e1.stages[0].cache_key);
    expect(e2.stages[1].cache_key).not.toBe(e1.stages[1].cache_key);
    // a `llava` stage is not: its key, seed and weights stay as they were
    expect(f3.stages[0].cache_key).toBe(f1.stages[0].cache_key);
    expect(stages(f3)[0].hue_jitter).toBe(0.5);
  });

  it("refuses a hue turned by more than half a turn, naming the field", () => {
    const { result } = compiled(spec("hue_jitter = 0.7"));
    const errors = result.diagnostics.items.filter((d) => d.severity === "error");
    expect(errors.length).toBe(1);
    expect(errors[0].message).toMatch(/hue_jitter/);
    expect(errors[0].message).toMatch(/0\.5/);
  });

  it("warns (W0301) where the stage's objective does not read it, and not where it does", () => {
    const { result } = compiled(spec("hue_jitter = 0.3", "hue_jitter = 0.3"));
    const warnings = result.diagnostics.items.filter((d) => d.code === "W0301");
    expect(warnings.map((d) => d.message)).toEqual([
      '`hue_jitter` is read by `objective = "self_distill"` alone; stage `tune` has `objective = "llava"`, so it changes nothing',
    ]);
  });
});

describe("`global_crops` and `local_crops`", () => {
  it("are in every stage's plan, DINO's ranges unless set", () => {
    const [e] = plansOf(spec("global_crops = [0.6, 1]  local_crops = [0.25, 0.6]"));
    expect(stages(e).map((s) => [s.name, s.global_crops, s.local_crops])).toEqual([
      ["distill", [0.6, 1], [0.25, 0.6]],
      ["tune", [0.35, 1], [0.1, 0.35]],
    ]);
  });

  it("are in the cache key of a self_distill stage, and not in any other's", () => {
    const [e1, f1] = plansOf(spec(""));
    const [eg] = plansOf(spec("global_crops = [0.6, 1]"));
    const [el] = plansOf(spec("local_crops = [0.25, 0.6]"));
    const [, f3] = plansOf(spec("", "global_crops = [0.6, 1]  local_crops = [0.25, 0.6]"));
    expect(eg.stages[0].cache_key).not.toBe(e1.stages[0].cache_key);
    expect(el.stages[0].cache_key).not.toBe(e1.stages[0].cache_key);
    expect(el.stages[0].cache_key).not.toBe(eg.stages[0].cache_key);
    expect(f3.stages[0].cache_key).toBe(f1.stages[0].cache_key);
  });

  it("refuse areas outside (0, 1] and ranges that are not two numbers, naming the field", () => {
    for (const [field, pattern] of [
      ["global_crops = [0, 1]", /global_crops.*greater than 0/],
      ["local_crops = [0.1, 1.5]", /local_crops.*at most 1/],
      ["local_crops = [0.1]", /local_crops/],
      ["global_crops = [0.2, 0.5, 1]", /global_crops/],
    ] as const) {
      const errors = compiled(spec(field)).result.diagnostics.items.filter((d) => d.severity === "error");
      expect(errors.map((d) => d.message), field).toHaveLength(1);
      expect(errors[0].message, field).toMatch(pattern);
    }
  });

  it("refuse a range written [max, min] (E0302), with the fix that swaps it", () => {
    const { file, result } = compiled(spec("global_crops = [0.9, 0.4]"));
    const errors = result.diagnostics.items.filter((d) => d.severity === "error");
    expect(errors.map((d) => [d.code, d.message])).toEqual([
      ["E0302", "`global_crops` of stage `distill` is a range [min, max], found [0.9, 0.4]: its first bound is the larger"],
    ]);
    const [fix] = errors[0].fixes ?? [];
    expect(fix.text).toBe("[0.4, 0.9]");
    const text = readFileSync(file, "utf8");
    expect(text.slice(fix.span.start, fix.span.end)).toBe("[0.9, 0.4]");
  });

  it("warn (W0301) where the stage's objective does not read them", () => {
    const { result } = compiled(spec("", "global_crops = [0.6, 1]  local_crops = [0.25, 0.6]"));
    expect(result.diagnostics.items.filter((d) => d.code === "W0301").map((d) => d.message)).toEqual([
      '`global_crops` is read by `objective = "self_distill"` alone; stage `tune` has `objective = "llava"`, so it changes nothing',
      '`local_crops` is read by `objective = "self_distill"` alone; stage `tune` has `objective = "llava"`, so it changes nothing',
    ]);
  });
});
