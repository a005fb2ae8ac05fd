/**
 * Valid specs written against LANGUAGE.md: each must check clean (exit 0, no diagnostics) and give the
 * exact grid of `mmfmc grid --json` (LANGUAGE.md §8): ids, axis labels, parameter counts from
 * reference/llava-gemma.md §3, and per stage the trainable count (the sum of its `train` components).
 */
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import {
  byId,
  casePath,
  casesDir,
  checkJson,
  experimentNamed,
  type ExpectedVariant,
  type GridExperiment,
  gridJson,
  mmfmFiles,
  shown,
  showDiagnostics,
  withTotal,
} from "./harness.js";
import {
  clipVitL14At224,
  connectorFormula,
  connectorFromTable,
  gemmaFormula,
  languagePresets,
  linearTable,
  mlp2xTable,
  published,
  referenceArchitectures,
  visionFormula,
  trainable,
  visionPresets,
  type Component,
} from "./reference.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function expectGrid(e: GridExperiment, expected: Readonly<Record<string, ExpectedVariant>>): void {
  expect(e.variants.map((v) => v.id).sort(), `variant ids of ${e.name}`).toEqual(Object.keys(expected).sort());
  const ids = new Map(Object.entries(expected));
  for (const v of e.variants) {
    const want = ids.get(v.id);
    if (want) expect(shown(v), `variant ${v.id}`).toEqual(withTotal(want));
  }
}

/** Stages as [name, kind, trainable] from a `train` table. */
function stagesOf(names: readonly string[], train: Readonly<Record<string, readonly Component[] | "eval">>, p: Readonly<Record<Component, number>>) {
  return names.map((n) => {
    const t = train[n];
    return t === "eval" ? ([n, "eval", 0] as const) : ([n, "stage", trainable(t, p)] as const);
  });
}

/** The resolved configuration of each variant (the plan's content), for values the grid does not show. */
function resolved(file: string, experiment: string, options: { sets?: string[]; only?: string[] } = {}): Map<string, { config: Obj; imageTokens: number }> {
  const result = compile(file, options);
  const errors = result.diagnostics.items.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(`${file} has errors: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  const e = result.experiments.find((x) => x.name === experiment);
  if (!e) throw new Error(`no experiment ${experiment}`);
  return new Map(e.variants.map((v) => [v.id, { config: v.config.json as Obj, imageTokens: v.config.model.imageTokens }]));
}

function stageConfig(config: Obj, name: string): Obj {
  const stage = (config.stages as Obj[]).find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name} in ${JSON.stringify((config.stages as Obj[]).map((s) => s.name))}`);
  return stage;
}

function only<T>(map: Map<string, T>): T {
  expect(map.size).toBe(1);
  return [...map.values()][0];
}

const paperTrain = { pretrain: ["connector"], finetune: ["connector", "language"], benchmarks: "eval" } as const;

function paperGrid(name: string, dropDino7b: boolean): Record<string, ExpectedVariant> {
  const out: Record<string, ExpectedVariant> = {};
  const recipes = { pretrained: ["pretrain", "finetune", "benchmarks"], direct: ["finetune", "benchmarks"] };
  for (const [label, stages] of Object.entries(recipes)) {
    for (const v of ["clip", "dino"]) {
      for (const l of ["2b", "7b"]) {
        if (dropDino7b && v === "dino" && l === "7b") continue;
        const vision = v === "clip" ? visionPresets.clip_vit_l14_336 : visionPresets.dinov2_vit_g14;
        const language = l === "2b" ? languagePresets.gemma_2b_it : languagePresets.gemma_7b_it;
        const p = { vision: vision.params, connector: connectorFromTable("mlp2x_gelu", vision.width, language.width), language: language.params };
        out[`${name}/${label}-${v}-${l}`] = {
          axes: { stages: label, "model.vision": v, "model.language": l },
          ...p,
          stages: stagesOf(stages, paperTrain, p),
        };
      }
    }
  }
  return out;
}

