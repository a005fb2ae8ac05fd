/**
 * The per-device batch of a stage whose spec leaves `micro_batch` unset: LLaVA-Gemma's own per-device
 * batches (DEVICE_BATCHSIZE of IntelLabs/multimodal_cognitive_ai LLaVA-Gemma/scripts/v1_5/
 * pretrain_gaudi.sh and finetune_gaudi.sh: 2b-it 16 and 2, 7b-it 8 and 1) where they split the batch and
 * fit, else the largest split that fits.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { estimateStage } from "../../compiler/memory.js";
import { repo } from "../helpers.js";
import { exportText } from "./helpers.js";

/** variant id -> stage name -> [per-device batch, devices, accumulation] */
async function splits(text: string) {
  const { exports, diagnostics } = await exportText(text);
  expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  const out = new Map<string, Map<string, [number, number, number]>>();
  for (const v of exports[0].variants) {
    out.set(v.dir, new Map(v.stages.filter((s) => s.kind === "stage").map((s) => [s.name, [s.perDeviceBatch!, s.devices, s.accumulation!]])));
  }
  return { out, warnings: diagnostics.filter((d) => d.code === "W0501") };
}

const example = readFileSync(`${repo}/examples/llava-gemma.mmfm`, "utf8");

describe("micro_batch left unset", () => {
  it("is LLaVA-Gemma's per-device batch for the paper's stages: 2B 16 and 2, 7B 8 and 1", async () => {
    const unset = example.replace(/^ {2}micro_batch .*$/gm, "");
    expect(unset).not.toMatch(/micro_batch/);
    const { out, warnings } = await splits(unset);
    expect(warnings).toEqual([]);
    for (const vision of ["clip", "dino"]) {
      expect(out.get(`pretrained-${vision}-2b`)!.get("pretrain")).toEqual([16, 8, 2]);
      expect(out.get(`pretrained-${vision}-2b`)!.get("finetune")).toEqual([2, 8, 8]);
      expect(out.get(`pretrained-${vision}-7b`)!.get("pretrain")).toEqual([8, 8, 4]);
      expect(out.get(`pretrained-${vision}-7b`)!.get("finetune")).toEqual([1, 8, 16]);
      expect(out.get(`direct-${vision}-7b`)!.get("finetune")).toEqual([1, 8, 16]);
    }
  });

  it("is the largest split that fits where LLaVA-Gemma's does not fit (LANGUAGE.md §1: no checkpointing, 80 GiB)", async () => {
    const text = readFileSync(`${repo}/test/cases/export/language-section1.mmfm`, "utf8");
    const { out, warnings } = await splits(text);
    expect(warnings).toEqual([]);
    // finetuning: LLaVA-Gemma's 2 and 1 fit
    expect(out.get("pretrained-clip-2b")!.get("finetune")).toEqual([2, 8, 8]);
    expect(out.get("pretrained-clip-7b")!.get("finetune")).toEqual([1, 8, 16]);
    // pretraining without gradient checkpointing: 16 (2B) and 8 (7B) per device exceed 80 GiB in the estimate
    const { compile } = await import("../../compiler/pipeline.js");
    const { buildPlan } = await import("../../compiler/plan.js");
    const variant = compile("test/cases/export/language-section1.mmfm").experiments[0].variants.find((v) => v.id.endsWith("/pretrained-clip-7b"))!;
    const plan = buildPlan(variant, { specPath: "test/cases/export/language-section1.mmfm", planDir: "build/x", stdDir: "std" });
    const pretrain = plan.stages[0];
    if (pretrain.kind !== "stage") throw new Error("pretrain is a training stage");
    expect(estimateStage(plan.model, { ...pretrain, micro_batch: 8 }, plan.cluster).fits).toBe(false);
    expect(estimateStage(plan.model, { ...pretrain, micro_batch: 4 }, plan.cluster).fits).toBe(false);
    expect(estimateStage(plan.model, { ...pretrain, micro_batch: 2 }, plan.cluster).fits).toBe(true);
    expect(out.get("pretrained-clip-7b")!.get("pretrain")).toEqual([2, 8, 16]);
    expect(out.get("pretrained-clip-2b")!.get("pretrain")).toEqual([8, 8, 4]);
  });

  it("is the largest split that fits where LLaVA-Gemma's does not split the batch", async () => {
    const spec = (batch: number, devices: number) => `import "std"
dataset d = llava_json { annotations = "d.json"  images = "img" }
model m { vision = clip_vit_l14_336  connector = mlp2x_gelu  language = gemma_7b_it }
stage s { data = d  train = [connector]  batch = ${batch}  gradient_checkpointing = true }
experiment e { model = m  stages = [s]  devices = ${devices}  device_memory = 96 }
`;
    // connector-only on 7B: LLaVA-Gemma's 8 per device splits 64 over 8 devices but not 48 (48 / 64)
    expect((await splits(spec(64, 8))).out.get("default")!.get("s")![0]).toBe(8);
    const odd = (await splits(spec(48, 8))).out.get("default")!.get("s")!;
    expect(odd).toEqual([6, 8, 1]);
  });

  it("is the same in `mmfmc grid` (its memory column) as in the export", async () => {
    const { mmfmc } = await import("../helpers.js");
    const r = mmfmc(["grid", "test/cases/export/language-section1.mmfm", "--json"]);
    expect(r.status).toBe(0);
    const grid = JSON.parse(r.stdout).experiments[0].variants.find((v: { id: string }) => v.id.endsWith("/pretrained-clip-7b"));
    const { exports } = await exportText(readFileSync(`${repo}/test/cases/export/language-section1.mmfm`, "utf8"));
    const exported = exports[0].variants.find((v) => v.id.endsWith("/pretrained-clip-7b"))!;
    expect(grid.stages.map((s: { memory: { total: number } }) => s.memory.total)).toEqual(exported.stages.map((s) => s.memory.total));
  });
});
