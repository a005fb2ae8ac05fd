import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/pipeline.js";
import { buildPlan } from "../../compiler/plan.js";
import { estimateStage, fitMemory, GiB, type ClusterShape } from "../../compiler/memory.js";
import type { Plan, TrainStagePlan } from "../../plan/plan.js";
import { mmfmc } from "../helpers.js";

let plans: Map<string, Plan>;

beforeAll(() => {
  const result = compile("examples/llava-gemma.mmfm");
  plans = new Map(
    result.experiments[0].variants.map((v) => [v.id.split("/")[1], buildPlan(v, { specPath: "examples/llava-gemma.mmfm", planDir: "build/x", stdDir: "std" })]),
  );
});

function stage(id: string, name: string): { plan: Plan; stage: TrainStagePlan } {
  const plan = plans.get(id)!;
  const s = plan.stages.find((x) => x.name === name)!;
  if (s.kind !== "stage") throw new Error(`${name} is not a training stage`);
  return { plan, stage: s };
}

describe("the per-device memory estimate", () => {
  it("is the documented formula: 2B finetune on 8 Gaudi devices, ZeRO-2, micro batch 2, 2048 tokens", () => {
    const { plan, stage: s } = stage("pretrained-clip-2b", "finetune");
    const e = estimateStage(plan.model, s, plan.cluster);
    // parameter counts of reference/llava-gemma.md §3: CLIP-L/336, mlp2x_gelu 1024 -> 2048, Gemma-2B
    const [vision, connector, language] = [303_507_456, 6_295_552, 2_506_172_416];
    const trainable = connector + language;
    expect(s.trainable).toBe(trainable);
    expect(e.params).toBe(2 * vision + 2 * (connector + language));
    expect(e.grads).toBe((2 * trainable) / 8);
    expect(e.optimizer).toBe((12 * trainable) / 8);
    // one Gemma-2B layer: h 2048, 8 query heads and 1 key/value head of 256, GeGLU 16384; eager attention on Gaudi
    const [b, seq] = [2, 2048];
    const layer = seq * b * (4 * 2048 + 2 * 8 * 256 + 2 * 1 * 256 + 4 * 16384) + 8 * b * seq * seq;
    const connectorActs = b * 576 * (1024 + 2 * 2048);
    const logits = (2 + 4) * seq * b * 256_000;
    expect(e.activations).toBe(2 * (18 * layer + connectorActs) + logits);
    expect(e.total).toBe(e.params + e.grads + e.optimizer + e.activations);
    expect(e.available).toBe(96 * GiB);
    expect(e.fits).toBe(true);
  });

  it("keeps only layer inputs with gradient checkpointing, and no attention matrix with flash attention (GPUs)", () => {
    const { plan, stage: s } = stage("pretrained-clip-2b", "pretrain");
    expect(s.gradient_checkpointing).toBe(true);
    const on = estimateStage(plan.model, s, plan.cluster);
    const off = estimateStage(plan.model, { ...s, gradient_checkpointing: false }, plan.cluster);
    const [b, seq, h] = [16, 2048, 2048];
    const layer = seq * b * (4 * h + 2 * 8 * 256 + 2 * 256 + 4 * 16384) + 8 * b * seq * seq;
    expect(off.activations - on.activations).toBe(2 * (18 * layer - (18 * seq * b * h + layer)));
    const gpu = estimateStage(plan.model, { ...s, accelerator: "gpu" }, plan.cluster);
    expect(on.activations - gpu.activations).toBe(2 * 8 * b * seq * seq);
    // a projector-only stage has gradients and Adam states for the projector only: 14 bytes a parameter over 8 devices
    expect(on.grads + on.optimizer).toBe((14 * 6_295_552) / 8);
  });

  it("shrinks with each ZeRO stage as ZeRO partitions optimizer states, gradients, then parameters", () => {
    const { plan, stage: s } = stage("pretrained-clip-7b", "finetune");
    const at = (zero: number) => estimateStage(plan.model, s, { ...plan.cluster, zero });
    const [z0, z1, z2, z3] = [0, 1, 2, 3].map(at);
    expect(z1.optimizer).toBe(z0.optimizer / 8);
    expect(z2.grads).toBe(z1.grads / 8);
    expect(z3.params).toBeLessThan(z2.params / 4);
    expect(z0.total).toBeGreaterThan(z1.total);
    expect(z1.total).toBeGreaterThan(z2.total);
    expect(z2.total).toBeGreaterThan(z3.total);
  });

  it("counts fp32 weights and no master copy in fp32, and an evaluation as the model in 16 bits and its cache", () => {
    const { plan, stage: s } = stage("direct-clip-2b", "finetune");
    const bf16 = estimateStage(plan.model, s, plan.cluster);
    const fp32 = estimateStage(plan.model, { ...s, precision: "fp32" }, plan.cluster);
    expect(fp32.optimizer).toBe((bf16.optimizer * 8) / 12);
    expect(fp32.grads).toBe(bf16.grads * 2);
    const evaluation = plan.stages.find((x) => x.kind === "eval")!;
    const e = estimateStage(plan.model, evaluation, plan.cluster);
    expect(e.params).toBe(2 * plan.model.params.total);
    expect(e.grads + e.optimizer).toBe(0);
    // the longest answer of its benchmarks: ScienceQA's 1024 new tokens (model_vqa_science.py)
    expect(e.activations).toBe(2 * 18 * 1 * 256 * (576 + 1024) * 2);
    expect(estimateStage(plan.model, { ...evaluation, max_new_tokens: 128 }, plan.cluster).activations).toBe(2 * 18 * 1 * 256 * (576 + 128) * 2);
  });
});