describe("every valid spec checks clean", () => {
  const files = mmfmFiles(`${casesDir}/valid`).filter((f) => !f.includes("/lib/"));
  it("has the valid cases", () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });
  for (const file of files) {
    it(`${basename(file)}: check exits 0 without diagnostics, grid exits 0`, async () => {
      const path = casePath("valid", basename(file));
      const check = await checkJson(path);
      expect(showDiagnostics(check.diagnostics)).toBe("(no diagnostics)");
      expect(check.code).toBe(0);
      const grid = await gridJson(path);
      expect(grid.code, grid.stderr).toBe(0);
      expect(grid.experiments.length).toBeGreaterThan(0);
    });
  }
});

describe("the paper's experiment (LANGUAGE.md §1, verbatim)", () => {
  it("gives the 2 x 2 x 2 = 8 variants with exact counts", async () => {
    const { code, experiments } = await gridJson(casePath("valid", "paper.mmfm"));
    expect(code).toBe(0);
    expect(experiments.map((e) => e.name)).toEqual(["llava_gemma_ablations"]);
    expectGrid(experiments[0], paperGrid("llava_gemma_ablations", false));
  });

  it("shows the numbers of the issue and reference §3.3 literally", async () => {
    const v = byId(experimentNamed((await gridJson(casePath("valid", "paper.mmfm"))).experiments, "llava_gemma_ablations"));
    const clip2b = v.get("llava_gemma_ablations/pretrained-clip-2b")!;
    const clip7b = v.get("llava_gemma_ablations/pretrained-clip-7b")!;
    const dino7b = v.get("llava_gemma_ablations/pretrained-dino-7b")!;
    expect(clip2b.params).toEqual({ total: 2_815_975_424, vision: 303_507_456, connector: 6_295_552, language: 2_506_172_416 });
    expect(clip7b.params).toEqual({ total: 8_853_777_408, vision: 303_507_456, connector: 12_589_056, language: 8_537_680_896 });
    expect(dino7b.params.vision).toBe(1_136_480_768);
    expect(dino7b.params.connector).toBe(14_161_920);
    expect(clip2b.stages.map((s) => s.trainable)).toEqual([6_295_552, 2_512_467_968, 0]);
    expect(clip7b.stages.map((s) => s.trainable)).toEqual([12_589_056, 8_550_269_952, 0]);
  });

  it("examples/llava-gemma.mmfm gives the same grid", async () => {
    const { code, experiments } = await gridJson("examples/llava-gemma.mmfm");
    expect(code).toBe(0);
    expectGrid(experimentNamed(experiments, "llava_gemma_ablations"), paperGrid("llava_gemma_ablations", false));
  });

  it("with `exclude model.language == gemma_7b_it and model.vision == dino` drops 2 of them", async () => {
    const { experiments } = await gridJson(casePath("valid", "paper_exclude.mmfm"));
    expectGrid(experimentNamed(experiments, "llava_gemma_ablations"), paperGrid("llava_gemma_ablations", true));
  });
});

describe("let constants and exact arithmetic (§2, §3, §4)", () => {
  const file = casePath("valid", "lets_arith.mmfm");
  const p = { vision: published.clip_vit_l14_336, connector: mlp2xTable["1024>2048"], language: published.gemma_2b };

  it("Gemma-2B written with arithmetic counts 2,506,172,416", async () => {
    const e = experimentNamed((await gridJson(file)).experiments, "e");
    expect(e.variants).toHaveLength(1);
    expect(shown(e.variants[0])).toEqual(
      withTotal({ axes: {}, ...p, stages: [["s", "stage", p.connector], ["t", "stage", p.connector + p.language]] }),
    );
  });

  it("evaluates every constant exactly", () => {
    const { config } = only(resolved(file, "e"));
    const s = stageConfig(config, "s");
    expect(s.batch).toBe(128); // 16 * 8
    expect(s.micro_batch).toBe(8); // a let used before its declaration
    expect(s.lr).toBe(0.001); // 1E3 / 1e6
    expect(s.epochs).toBe(1);
    expect(s.weight_decay).toBe(0);
    expect((s.schedule as Obj).warmup).toBe(0.03);
    expect(s.grad_clip).toBe(2); // - -2
    expect(s.max_length).toBe(2000); // left associativity, precedence, unary minus
    expect(stageConfig(config, "t").lr).toBe(2e-5);
    expect(config.seed).toBe(42);
    const model = config.model as Obj;
    expect((model.vision as Obj).select_layer).toBe(-2);
    expect((model.language as Obj).rope_theta).toBe(10000);
    expect((model.language as Obj).vocab).toBe(256000);
    expect((model.language as Obj).max_positions).toBe(8192);
    expect((s.data as Obj[])[0].size).toBe(1000);
  });
});

