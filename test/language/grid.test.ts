/**
 * Ablation grids (LANGUAGE.md §6): crossed and zipped axes, unions of blocks, `exclude`, labels, ids
 * in axis order, `STAGE.FIELD` and deeper axes, content hashes, and `--set` / `--only` (§6, §8).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { byId, casePath, checkJson, experimentNamed, type ExpectedVariant, type GridExperiment, gridJson, shown, showDiagnostics, withTotal } from "./harness.js";
import { connectorFormula, connectorFromTable, gemmaFormula, languagePresets, linearTable, mlp2xTable, published, referenceArchitectures, trainable, visionPresets, type Component } from "./reference.js";

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

function configs(file: string, experiment: string, options: { text?: string; sets?: string[]; only?: string[] } = {}): Map<string, { config: Obj; hash: string }> {
  const result = compile(file, options);
  const errors = result.diagnostics.items.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(`${file} has errors: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  const e = result.experiments.find((x) => x.name === experiment);
  if (!e) throw new Error(`no experiment ${experiment}`);
  return new Map(e.variants.map((v) => [v.id, { config: v.config.json as Obj, hash: v.hash }]));
}

function stage(config: Obj, name: string): Obj | undefined {
  return (config.stages as Obj[]).find((s) => s.name === name);
}

const clip2b = { vision: published.clip_vit_l14_336, connector: mlp2xTable["1024>2048"], language: published.gemma_2b };
const train = { pretrain: ["connector"], finetune: ["connector", "language"] } as const satisfies Record<string, readonly Component[]>;
const stagesFor = (names: readonly ("pretrain" | "finetune")[], p: Record<Component, number>) => names.map((n) => [n, "stage", trainable(train[n], p)] as const);

describe("axes into the experiment (grid_axes.mmfm)", () => {
  const file = casePath("valid", "grid_axes.mmfm");

  it("`model.connector.depth` changes the connector's count", async () => {
    const grid: Record<string, ExpectedVariant> = {};
    for (const depth of [1, 2, 3]) {
      const p = { ...clip2b, connector: connectorFormula("mlp", 1024, 2048, depth) };
      grid[`depth/${depth}`] = { axes: { "model.connector.depth": String(depth) }, ...p, stages: stagesFor(["pretrain", "finetune"], p) };
    }
    expect(connectorFormula("mlp", 1024, 2048, 1)).toBe(linearTable["1024>2048"]);
    expect(connectorFormula("mlp", 1024, 2048, 2)).toBe(mlp2xTable["1024>2048"]);
    expectGrid(experimentNamed((await gridJson(file)).experiments, "depth"), grid);
  });

  it("`finetune.lr` and `seed` cross, with labels as the numbers are written, ids in axis order", async () => {
    const grid: Record<string, ExpectedVariant> = {};
    for (const lr of ["2e-5", "1e-5", "5e-6"]) {
      for (const seed of ["1", "2"]) {
        grid[`lrs/${lr}-${seed}`] = { axes: { "finetune.lr": lr, seed }, ...clip2b, stages: stagesFor(["pretrain", "finetune"], clip2b) };
      }
    }
    expectGrid(experimentNamed((await gridJson(file)).experiments, "lrs"), grid);
    const c = configs(file, "lrs");
    for (const lr of ["2e-5", "1e-5", "5e-6"]) {
      for (const seed of [1, 2]) {
        const { config } = c.get(`lrs/${lr}-${seed}`)!;
        expect(stage(config, "finetune")!.lr).toBe(Number(lr));
        expect(stage(config, "pretrain")!.lr).toBe(1e-3); // only the named stage changes
        expect(config.seed).toBe(seed);
      }
    }
  });

  it("`stages` takes lists (labels joined by `+`) and `finetune.batch` applies wherever finetune runs", async () => {
    const grid: Record<string, ExpectedVariant> = {};
    for (const [label, names] of [["pretrain+finetune", ["pretrain", "finetune"]], ["finetune", ["finetune"]]] as const) {
      for (const batch of ["128", "64"]) {
        grid[`recipes/${label}-${batch}`] = { axes: { stages: label, "finetune.batch": batch }, ...clip2b, stages: stagesFor(names, clip2b) };
      }
    }
    expectGrid(experimentNamed((await gridJson(file)).experiments, "recipes"), grid);
    const c = configs(file, "recipes");
    expect(stage(c.get("recipes/pretrain+finetune-64")!.config, "finetune")!.batch).toBe(64);
    expect(stage(c.get("recipes/finetune-64")!.config, "finetune")!.batch).toBe(64);
    expect(stage(c.get("recipes/finetune-128")!.config, "finetune")!.batch).toBe(128);
    expect(stage(c.get("recipes/pretrain+finetune-64")!.config, "pretrain")!.batch).toBe(256);
  });

  it("strings and booleans give labels too", async () => {
    const grid: Record<string, ExpectedVariant> = {};
    for (const t of ["gemma", "plain"]) {
      for (const g of ["true", "false"]) {
        grid[`flags/${t}-${g}`] = { axes: { "model.template": t, "pretrain.group_by_modality": g }, ...clip2b, stages: stagesFor(["pretrain"], clip2b) };
      }
    }
    expectGrid(experimentNamed((await gridJson(file)).experiments, "flags"), grid);
    const c = configs(file, "flags");
    expect((c.get("flags/plain-false")!.config.model as Obj).template).toBe("plain");
    expect(stage(c.get("flags/plain-false")!.config, "pretrain")!.group_by_modality).toBe(false);
    expect(stage(c.get("flags/gemma-true")!.config, "pretrain")!.group_by_modality).toBe(true);
  });

  it("negative numbers give labels that spell their sign: `select_layer: [-1, -2, 12]` gives `neg1`, `neg2`, `12` (LANGUAGE.md §6)", async () => {
    const f = casePath("valid", "grid_negative_labels.mmfm");
    const grid: Record<string, ExpectedVariant> = {};
    for (const l of ["neg1", "neg2", "12"]) grid[`layers/${l}`] = { axes: { "model.vision.select_layer": l }, ...clip2b, stages: stagesFor(["pretrain"], clip2b) };
    const { code, experiments, stderr } = await gridJson(f);
    expect(code, stderr).toBe(0);
    expectGrid(experimentNamed(experiments, "layers"), grid);
  });
});

describe("zip and unions of blocks (grid_zip_union.mmfm)", () => {
  const file = casePath("valid", "grid_zip_union.mmfm");
  const dino = visionPresets.dinov2_vit_g14.params;
  const p = (vision: "clip" | "dino", language: "2b" | "7b") => {
    const v = vision === "clip" ? visionPresets.clip_vit_l14_336 : visionPresets.dinov2_vit_g14;
    const l = language === "2b" ? languagePresets.gemma_2b_it : languagePresets.gemma_7b_it;
    return { vision: v.params, connector: connectorFromTable("mlp2x_gelu", v.width, l.width), language: l.params };
  };
  const both = (q: Record<Component, number>) => stagesFor(["pretrain", "finetune"], q);

  it("`ablate zip` pairs the i-th values", async () => {
    const { experiments } = await gridJson(file);
    expectGrid(experimentNamed(experiments, "zipped"), {
      "zipped/gemma_2b_it-128": { axes: { "model.language": "gemma_2b_it", "finetune.batch": "128" }, ...p("clip", "2b"), stages: both(p("clip", "2b")) },
      "zipped/gemma_7b_it-64": { axes: { "model.language": "gemma_7b_it", "finetune.batch": "64" }, ...p("clip", "7b"), stages: both(p("clip", "7b")) },
    });
    expect(dino).toBe(1_136_480_768);
  });

  it("several blocks give the union; the configuration reached twice is one variant (the first)", async () => {
    const { experiments } = await gridJson(file);
    expectGrid(experimentNamed(experiments, "union"), {
      "union/clip": { axes: { "model.vision": "clip" }, ...p("clip", "2b"), stages: both(p("clip", "2b")) },
      "union/dino": { axes: { "model.vision": "dino" }, ...p("dino", "2b"), stages: both(p("dino", "2b")) },
      "union/gemma_7b_it": { axes: { "model.language": "gemma_7b_it" }, ...p("clip", "7b"), stages: both(p("clip", "7b")) },
    });
  });

  it("a zip block and a crossed block, with a shared configuration", async () => {
    const { experiments } = await gridJson(file);
    expectGrid(experimentNamed(experiments, "union_zip"), {
      "union_zip/clip-gemma_2b_it": { axes: { "model.vision": "clip", "model.language": "gemma_2b_it" }, ...p("clip", "2b"), stages: both(p("clip", "2b")) },
      "union_zip/dino-gemma_7b_it": { axes: { "model.vision": "dino", "model.language": "gemma_7b_it" }, ...p("dino", "7b"), stages: both(p("dino", "7b")) },
      "union_zip/2": { axes: { seed: "2" }, ...p("clip", "2b"), stages: both(p("clip", "2b")) },
    });
  });

  it("a crossed block then a zip block", async () => {
    const { experiments } = await gridJson(file);
    const grid: Record<string, ExpectedVariant> = {};
    for (const v of ["clip", "dino"] as const) {
      for (const b of ["256", "512"]) grid[`crossed_then_zip/${v}-${b}`] = { axes: { "model.vision": v, "pretrain.batch": b }, ...p(v, "2b"), stages: both(p(v, "2b")) };
    }
    grid["crossed_then_zip/7-1e-5"] = { axes: { seed: "7", "finetune.lr": "1e-5" }, ...p("clip", "2b"), stages: both(p("clip", "2b")) };
    grid["crossed_then_zip/8-3e-5"] = { axes: { seed: "8", "finetune.lr": "3e-5" }, ...p("clip", "2b"), stages: both(p("clip", "2b")) };
    expectGrid(experimentNamed(experiments, "crossed_then_zip"), grid);
    const c = configs(file, "crossed_then_zip");
    expect(stage(c.get("crossed_then_zip/8-3e-5")!.config, "finetune")!.lr).toBe(3e-5);
    expect(c.get("crossed_then_zip/8-3e-5")!.config.seed).toBe(8);
    expect(stage(c.get("crossed_then_zip/dino-512")!.config, "pretrain")!.batch).toBe(512);
  });
});

describe("a zip group crossed with other axes, and labels in exclude (grid_zip_cross.mmfm)", () => {
  const file = casePath("valid", "grid_zip_cross.mmfm");
  const both = (q: Record<Component, number>) => stagesFor(["pretrain", "finetune"], q);

  it("`ablate { zip { width, heads } depth }` pairs width with heads and crosses the pairs with depth; `label(...)` drops a size by its label", async () => {
    const sizes = { s: [1024, 4], m: [2048, 8], l: [3072, 12] } as const;
    const grid: Record<string, ExpectedVariant> = {};
    for (const [label, [width, heads]] of Object.entries(sizes)) {
      for (const depth of [12, 18]) {
        if (label === "l" && depth === 18) continue; // the exclude
        const language = gemmaFormula({ ...referenceArchitectures.gemma_2b, width, heads, depth });
        const p = { vision: published.clip_vit_l14_336, connector: connectorFormula("mlp", 1024, width), language };
        grid[`scaling/${label}-${label}-${depth}`] = {
          axes: { "model.language.width": label, "model.language.heads": label, "model.language.depth": String(depth) },
          ...p,
          stages: both(p),
        };
      }
    }
    const { code, experiments, stderr } = await gridJson(file);
    expect(code, stderr).toBe(0);
    expectGrid(experimentNamed(experiments, "scaling"), grid);
    // the m row at depth 12: width 2048 with 8 heads of 256 (head_dim stays the preset's)
    const language = configs(file, "scaling").get("scaling/m-m-12")!.config.model as Obj;
    expect(language.language).toMatchObject({ width: 2048, heads: 8, depth: 12, head_dim: 256 });
  });

  it("a group between two axes keeps its place in the order (ids, the first member varying slowest)", async () => {
    const c = configs(file, "sandwich");
    // 2 seeds x 2 rows x 2 lrs = 8 points; the exclude drops high lr with batch 512: 6
    expect([...c.keys()]).toEqual([
      "sandwich/1-256-1e-3-low",
      "sandwich/1-256-1e-3-high",
      "sandwich/1-512-2e-3-low",
      "sandwich/2-256-1e-3-low",
      "sandwich/2-256-1e-3-high",
      "sandwich/2-512-2e-3-low",
    ]);
    const row = c.get("sandwich/2-512-2e-3-low")!.config;
    expect(row.seed).toBe(2);
    expect(stage(row, "pretrain")).toMatchObject({ batch: 512, lr: 2e-3 });
    expect(stage(row, "finetune")).toMatchObject({ lr: 1e-5 });
  });

  it("`label(AXIS)` at a point of a block without that axis is the empty string", async () => {
    const c = configs(file, "union");
    expect([...c.keys()].sort()).toEqual(["union/1", "union/high", "union/low"]);
  });
});

describe("record values and axes into a backbone (grid_records.mmfm)", () => {
  const file = casePath("valid", "grid_records.mmfm");
  const p = (vision: number) => ({ vision, connector: mlp2xTable["1024>2048"], language: published.gemma_2b });

  it("record labels name inline refinements", async () => {
    const grid: Record<string, ExpectedVariant> = {};
    for (const [label, n] of [["big", published.clip_vit_l14_336], ["small", visionPresets.clip_vit_l14.params], ["wide", published.dinov2_vit_l14]] as const) {
      grid[`towers/${label}`] = { axes: { "model.vision": label }, ...p(n), stages: stagesFor(["pretrain"], p(n)).map(([, k, t]) => ["s", k, t] as const) };
    }
    expectGrid(experimentNamed((await gridJson(file)).experiments, "towers"), grid);
  });

  it("`model.vision.image` changes the position embeddings and the tokens", async () => {
    const grid: Record<string, ExpectedVariant> = {};
    for (const [image, n] of [["224", visionPresets.clip_vit_l14.params], ["336", published.clip_vit_l14_336]] as const) {
      grid[`resolution/${image}`] = { axes: { "model.vision.image": image }, ...p(n), stages: [["s", "stage", mlp2xTable["1024>2048"]]] };
    }
    expectGrid(experimentNamed((await gridJson(file)).experiments, "resolution"), grid);
  });
});

describe("exclude (grid_exclude.mmfm)", () => {
  const file = casePath("valid", "grid_exclude.mmfm");
  const p = (vision: "clip" | "dino", language: "2b" | "7b") => {
    const v = vision === "clip" ? visionPresets.clip_vit_l14_336 : visionPresets.dinov2_vit_g14;
    const l = language === "2b" ? languagePresets.gemma_2b_it : languagePresets.gemma_7b_it;
    return { vision: v.params, connector: connectorFromTable("mlp2x_gelu", v.width, l.width), language: l.params };
  };

  it("`==`, `!=`, `and`, `or`, `not`, `in` and parentheses, with `and` binding tighter than `or`", async () => {
    const grid: Record<string, ExpectedVariant> = {};
    for (const [v, l, seed] of [["clip", "2b", 1], ["clip", "2b", 2], ["clip", "7b", 1], ["dino", "2b", 1], ["dino", "2b", 2]] as const) {
      grid[`ex/${v}-${l}-${seed}`] = { axes: { "model.vision": v, "model.language": l, seed: String(seed) }, ...p(v, l), stages: stagesFor(["pretrain", "finetune"], p(v, l)) };
    }
    const { code, experiments } = await gridJson(file);
    expect(code).toBe(0);
    expectGrid(experimentNamed(experiments, "ex"), grid);
  });

  it("list values compare by value", async () => {
    const { experiments } = await gridJson(file);
    expectGrid(experimentNamed(experiments, "recipes"), {
      "recipes/pretrained-gemma_7b_it": { axes: { stages: "pretrained", "model.language": "gemma_7b_it" }, ...p("clip", "7b"), stages: stagesFor(["pretrain", "finetune"], p("clip", "7b")) },
      "recipes/direct-gemma_2b_it": { axes: { stages: "direct", "model.language": "gemma_2b_it" }, ...p("clip", "2b"), stages: stagesFor(["finetune"], p("clip", "2b")) },
    });
  });
});

describe("content hashes (LANGUAGE.md §6, DESIGN.md: over the resolved configuration)", () => {
  const file = casePath("valid", "paper.mmfm");
  const text = readFileSync(file, "utf8");

  it("are distinct per variant and stable across runs", () => {
    const a = configs(file, "llava_gemma_ablations");
    const b = configs(file, "llava_gemma_ablations");
    const hashes = [...a.values()].map((v) => v.hash);
    expect(new Set(hashes).size).toBe(8);
    for (const h of hashes) expect(h).toMatch(/^[0-9a-f]{16,}$/);
    expect([...b.values()].map((v) => v.hash)).toEqual(hashes);
  });

  it("do not change with layout, comments or the names of declarations", () => {
    const base = configs(file, "llava_gemma_ablations");
    const reformatted = text
      .split("\n")
      .map((l) => l.replace(/\/\/.*$/, "").trim())
      .join(" ")
      .replace(/lcs558k/g, "pretraining_captions");
    const other = configs(file, "llava_gemma_ablations", { text: "/* one line */ " + reformatted });
    expect([...other.keys()]).toEqual([...base.keys()]);
    for (const [id, v] of base) expect(other.get(id)!.hash, id).toBe(v.hash);
  });

  it("change with the configuration", () => {
    const base = configs(file, "llava_gemma_ablations");
    const changed = configs(file, "llava_gemma_ablations", { text: text.replace("seed   = 42", "seed   = 43") });
    for (const [id, v] of base) expect(changed.get(id)!.hash, id).not.toBe(v.hash);
  });
});