describe("the smallest change that fits", () => {
  /** The device memory (GiB) halfway between two estimates, so that only the smaller fits. */
  const between = (small: number, large: number) => (small + large) / 2 / GiB;

  it("is nothing when the stage fits", () => {
    const { plan, stage: s } = stage("pretrained-clip-2b", "finetune");
    expect(fitMemory(plan.model, s, plan.cluster)).toBeUndefined();
  });

  it("is more ZeRO when that is enough", () => {
    const { plan, stage: s } = stage("pretrained-clip-7b", "finetune");
    const z2 = estimateStage(plan.model, s, plan.cluster).total;
    const z3 = estimateStage(plan.model, s, { ...plan.cluster, zero: 3 }).total;
    const cluster: ClusterShape = { ...plan.cluster, device_memory: between(z3, z2) };
    expect(fitMemory(plan.model, s, cluster)?.change).toBe("zero = 3");
  });

  it("is the largest micro batch that fits and still splits the batch", () => {
    const { plan, stage: s } = stage("pretrained-clip-2b", "pretrain");
    const cluster: ClusterShape = { ...plan.cluster, device_memory: 40 };
    const fix = fitMemory(plan.model, s, cluster)!;
    expect(fix.change).toBe("micro_batch = 8 (gradient accumulation 4)");
    expect(fix.estimate.fits).toBe(true);
    expect(estimateStage(plan.model, s, cluster).fits).toBe(false);
    // 256 = 8 × 8 devices × 4; no micro batch between 8 and 16 splits 256 over 8 devices
    expect([9, 10, 11, 12, 13, 14, 15].every((m) => 256 % (m * 8) !== 0)).toBe(true);
  });

  it("is gradient checkpointing when ZeRO and the micro batch are at their limits", () => {
    const { plan, stage: base } = stage("pretrained-clip-7b", "finetune");
    const s = { ...base, micro_batch: 1 };
    const cluster = { ...plan.cluster, zero: 3 };
    const off = estimateStage(plan.model, s, cluster).total;
    const on = estimateStage(plan.model, { ...s, gradient_checkpointing: true }, cluster).total;
    expect(fitMemory(plan.model, s, { ...cluster, device_memory: between(on, off) })?.change).toBe("gradient_checkpointing = true");
  });

  it("is more devices after that, then everything together, and nothing when nothing fits", () => {
    const { plan, stage: base } = stage("pretrained-clip-7b", "finetune");
    const s = { ...base, micro_batch: 1, gradient_checkpointing: true };
    const cluster = { ...plan.cluster, zero: 3 };
    const at8 = estimateStage(plan.model, s, cluster).total;
    const at16 = estimateStage(plan.model, s, { ...cluster, devices: 16 }).total;
    expect(fitMemory(plan.model, s, { ...cluster, device_memory: between(at16, at8) })?.change).toBe("devices = 16");
    const loose = { ...base, micro_batch: 2, gradient_checkpointing: false };
    const frugal = estimateStage(plan.model, { ...loose, micro_batch: 1, gradient_checkpointing: true }, cluster).total;
    const fix = fitMemory(plan.model, loose, { ...plan.cluster, device_memory: frugal / GiB + 0.01 });
    expect(fix?.change).toBe("zero = 3, gradient_checkpointing = true, micro_batch = 1");
    expect(fitMemory(plan.model, loose, { ...plan.cluster, device_memory: 1 })).toBeUndefined();
  });
});