describe("strings and comments (§2)", () => {
  it("decodes every escape and keeps comment-like text inside strings", () => {
    const { config } = only(resolved(casePath("valid", "strings.mmfm"), "e"));
    expect((config.model as Obj).image_token).toBe('<im"g\\>\n\t\u{1F600}éA');
    const data = (stageConfig(config, "s").data as Obj[])[0];
    expect(data.annotations).toBe("data/a // not a comment.json");
    expect(data.images).toBe("/* not a comment */ é😀 ü");
  });

  it("ignores comments of both kinds everywhere, up to a last line without a newline", async () => {
    const p = { vision: published.clip_vit_l14_336, connector: mlp2xTable["1024>2048"], language: published.gemma_2b };
    const grid: Record<string, ExpectedVariant> = {};
    for (const seed of ["1", "2"]) {
      for (const lr of ["low", "high"]) {
        grid[`e/${seed}-${lr}`] = { axes: { seed, "s.lr": lr }, ...p, stages: [["s", "stage", p.connector + p.language]] };
      }
    }
    expectGrid(experimentNamed((await gridJson(casePath("valid", "comments.mmfm"))).experiments, "e"), grid);
    const configs = resolved(casePath("valid", "comments.mmfm"), "e");
    expect(stageConfig(configs.get("e/2-low")!.config, "s").lr).toBe(1e-5);
    expect(stageConfig(configs.get("e/1-high")!.config, "s").lr).toBe(2e-5);
    expect(stageConfig(configs.get("e/1-high")!.config, "s").batch).toBe(128);
    expect(((configs.get("e/1-high")!.config.model as Obj).vision as Obj).select_layer).toBe(-2);
  });
});

describe("field separators (§3)", () => {
  it("accepts whitespace, `,`, `;` and trailing separators", async () => {
    const file = casePath("valid", "separators.mmfm");
    const p = { vision: published.clip_vit_l14_336, connector: mlp2xTable["1024>2048"], language: published.gemma_2b };
    const grid: Record<string, ExpectedVariant> = {};
    for (const v of ["v", "w", "x", "y"]) {
      grid[`e/${v}`] = { axes: { "model.vision": v }, ...p, stages: [["s2", "stage", p.connector + p.language], ["bench", "eval", 0]] };
    }
    expectGrid(experimentNamed((await gridJson(file)).experiments, "e"), grid);
    const configs = resolved(file, "e");
    const vision = (id: string) => (configs.get(id)!.config.model as Obj).vision as Obj;
    expect(vision("e/w").select_layer).toBe(-1);
    expect(vision("e/w").feature).toBe("cls_patch");
    expect(configs.get("e/w")!.imageTokens).toBe(577);
    expect(vision("e/x").select_layer).toBe(-3);
    expect(vision("e/y").aspect).toBe("pad");
    expect(configs.get("e/v")!.config.seed).toBe(1);
    expect(stageConfig(configs.get("e/v")!.config, "s2").batch).toBe(8);
    expect((stageConfig(configs.get("e/v")!.config, "bench").data as Obj[]).length).toBe(2);
  });
});

