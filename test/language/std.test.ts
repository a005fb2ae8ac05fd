/**
 * The standard library (LANGUAGE.md §5): every preset it must contain, with the exact parameter counts
 * of reference/llava-gemma.md §3, the benchmark datasets with default paths, and tiny presets of every
 * architecture family.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { casePath, casesDir, experimentNamed, type ExpectedVariant, gridJson, shown, withTotal } from "./harness.js";
import {
  clipFormula,
  connectorFormula,
  connectorFromTable,
  dinov2Formula,
  gemmaFormula,
  languageFormula,
  languagePresets,
  llamaFormula,
  linearTable,
  mlp2xTable,
  published,
  referenceArchitectures,
  siglipFormula,
  trainable,
  visionFormula,
  visionPresets,
} from "./reference.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** The std declarations: name -> [kind, family]. */
function stdDeclarations(): Map<string, { kind: string; family: string }> {
  const result = compile(join(casesDir, "valid", "std_probe.mmfm"), { text: 'import "std"\n' });
  const std = result.program.modules.find((m) => m.isStd);
  if (!std) throw new Error("no std module");
  const out = new Map<string, { kind: string; family: string }>();
  for (const [name, binding] of std.own) {
    if (binding.kind !== "decl") continue;
    const component = result.evaluator.declaration(binding);
    out.set(name, { kind: binding.node.declKind, family: component?.family.name ?? "?" });
  }
  return out;
}

describe("the reference formulas (checked against the published counts first)", () => {
  it("reproduce reference §3", () => {
    expect(gemmaFormula(referenceArchitectures.gemma_2b)).toBe(published.gemma_2b);
    expect(gemmaFormula(referenceArchitectures.gemma_7b)).toBe(published.gemma_7b);
    expect(llamaFormula(referenceArchitectures.vicuna_7b_v1_5)).toBe(published.vicuna_7b_v1_5);
    expect(llamaFormula(referenceArchitectures.vicuna_13b_v1_5)).toBe(published.vicuna_13b_v1_5);
    expect(clipFormula(referenceArchitectures.clip_vit_l14_336)).toBe(published.clip_vit_l14_336);
    expect(clipFormula({ ...referenceArchitectures.clip_vit_l14_336, image: 224 })).toBe(visionPresets.clip_vit_l14.params);
    expect(dinov2Formula(referenceArchitectures.dinov2_vit_l14)).toBe(published.dinov2_vit_l14);
    expect(dinov2Formula(referenceArchitectures.dinov2_vit_g14)).toBe(published.dinov2_vit_g14);
    expect(siglipFormula(referenceArchitectures.siglip_so400m_p14_384)).toBe(published.siglip_so400m_p14_384);
    for (const [pair, n] of Object.entries(mlp2xTable)) {
      const [v, d] = pair.split(">").map(Number);
      expect(connectorFormula("mlp", v, d, 2), pair).toBe(n);
      expect(connectorFormula("linear", v, d), pair).toBe(linearTable[pair]);
    }
  });
});