describe("mmfmc grid", () => {
  it("shows each stage's memory per device, in the table and as `memory` in --json", () => {
    const table = mmfmc(["grid", "examples/llava-gemma.mmfm"]);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain("memory/device per stage");
    expect(table.stdout).toMatch(/llava_gemma_ablations\/pretrained-clip-2b .*pretrain 60\.2G, finetune 28\.2G, benchmarks 5\.3G/);
    const json = JSON.parse(mmfmc(["grid", "examples/llava-gemma.mmfm", "--json"]).stdout);
    const v = json.experiments[0].variants.find((x: { id: string }) => x.id.endsWith("/pretrained-clip-2b"));
    // LANGUAGE.md §8's keys stay; `memory` is added
    expect(Object.keys(v.stages[0])).toEqual(expect.arrayContaining(["name", "kind", "trainable", "memory"]));
    const { plan, stage: s } = stage("pretrained-clip-2b", "pretrain");
    expect(v.stages[0].memory).toEqual({ ...estimateStage(plan.model, s, plan.cluster), fix: null });
  });

  it("warns (W0501) about a stage that will not fit, with the change that makes it fit, once per cause", () => {
    const r = mmfmc(["grid", "examples/llava-gemma.mmfm", "--set", "device_memory=40"]);
    expect(r.status).toBe(0);
    // 8 stages of 6 variants do not fit: pretrain on 2B and on 7B (each its own fix), finetune on 7B
    expect(r.stderr.match(/warning\[W0501\]: .*/g)).toEqual([
      "warning[W0501]: stage `pretrain` of 2 variants needs up to 61.8 GiB per device but devices have 40.0 GiB (parameters 6.8 + gradients 0.0 + Adam states 0.0 + activations 54.9 GiB, the largest)",
      "warning[W0501]: stage `pretrain` of 2 variants needs up to 80.0 GiB per device but devices have 40.0 GiB (parameters 18.0 + gradients 0.0 + Adam states 0.0 + activations 61.9 GiB, the largest)",
      "warning[W0501]: stage `finetune` of 4 variants needs up to 72.0 GiB per device but devices have 40.0 GiB (parameters 18.0 + gradients 2.0 + Adam states 11.9 + activations 40.0 GiB, the largest)",
    ]);
    expect(r.stderr).toContain("help: the variants: `llava_gemma_ablations/pretrained-clip-2b` 60.2 GiB, `llava_gemma_ablations/pretrained-dino-2b` 61.8 GiB");
    expect(r.stderr).toContain("help: the smallest change that fits: `micro_batch = 8 (gradient accumulation 4)`");
    // at the stage's declaration
    expect(r.stderr).toContain("--> examples/llava-gemma.mmfm:21:1");
    expect(r.stdout).toContain("pretrain 60.2G!");
  });

  it("says one variant's stage as before (W0501)", () => {
    const r = mmfmc(["grid", "examples/llava-gemma.mmfm", "--set", "device_memory=40", "--only", "model.vision=clip", "--only", "model.language=2b", "--only", "stages=pretrained"]);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/warning\[W0501\]: .*/g)).toEqual([
      "warning[W0501]: stage `pretrain` of `llava_gemma_ablations/pretrained-clip-2b` needs about 60.2 GiB per device but devices have 40.0 GiB (parameters 5.2 + gradients 0.0 + Adam states 0.0 + activations 55.0 GiB)",
    ]);
  });
});