describe("imports (§3)", () => {
  it("std, relative files, a file importing another, a diamond and an import at the end", async () => {
    const dino = visionPresets.dinov2_vit_l14;
    const grid: Record<string, ExpectedVariant> = {};
    for (const [v, params] of [["shared_clip", published.clip_vit_l14_336], ["shared_dino", dino.params]] as const) {
      const p = { vision: params, connector: mlp2xTable["1024>2048"], language: published.gemma_2b };
      const train = { pre: ["connector"], ft_low: ["connector", "language"], ft_extra: ["vision", "connector", "language"] } as const;
      grid[`imported/${v}-two`] = { axes: { "model.vision": v, stages: "two" }, ...p, stages: stagesOf(["pre", "ft_low"], train, p) };
      grid[`imported/${v}-three`] = { axes: { "model.vision": v, stages: "three" }, ...p, stages: stagesOf(["pre", "ft_low", "ft_extra"], train, p) };
    }
    expectGrid(experimentNamed((await gridJson(casePath("valid", "imports_main.mmfm"))).experiments, "imported"), grid);
    const { config } = resolved(casePath("valid", "imports_main.mmfm"), "imported").get("imported/shared_clip-three")!;
    expect(stageConfig(config, "ft_low").lr).toBe(1e-5);
    expect(stageConfig(config, "ft_low").batch).toBe(128);
    expect((stageConfig(config, "ft_low").data as Obj[])[0].annotations).toBe("data/mix.json");
    expect((stageConfig(config, "pre").data as Obj[])[0].annotations).toBe("data/pretrain.json");
  });

  it("names are visible before their declaration, imports included", async () => {
    const p = { vision: published.clip_vit_l14_336, connector: mlp2xTable["1024>2048"], language: published.gemma_2b };
    const grid: Record<string, ExpectedVariant> = {};
    for (const v of ["early", "late"]) grid[`e/${v}`] = { axes: { "model.vision": v }, ...p, stages: [["s", "stage", p.connector]] };
    expectGrid(experimentNamed((await gridJson(casePath("valid", "before_use.mmfm"))).experiments, "e"), grid);
    const configs = resolved(casePath("valid", "before_use.mmfm"), "e");
    expect(configs.get("e/early")!.config.seed).toBe(8);
    expect(stageConfig(configs.get("e/early")!.config, "s").batch).toBe(32);
    expect(((configs.get("e/early")!.config.model as Obj).vision as Obj).select_layer).toBe(-1);
  });
});