describe("std holds every preset of LANGUAGE.md §5", () => {
  const required: Record<string, string> = {
    clip_vit_l14_336: "vision",
    clip_vit_l14: "vision",
    dinov2_vit_l14: "vision",
    dinov2_vit_g14: "vision",
    siglip_so400m_p14_384: "vision",
    gemma_2b: "language",
    gemma_2b_it: "language",
    gemma_7b: "language",
    gemma_7b_it: "language",
    linear_proj: "connector",
    mlp2x_gelu: "connector",
    gqa: "dataset",
    pope: "dataset",
    mme: "dataset",
    scienceqa_img: "dataset",
    vqav2: "dataset",
    mmvp: "dataset",
  };

  it("with the right kinds", () => {
    const std = stdDeclarations();
    const found = Object.fromEntries(Object.keys(required).map((name) => [name, std.get(name)?.kind ?? "missing"]));
    expect(found).toEqual(required);
  });

  it("and LLaVA-1.5's language models (issue 12): Vicuna-7B/13B v1.5 and LLaMA-2-7B, with their exact counts", async () => {
    const text = `import "std"
model m { vision = clip_vit_l14_336  connector = mlp2x_gelu  language = vicuna_7b_v1_5 }
dataset d = llava_json { annotations = "a.json" }
stage s { data = d  train = [connector, language] }
experiment llava_1_5 {
  model  = m
  stages = [s]
  ablate { model.language: [vicuna_7b_v1_5, vicuna_13b_v1_5, llama_2_7b] }
}
`;
    const result = compile(join(casesDir, "valid", "llava_1_5_probe.mmfm"), { text });
    expect(result.diagnostics.items.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    const counts = Object.fromEntries(result.experiments[0].variants.map((v) => [v.axes["model.language"], v.config.model.params]));
    const clip = published.clip_vit_l14_336;
    expect(counts).toEqual({
      vicuna_7b_v1_5: { vision: clip, connector: 20_979_712, language: 6_738_415_616, total: clip + 20_979_712 + 6_738_415_616 },
      vicuna_13b_v1_5: { vision: clip, connector: 31_467_520, language: 13_015_864_320, total: clip + 31_467_520 + 13_015_864_320 },
      llama_2_7b: { vision: clip, connector: 20_979_712, language: 6_738_415_616, total: 7_062_902_784 },
    });
    const [v7b] = result.experiments[0].variants;
    const model = v7b.config.model.json as Obj;
    expect(model.template).toBe("vicuna_v1"); // the model's template default for a llama
    expect(model.language).toMatchObject({ family: "llama", kv_heads: 32, head_dim: 128, norm_eps: 1e-5, max_positions: 4096, rope_scaling: null, tied: false, hub_id: "lmsys/vicuna-7b-v1.5" });
  });

  it("crossed in one grid, with the exact counts of reference §3 (std_presets.mmfm)", async () => {
    const train = {
      connector_only: ["connector"],
      with_language: ["connector", "language"],
      everything: ["vision", "connector", "language"],
      vision_only: ["vision"],
    } as const;
    const grid: Record<string, ExpectedVariant> = {};
    for (const [v, vision] of Object.entries(visionPresets)) {
      for (const [l, language] of Object.entries(languagePresets)) {
        for (const c of ["linear_proj", "mlp2x_gelu"] as const) {
          const p = { vision: vision.params, connector: connectorFromTable(c, vision.width, language.width), language: language.params };
          grid[`presets/${v}-${l}-${c}`] = {
            axes: { "model.vision": v, "model.language": l, "model.connector": c },
            ...p,
            stages: [
              ...Object.entries(train).map(([name, parts]) => [name, "stage", trainable(parts, p)] as const),
              ["benchmarks", "eval", 0] as const,
            ],
          };
        }
      }
    }
    const { code, experiments } = await gridJson(casePath("valid", "std_presets.mmfm"));
    expect(code).toBe(0);
    const e = experimentNamed(experiments, "presets");
    expect(e.variants.map((x) => x.id).sort()).toEqual(Object.keys(grid).sort());
    for (const v of e.variants) expect(shown(v), v.id).toEqual(withTotal(grid[v.id]));
  });

  it("image tokens per image: 576, 256, 256, 256 and SigLIP's 729 patches", () => {
    const result = compile(casePath("valid", "std_presets.mmfm"), { only: ["model.connector=mlp2x_gelu", "model.language=gemma_2b"] });
    const e = result.experiments.find((x) => x.name === "presets")!;
    const tokens = Object.fromEntries(e.variants.map((v) => [v.axes["model.vision"], v.config.model.imageTokens]));
    expect(tokens).toEqual(Object.fromEntries(Object.entries(visionPresets).map(([n, p]) => [n, p.tokens])));
  });

  it("the benchmark datasets have default paths and the schedules work as families", () => {
    const result = compile(casePath("valid", "std_presets.mmfm"), { only: ["model.connector=mlp2x_gelu", "model.language=gemma_2b", "model.vision=clip_vit_l14_336"] });
    const [variant] = result.experiments.find((x) => x.name === "presets")!.variants;
    const stages = variant.config.json.stages as Obj[];
    const bench = stages.find((s) => s.name === "benchmarks")!.data as Obj[];
    expect(bench.map((d) => d.family)).toEqual(["gqa", "pope", "mme", "scienceqa", "vqav2", "mmvp"]);
    for (const d of bench) {
      expect(typeof d.annotations === "string" && d.annotations.length > 0, `${d.family} annotations`).toBe(true);
      expect(typeof d.images === "string" && d.images.length > 0, `${d.family} images`).toBe(true);
    }
    const schedules = Object.fromEntries(stages.filter((s) => s.schedule).map((s) => [s.name, (s.schedule as Obj).family]));
    expect(schedules).toMatchObject({ connector_only: "constant", with_language: "cosine", everything: "linear" });
  });
});

describe("every vision and language preset of std", () => {
  const std = stdDeclarations();
  const visions = [...std].filter(([, d]) => d.kind === "vision").map(([n]) => n);
  const languages = [...std].filter(([, d]) => d.kind === "language").map(([n]) => n);
  const text = `import "std"
model m { vision = clip_vit_l14_336  connector = linear_proj  language = gemma_2b }
dataset d = llava_json { annotations = "a.json" }
stage s { data = d  train = [connector] }
experiment every_vision {
  model  = m
  stages = [s]
  ablate { model.vision: [${visions.join(", ")}] }
}
experiment every_language {
  model  = m
  stages = [s]
  ablate { model.language: [${languages.join(", ")}] }
}
`;
  const result = compile(join(casesDir, "valid", "every_preset_probe.mmfm"), { text });
  const variants = result.experiments.flatMap((e) => e.variants);

  it("compiles in one grid", () => {
    expect(result.diagnostics.items.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`)).toEqual([]);
    expect(visions.length).toBeGreaterThanOrEqual(8);
    expect(languages.length).toBeGreaterThanOrEqual(6);
  });

  it("counts exactly what the reference formulas give for its architecture", () => {
    const seen = new Set<string>();
    for (const v of variants) {
      const model = v.config.model.json as Obj;
      const vision = model.vision as Obj;
      const language = model.language as Obj;
      seen.add(v.axes["model.vision"] ?? v.axes["model.language"]);
      expect(v.config.model.params.vision, `${v.id} vision`).toBe(visionFormula(String(vision.family), vision));
      expect(v.config.model.params.language, `${v.id} language`).toBe(languageFormula(String(language.family), language));
      expect(v.config.model.params.connector, `${v.id} connector`).toBe(connectorFormula("linear", Number(vision.width), Number(language.width)));
    }
    expect([...seen].sort()).toEqual([...visions, ...languages].sort());
  });

  it("include tiny presets of every architecture family (clip_vit, dinov2, siglip, gemma, llama)", () => {
    const small = new Map<string, string[]>();
    for (const v of variants) {
      const model = v.config.model.json as Obj;
      if (v.axes["model.vision"] && v.config.model.params.vision < 5_000_000) {
        const f = String((model.vision as Obj).family);
        small.set(f, [...(small.get(f) ?? []), v.axes["model.vision"]]);
      }
      if (v.axes["model.language"] && v.config.model.params.language < 5_000_000) {
        const f = String((model.language as Obj).family);
        small.set(f, [...(small.get(f) ?? []), v.axes["model.language"]]);
      }
    }
    for (const family of ["clip_vit", "dinov2", "siglip", "gemma", "llama"]) {
      expect(small.get(family)?.length ?? 0, `a tiny ${family} preset in std`).toBeGreaterThan(0);
    }
  });
});
