/**
 * The training knobs of issue 12 in the language (test/cases/language/valid/knobs.mmfm): LoRA's
 * trainable count in `mmfmc grid` (the adapters, counted by hand here), the knobs in each variant's
 * configuration, steps from a mixture's summed size, and an `ablate` axis over each knob. The
 * diagnostics are cases of invalid/ (field_knob_*, field_llava_names, field_lora_without_language,
 * field_mixture_length, grid_knob_axes, grid_mixture_axis).
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { byId, casePath, experimentNamed, gridJson } from "./harness.js";

type Obj = Record<string, unknown>;

const file = casePath("valid", "knobs.mmfm");

/**
 * LoRA adapter parameters of tiny_gemma_2b (width d 64, 2 layers, 4 heads and 1 key/value head of 16,
 * mlp 256) at rank r: a layer of in -> out features has A [r, in] and B [out, r], so each layer holds
 * r · [(64 + 64) q + (64 + 16) k + (64 + 16) v + (64 + 64) o + (64 + 256) gate + (64 + 256) up + (256 + 64) down]
 * = r · 1376.
 */
const adapters = (r: number): number => r * 2 * 1376;

function configs(experiment: string): Map<string, Obj> {
  const result = compile(file);
  expect(result.diagnostics.items.filter((d) => d.severity === "error")).toEqual([]);
  const e = result.experiments.find((x) => x.name === experiment)!;
  return new Map(e.variants.map((v) => [v.id, v.config.json as Obj]));
}

function stage(config: Obj, name: string): Obj {
  return (config.stages as Obj[]).find((s) => s.name === name)!;
}

describe("the knobs in the language and in `mmfmc grid`", () => {
  it("counts a LoRA stage's trainable parameters as its adapters plus the connector", async () => {
    const grid = byId(experimentNamed((await gridJson(file)).experiments, "knobs"));
    const v = grid.get("knobs/true-8")!;
    const { connector, vision, language } = v.params;
    expect(adapters(8)).toBe(22_016);
    expect(v.stages.map(({ name, kind, trainable }) => ({ name, kind, trainable }))).toEqual([
      { name: "pretrain", kind: "stage", trainable: connector },
      { name: "finetune", kind: "stage", trainable: connector + 22_016 },
      { name: "tower", kind: "stage", trainable: vision + connector },
    ]);
    expect(grid.get("knobs/true-64")!.stages[1].trainable).toBe(connector + adapters(64));
    // without LoRA the whole language model trains, whatever lora_r says
    expect(grid.get("knobs/false-8")!.stages[1].trainable).toBe(connector + language);
    expect(grid.get("knobs/false-64")!.stages[1].trainable).toBe(connector + language);
  });

  it("keeps every knob in the configuration, with steps from the datasets' summed size", () => {
    const config = configs("knobs").get("knobs/true-8")!;
    const finetune = stage(config, "finetune");
    expect(finetune).toMatchObject({
      mixture: [3, 1],
      lr: 2e-4,
      connector_lr: 2e-5,
      vision_lr: null,
      lora: true,
      lora_r: 8,
      lora_alpha: 16,
      lora_dropout: 0.1,
      group_by_modality: true,
      // 300 + 100 samples in batches of 8, one epoch
      steps: 50,
    });
    expect((finetune.data as Obj[]).map((d) => d.name)).toEqual(["images", "text"]);
    expect(stage(config, "tower")).toMatchObject({ vision_lr: 2e-6, connector_lr: null, lora: false, lora_r: 64, lora_alpha: 16, lora_dropout: 0.05, mixture: null, steps: 50 });
    // one dataset is a list of one
    expect((stage(config, "pretrain").data as Obj[]).length).toBe(1);
    expect(stage(config, "pretrain")).toMatchObject({ connector_lr: 1e-3, steps: 30 });
  });

  it("ablates over every knob like any other field", async () => {
    const sweeps = configs("sweeps");
    expect([...sweeps.keys()]).toEqual(["sweeps/16-0.05-2e-5-3+1-images+text-true", "sweeps/32-0-1e-4-1+1-text+images-false"]);
    const [a, b] = [...sweeps.values()].map((c) => stage(c, "finetune"));
    expect(a).toMatchObject({ lora_alpha: 16, lora_dropout: 0.05, connector_lr: 2e-5, mixture: [3, 1], group_by_modality: true });
    expect(b).toMatchObject({ lora_alpha: 32, lora_dropout: 0, connector_lr: 1e-4, mixture: [1, 1], group_by_modality: false });
    expect((a.data as Obj[]).map((d) => d.name)).toEqual(["images", "text"]);
    expect((b.data as Obj[]).map((d) => d.name)).toEqual(["text", "images"]);
    const knobs = configs("knobs");
    expect([...knobs.values()].map((c) => [stage(c, "finetune").lora, stage(c, "finetune").lora_r])).toEqual([
      [true, 8],
      [true, 64],
      [false, 8],
      [false, 64],
    ]);
    const towers = configs("towers");
    expect([...towers.values()].map((c) => stage(c, "tower").vision_lr)).toEqual([2e-6, 2e-5]);
    // each knob is part of the variant's content hash
    const grid = (await gridJson(file)).experiments.flatMap((e) => e.variants.map((v) => v.hash));
    expect(new Set(grid).size).toBe(grid.length);
  });
});