describe("refinements (§3, §4)", () => {
  const file = casePath("valid", "refinements.mmfm");
  const g2b = published.gemma_2b;
  const deep = gemmaFormula({ ...referenceArchitectures.gemma_2b, depth: 20 });
  const mlp3 = connectorFormula("mlp", 1024, 2048, 3);
  const train = { pretrain: ["connector"], finetune: ["connector", "language"], bench: "eval" } as const;
  const variant = (model: string, vision: number, connector: number, language: number): [string, ExpectedVariant] => {
    const p = { vision, connector, language };
    return [`refined/${model}`, { axes: { model }, ...p, stages: stagesOf(["pretrain", "finetune", "bench"], train, p) }];
  };

  it("the formulas agree with the reference on the numbers used here", () => {
    expect(deep).toBe(published.gemma_2b + 2 * 110_104_576);
    expect(mlp3).toBe(linearTable["1024>2048"] + 2 * (2048 * 2048 + 2048));
  });

  it("chains of declarations and inline refinements give the exact counts", async () => {
    const grid = Object.fromEntries([
      variant("base_model", clipVitL14At224, mlp2xTable["1024>2048"], g2b),
      variant("inline_vision", clipVitL14At224, mlp2xTable["1024>2048"], g2b),
      variant("deeper_mlp", clipVitL14At224, mlp3, g2b),
      variant("linear_conn", clipVitL14At224, linearTable["1024>2048"], g2b),
      variant("chained", clipVitL14At224, mlp3, deep),
      variant("paren", clipVitL14At224, mlp2xTable["1024>2048"], g2b),
      variant("seven", published.clip_vit_l14_336, mlp2xTable["1024>3072"], published.gemma_7b),
    ]);
    expectGrid(experimentNamed((await gridJson(file)).experiments, "refined"), grid);
  });

  it("a refinement inherits what it does not override", () => {
    const configs = resolved(file, "refined");
    const vision = (m: string) => (configs.get(`refined/${m}`)!.config.model as Obj).vision as Obj;
    // c = b { image = 224 }, b = a { feature = "cls_patch" }, a = clip_vit_l14_336 { select_layer = -1 }
    expect(vision("base_model")).toMatchObject({ image: 224, patch: 14, width: 1024, select_layer: -1, feature: "cls_patch" });
    expect(configs.get("refined/base_model")!.imageTokens).toBe(257);
    expect(vision("inline_vision")).toMatchObject({ image: 224, select_layer: -2, feature: "patch" });
    expect(configs.get("refined/inline_vision")!.imageTokens).toBe(256);
    expect(vision("paren")).toMatchObject({ image: 224, feature: "cls_patch" });
    expect(configs.get("refined/paren")!.imageTokens).toBe(257);
    expect(vision("seven")).toMatchObject({ image: 336, select_layer: -1, feature: "patch" });
    expect(configs.get("refined/seven")!.imageTokens).toBe(576);
    const config = configs.get("refined/base_model")!.config;
    expect(stageConfig(config, "pretrain").schedule).toMatchObject({ family: "linear", warmup: 0.1 });
    expect(stageConfig(config, "pretrain").optimizer).toMatchObject({ family: "adamw", beta2: 0.95 });
    expect(stageConfig(config, "finetune").schedule).toMatchObject({ family: "constant" });
    expect(stageConfig(config, "finetune").optimizer).toMatchObject({ family: "adamw", beta2: 0.95 });
    const bench = stageConfig(config, "bench").data as Obj[];
    expect(bench[0]).toMatchObject({ family: "gqa", images: "/data/gqa/images" });
    expect(bench[1]).toMatchObject({ family: "pope" });
  });

  it("refinements of families with required fields work inline, like named ones", async () => {
    const file = casePath("valid", "inline_family_refinement.mmfm");
    const p = { vision: published.clip_vit_l14_336, connector: mlp2xTable["1024>2048"], language: published.gemma_2b };
    const e = experimentNamed((await gridJson(file)).experiments, "e");
    expect(e.variants).toHaveLength(1);
    expect(shown(e.variants[0])).toEqual(withTotal({ axes: {}, ...p, stages: [["pretrain", "stage", p.connector], ["shapes", "eval", 0]] }));
    const { config } = only(resolved(file, "e"));
    expect(stageConfig(config, "pretrain").data).toMatchObject([{ family: "llava_json", annotations: "data/pretrain.json", images: "data/images" }]);
  });
});

describe("experiments without ablate (§6)", () => {
  it("have one variant each", async () => {
    const file = casePath("valid", "no_ablate.mmfm");
    const { experiments } = await gridJson(file);
    expect(experiments.map((e) => e.name).sort()).toEqual(["one", "two"]);
    const two = experimentNamed(experiments, "two");
    expect(two.variants).toHaveLength(1);
    expect(two.variants[0].id.startsWith("two/")).toBe(true);
    const p = { vision: published.clip_vit_l14_336, connector: linearTable["1024>3072"], language: published.gemma_7b };
    expect(shown(two.variants[0])).toEqual(withTotal({ axes: {}, ...p, stages: [["t", "stage", p.language]] }));
    const one = experimentNamed(experiments, "one");
    expect(one.variants).toHaveLength(1);
    expect(one.variants[0].id.startsWith("one/")).toBe(true);
    expect(one.variants[0].params.connector).toBe(0); // identity between two width-64 tiny backbones
    // `s` trains all three components
    expect(shown(one.variants[0]).stages).toEqual([["s", "stage", one.variants[0].params.total]]);
  });
});

describe("connector widths (§5)", () => {
  it("explicit `in`/`out` that agree with the model are accepted", async () => {
    const grid: Record<string, ExpectedVariant> = {};
    for (const [c, n] of [["explicit", linearTable["1024>2048"]], ["half", mlp2xTable["1024>2048"]]] as const) {
      const p = { vision: published.clip_vit_l14_336, connector: n, language: published.gemma_2b };
      grid[`e/${c}`] = { axes: { "model.connector": c }, ...p, stages: [["s", "stage", n]] };
    }
    expectGrid(experimentNamed((await gridJson(casePath("valid", "connector_widths.mmfm"))).experiments, "e"), grid);
  });
});