describe("--set and --only (LANGUAGE.md §6, §8)", () => {
  const file = casePath("valid", "paper.mmfm");
  const ids = async (...extra: string[]) => {
    const r = await gridJson(file, ...extra);
    expect(r.code, r.stderr).toBe(0);
    return experimentNamed(r.experiments, "llava_gemma_ablations").variants.map((v) => v.id).sort();
  };

  it("--only keeps the variants with that label", async () => {
    expect(await ids("--only", "model.vision=clip")).toEqual(
      ["pretrained-clip-2b", "pretrained-clip-7b", "direct-clip-2b", "direct-clip-7b"].map((s) => `llava_gemma_ablations/${s}`).sort(),
    );
    expect(await ids("--only", "model.language=7b")).toEqual(
      ["pretrained-clip-7b", "pretrained-dino-7b", "direct-clip-7b", "direct-dino-7b"].map((s) => `llava_gemma_ablations/${s}`).sort(),
    );
  });

  it("several --only combine", async () => {
    expect(await ids("--only", "model.vision=clip", "--only", "stages=direct")).toEqual(
      ["direct-clip-2b", "direct-clip-7b"].map((s) => `llava_gemma_ablations/${s}`),
    );
  });

  it("--only also matches the value behind a record label (judgement)", async () => {
    expect(await ids("--only", "model.language=gemma_7b_it")).toEqual(await ids("--only", "model.language=7b"));
  });

  it("--only that matches nothing, or names no axis, is an error naming it", async () => {
    const none = await checkJson(file, "--only", "model.vision=siglip");
    expect(none.code).toBe(1);
    expect(showDiagnostics(none.diagnostics)).toContain("siglip");
    const unknown = await checkJson(file, "--only", "model.visoin=clip");
    expect(unknown.code).toBe(1);
    expect(showDiagnostics(unknown.diagnostics)).toContain("model.visoin");
  });

  it("--set model.connector=linear_proj changes every variant's connector", async () => {
    const r = await gridJson(file, "--set", "model.connector=linear_proj");
    expect(r.code, r.stderr).toBe(0);
    const e = experimentNamed(r.experiments, "llava_gemma_ablations");
    expect(e.variants).toHaveLength(8);
    for (const v of e.variants) {
      const vw = v.axes["model.vision"] === "clip" ? 1024 : 1536;
      const lw = v.axes["model.language"] === "2b" ? 2048 : 3072;
      expect(v.params.connector, v.id).toBe(connectorFromTable("linear_proj", vw, lw));
    }
  });

  it("--set model.connector.depth=3 reaches into the connector", async () => {
    const r = await gridJson(file, "--set", "model.connector.depth=3");
    expect(r.code, r.stderr).toBe(0);
    const e = experimentNamed(r.experiments, "llava_gemma_ablations");
    expect(e.variants).toHaveLength(8);
    for (const v of e.variants) {
      const vw = v.axes["model.vision"] === "clip" ? 1024 : 1536;
      const lw = v.axes["model.language"] === "2b" ? 2048 : 3072;
      expect(v.params.connector, v.id).toBe(connectorFormula("mlp", vw, lw, 3));
    }
  });

  it("--set finetune.lr=1e-5 replaces the field wherever the stage runs, and changes the hashes, not the ids", () => {
    const base = configs(file, "llava_gemma_ablations");
    const set = configs(file, "llava_gemma_ablations", { sets: ["finetune.lr=1e-5"] });
    expect([...set.keys()]).toEqual([...base.keys()]);
    for (const [id, v] of set) {
      expect(stage(v.config, "finetune")!.lr, id).toBe(1e-5);
      if (stage(v.config, "pretrain")) expect(stage(v.config, "pretrain")!.lr, id).toBe(1e-3);
      expect(v.hash, id).not.toBe(base.get(id)!.hash);
    }
  });

  it("--set seed=7", () => {
    for (const [id, v] of configs(file, "llava_gemma_ablations", { sets: ["seed=7"] })) expect(v.config.seed, id).toBe(7);
  });

  it("--set on an unknown path is an error naming it", async () => {
    const unknown = await checkJson(file, "--set", "finetun.lr=1e-5");
    expect(unknown.code).toBe(1);
    expect(showDiagnostics(unknown.diagnostics)).toContain("finetun");
  });

  it("--set values are checked like the spec's own (wrong type, out of range, wrong kind)", async () => {
    const single = casePath("valid", "lets_arith.mmfm"); // one experiment `e` with stages `s` and `t`, no axes
    for (const [set, word] of [['t.lr="fast"', "lr"], ["t.batch=0", "batch"], ["model.vision=gemma_2b", "gemma_2b"]] as const) {
      const r = await checkJson(single, "--set", set);
      expect(r.code, `--set ${set}: ${showDiagnostics(r.diagnostics)}`).toBe(1);
      expect(showDiagnostics(r.diagnostics), `--set ${set}`).toContain(word);
    }
  });

  it("a malformed --set is refused without a crash", async () => {
    const r = await checkJson(file, "--set", "finetune.lr");
    expect([1, 2]).toContain(r.code);
  });
});

