/**
 * A stage's own `zero` (LLaVA-1.5 pretrains with ZeRO-2 and finetunes with ZeRO-3): from the spec to
 * the plan, the memory estimate, the smallest change that fits, and the export's --deepspeed file.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { estimateStage, fitMemory, GiB } from "../../compiler/memory.js";
import { compile, planExperiments } from "../../compiler/pipeline.js";
import type { Plan, TrainStagePlan } from "../../plan/plan.js";
import { tempDir } from "../helpers.js";
import { exportText, flagPairs } from "./helpers.js";

const spec = (stageZero: string, experimentZero = "2") => `import "std"
dataset d = llava_json { annotations = "d.json"  images = "img" }
model m { vision = clip_vit_l14_336  connector = mlp2x_gelu  language = vicuna_7b_v1_5 }
stage pre { data = d  train = [connector]  batch = 256  micro_batch = 32  template = "plain" }
stage tune { data = d  train = [connector, language]  batch = 128  micro_batch = 16  gradient_checkpointing = true ${stageZero} }
experiment e { model = m  stages = [pre, tune]  zero = ${experimentZero} }
`;

function plansOf(text: string): readonly Plan[] {
  const dir = tempDir("mmfm-zero-");
  writeFileSync(join(dir, "package.json"), "{}");
  const file = join(dir, "spec.mmfm");
  writeFileSync(file, text);
  const result = compile(file);
  expect(result.diagnostics.items.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return planExperiments(result, { specPath: file, outDir: join(dir, "out") })[0].plans;
}

const trainStages = (plan: Plan) => plan.stages.filter((s): s is TrainStagePlan => s.kind === "stage");

describe("a stage's `zero`", () => {
  it("is in the plan (null when unset), in the variant's hash, and not in the stage's cache key", () => {
    const [own] = plansOf(spec("zero = 3"));
    const [inherited] = plansOf(spec(""));
    expect(trainStages(own).map((s) => s.zero)).toEqual([null, 3]);
    expect(trainStages(inherited).map((s) => s.zero)).toEqual([null, null]);
    // ZeRO partitions the same computation, as the experiment's `zero` and `devices`: the keys stay
    expect(own.stages.map((s) => s.cache_key)).toEqual(inherited.stages.map((s) => s.cache_key));
    expect(own.hash).not.toBe(inherited.hash);
  });

  it("is the ZeRO stage of the memory estimate, else the experiment's", () => {
    const [own] = plansOf(spec("zero = 3"));
    const [inherited] = plansOf(spec("", "3"));
    const [two] = plansOf(spec(""));
    const tune = (p: Plan) => trainStages(p)[1];
    const at = (p: Plan) => estimateStage(p.model, tune(p), p.cluster);
    expect(at(own)).toEqual(at(inherited));
    expect(at(own).params).toBeLessThan(at(two).params / 4);
    // the stage's own zero wins over the experiment's
    expect(estimateStage(own.model, tune(own), { ...own.cluster, zero: 0 })).toEqual(at(own));
  });

  it("counts in the smallest change that fits: more ZeRO is proposed from the stage's own", () => {
    const [two] = plansOf(spec(""));
    const [three] = plansOf(spec("zero = 3"));
    const s2 = trainStages(two)[1];
    const s3 = trainStages(three)[1];
    const z2 = estimateStage(two.model, s2, two.cluster).total;
    const z3 = estimateStage(three.model, s3, three.cluster).total;
    const cluster = { ...two.cluster, device_memory: (z2 + z3) / 2 / GiB };
    expect(fitMemory(two.model, s2, cluster)?.change).toBe("zero = 3");
    expect(fitMemory(three.model, s3, cluster)).toBeUndefined();
    // at ZeRO-3 already, the next change is not more ZeRO
    expect(fitMemory(three.model, s3, { ...cluster, device_memory: z3 / GiB - 0.5 })?.change).not.toMatch(/^zero/);
  });

  it("names the stage's DeepSpeed file, both files written beside the scripts", async () => {
    const { exports, diagnostics } = await exportText(spec("zero = 3"));
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const files = new Map(exports[0].files.map((f) => [f.path, f.text]));
    const deepspeed = (path: string) => new Map(flagPairs(files.get(path)!.replace(/\\\n/g, " ").split(/\s+/))).get("--deepspeed");
    expect(deepspeed("default/1-pre.sh")).toBe('"$EXPORT_DIR/zero2.json"');
    expect(deepspeed("default/2-tune.sh")).toBe('"$EXPORT_DIR/zero3.json"');
    expect(files.get("default/2-tune.sh")).toContain("on 8 GPUs, ZeRO-3");
    expect(JSON.parse(files.get("zero2.json")!).zero_optimization.stage).toBe(2);
    expect(JSON.parse(files.get("zero3.json")!).zero_optimization.stage).toBe(3);
  });
});