describe("every family with the key fields of §5 (all_fields.mmfm)", () => {
  const file = casePath("valid", "all_fields.mmfm");
  const vision = {
    clip_full: visionFormula("clip_vit", { image: 224, patch: 16, width: 768, depth: 12, mlp: 3072 }),
    dino_mlp: visionFormula("dinov2", { position_image: 224, patch: 14, width: 384, depth: 12, mlp: 1536, ffn: "mlp" }),
    dino_swiglu: visionFormula("dinov2", { position_image: 224, patch: 14, width: 384, depth: 4, mlp: 1024, ffn: "swiglu" }),
    sig: visionFormula("siglip", { image: 224, patch: 16, width: 768, depth: 12, mlp: 3072 }),
  };
  const widths = { clip_full: 768, dino_mlp: 384, dino_swiglu: 384, sig: 768 };
  const language = gemmaFormula({ vocab: 32000, width: 1024, depth: 4, heads: 8, kv_heads: 2, head_dim: 128, mlp: 4096 });

  it("counts every architecture by the reference formulas", async () => {
    // DINOv2-S at 224 px: the published 22,056,576 with 1370 positions, less (1370 - 257) x 384
    expect(vision.dino_mlp).toBe(22_056_576 - (1370 - 257) * 384);
    const grid: Record<string, ExpectedVariant> = {};
    for (const [v, n] of Object.entries(vision)) {
      for (const [c, connector] of [["lin", connectorFormula("linear", widths[v as keyof typeof widths], 1024)], ["deep", connectorFormula("mlp", widths[v as keyof typeof widths], 1024, 3)]] as const) {
        const p = { vision: n, connector, language };
        grid[`all_fields/${v}-${c}`] = {
          axes: { "model.vision": v, "model.connector": c },
          ...p,
          stages: [["caption", "stage", connector], ["everything", "stage", n + connector + language], ["scores", "eval", 0]],
        };
      }
    }
    expectGrid(experimentNamed((await gridJson(file)).experiments, "all_fields"), grid);
  });

  it("keeps every field as written", () => {
    const configs = resolved(file, "all_fields");
    const { config, imageTokens } = configs.get("all_fields/clip_full-deep")!;
    expect(imageTokens).toBe(197); // 14 x 14 patches and the class token
    expect(configs.get("all_fields/sig-lin")!.imageTokens).toBe(196);
    const model = config.model as Obj;
    expect(model).toMatchObject({ template: "plain", image_token: "<img>" });
    expect(model.vision).toMatchObject({ select_layer: -1, feature: "cls_patch", aspect: "pad", weights: "weights/clip.safetensors", mean: [0.48145466, 0.4578275, 0.40821073] });
    expect(model.language).toMatchObject({ act: "gelu", rope_theta: 10000, max_positions: 4096, tokenizer: "tokenizer", weights: "weights/lm", kv_heads: 2 });
    expect(model.connector).toMatchObject({ family: "mlp", depth: 3, in: 768, out: 1024 });
    expect(stageConfig(config, "everything")).toMatchObject({
      steps: 100,
      batch: 64,
      micro_batch: 8,
      lr: 1e-4,
      weight_decay: 0.01,
      grad_clip: 0.5,
      max_length: 1024,
      template: "gemma",
      aspect: "crop",
      precision: "fp32",
      group_by_modality: true,
      gradient_checkpointing: true,
      schedule: { family: "linear", warmup: 0.1 },
      optimizer: { family: "adamw", beta1: 0.9, beta2: 0.98, eps: 1e-6 },
    });
    expect(stageConfig(config, "everything").data).toMatchObject([{ annotations: "a.json", images: "img", size: 1000, seed: 3 }]);
    // 100 samples, batch 10, 2 epochs
    expect(stageConfig(config, "caption")).toMatchObject({ epochs: 2, batch: 10, steps: 20 });
    expect(stageConfig(config, "scores")).toMatchObject({ max_new_tokens: 16, temperature: 0 });
    expect((stageConfig(config, "scores").data as Obj[]).map((d) => d.family)).toEqual(["vqav2", "gqa", "scienceqa", "mmvp", "pope", "mme", "synthetic_shapes"]);
    expect(config.seed).toBe(7);
  });
});