describe("two overrides on a declaration and on one that uses it (examples/llava-gemma-tiny.mmfm)", () => {
  // `finetune` reads the dataset `one_shape_train`: changing the dataset rebuilds the stage, and a
  // second override of the stage must still find it, in either order, as --set and as axes
  const file = new URL("../../examples/llava-gemma-tiny.mmfm", import.meta.url).pathname;
  const finetuneOf = (v: { config: Obj }) => stage(v.config, "finetune")!;
  const dataOf = (s: Obj) => JSON.stringify(s.data);

  it("--set DATASET.size and --set STAGE.epochs both take effect, in either order", () => {
    const a = configs(file, "llava_gemma_tiny", { sets: ["one_shape_train.size=8192", "finetune.epochs=1"] });
    const b = configs(file, "llava_gemma_tiny", { sets: ["finetune.epochs=1", "one_shape_train.size=8192"] });
    const base = configs(file, "llava_gemma_tiny");
    for (const [id, v] of a) {
      expect(finetuneOf(v).epochs, id).toBe(1);
      expect(dataOf(finetuneOf(v)), id).toContain("8192");
      expect(dataOf(finetuneOf(base.get(id)!)), id).not.toContain("8192");
      expect(v.hash, id).toBe(b.get(id)!.hash);
    }
  });

  it("axes over a dataset's field and a stage's field that reads it cross without losing either", () => {
    const text = readFileSync(file, "utf8").replace(
      /ablate \{[\s\S]*?\n {2}\}/,
      'ablate {\n    one_shape_train.size: [512, 1024]\n    finetune.epochs: [1, 3]\n  }',
    );
    const grid = configs(file, "llava_gemma_tiny", { text });
    expect(grid.size).toBe(4);
    const seen = new Set<string>();
    for (const [id, v] of grid) {
      const s = finetuneOf(v);
      const size = dataOf(s).includes("1024") ? 1024 : 512;
      expect(dataOf(s), id).toContain(String(size));
      seen.add(`${size}/${s.epochs}`);
    }
    expect([...seen].sort()).toEqual(["1024/1", "1024/3", "512/1", "512/3"]);
  });
});

describe("--set on a declaration that only an axis chooses (examples/llava-gemma-tiny.mmfm)", () => {
  const file = new URL("../../examples/llava-gemma-tiny.mmfm", import.meta.url).pathname;
  const visionOf = (v: { config: Obj }) => (v.config.model as Obj).vision as Obj;

  it("reaches the variants that choose it, and only those", () => {
    const grid = configs(file, "llava_gemma_tiny", { sets: ['dino.weights="elsewhere/dino"'] });
    expect(grid.size).toBe(8);
    for (const [id, v] of grid) {
      if (id.includes("dino")) expect(visionOf(v).weights, id).toBe("elsewhere/dino");
      else expect(visionOf(v).weights, id).not.toBe("elsewhere/dino");
    }
  });

  it("a declaration no variant uses is still an error naming it", async () => {
    const r = await checkJson(file, "--set", "tiny_siglip.image=64");
    expect(r.code).toBe(1);
    expect(showDiagnostics(r.diagnostics)).toContain("tiny_siglip");
  });
});
