// The image reaches the answers through the vision tower and nowhere else, and the image-blind
// control measures it: a tiny model after a short run answers some questions differently when its
// images are blank; with its vision tower's weights zeroed (so its features are the same for every
// image) it scores at most its image-blind control: every answer is the one it gives blind.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { GraphModule } from "../../runtime/graph.js";
import { buildModel } from "../../runtime/models/index.js";
import { tokenizerFor } from "../../runtime/run/data.js";
import { evalStage } from "../../runtime/run/eval.js";
import { RunStore } from "../../runtime/run/store.js";
import { assignFrom } from "../../runtime/run/tensors.js";
import type { EvalStagePlan, Plan } from "../../plan/plan.js";
import { tf } from "../../runtime/tf.js";
import { mmfmc, repo, tempDir } from "../helpers.js";

const QUESTIONS = 24;
const work = tempDir("mmfm-pathway-");
const runs = join(work, "runs");
const out = join(work, "build");

interface Items {
  readonly items: readonly { readonly question_id: string; readonly prediction: string }[];
}

const predictions = (dir: string, file: string) => (JSON.parse(readFileSync(join(dir, file), "utf8")) as Items).items.map((i) => i.prediction);

describe("the vision pathway", () => {
  let plan: Plan;
  let folder: string;
  let stderr: string;

  beforeAll(() => {
    writeFileSync(join(work, "package.json"), "{}");
    const spec = join(work, "pathway.mmfm");
    writeFileSync(
      spec,
      `import "std"
dataset questions = synthetic_shapes { split = "train", size = 32, seed = 4 }
dataset test      = synthetic_shapes { split = "test", size = ${QUESTIONS}, seed = 4 }
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
stage tune { data = questions, train = [connector, language], batch = 8, steps = 30, lr = 2e-3, max_length = 96 }
eval score { data = [test], max_new_tokens = 4, batch = ${QUESTIONS}, temperature = 1 }
experiment pathway { model = m, stages = [tune, score], seed = 11 }
`,
    );
    const r = mmfmc(["run", spec, "--runs", runs, "--out", out, "--backend", "wasm"]);
    expect(r.status, r.stderr).toBe(0);
    stderr = r.stderr;
    folder = readdirSync(join(out, "pathway")).find((f) => readdirSync(join(out, "pathway", f)).includes("plan.json"))!;
    plan = JSON.parse(readFileSync(join(out, "pathway", folder, "plan.json"), "utf8"));
  });

  it("carries the image into the answers: some change when the images are blank", () => {
    const dir = join(runs, "pathway", "stages", plan.stages[1].cache_key);
    const real = predictions(dir, "test.items.json");
    const blind = predictions(dir, "test.blind.items.json");
    expect(real).toHaveLength(QUESTIONS);
    expect(blind).toHaveLength(QUESTIONS);
    expect(real.filter((p, i) => p !== blind[i]).length).toBeGreaterThan(0);
    const metrics = JSON.parse(readFileSync(join(dir, "stage.json"), "utf8")).metrics;
    for (const m of ["test.accuracy", "test.blind.accuracy", "test.majority.accuracy"]) expect(metrics[m], m).toBeGreaterThanOrEqual(0);
    const report = readFileSync(join(runs, "pathway", "report.md"), "utf8");
    expect(report).toContain("## Seeing against the controls");
    // the progress names the blind pass and prints each score with its controls
    expect(stderr).toContain(`score: test (and image-blind), ${2 * QUESTIONS} items`);
    const done = `test.accuracy ${metrics["test.accuracy"].toFixed(2)} (blind ${metrics["test.blind.accuracy"].toFixed(2)}, majority ${metrics["test.majority.accuracy"].toFixed(2)})`;
    expect(stderr).toContain(done);
  });

  it("with the vision tower zeroed, scores at most the image-blind control: the same answer to every question", async () => {
    await tf.setBackend("cpu");
    // the graph the run used; the weights are the trained ones, every parameter assigned below
    const { importGraphModule } = (await import(join(repo, "dist", "cli", "graph_import.js"))) as { importGraphModule: (path: string) => Promise<GraphModule> };
    const graph = (await importGraphModule(join(out, "pathway", folder, "graph.ts"))).model;
    const unloaded = { ...graph, vision: { ...graph.vision, config: { ...graph.vision.config, weights: null } }, language: { ...graph.language, config: { ...graph.language.config, weights: null } } } as typeof graph;
    const data = { specDir: work, cacheDir: join(runs, "pathway", "data") };
    const tokenizer = await tokenizerFor(plan, data);
    const model = await buildModel(unloaded, { seed: plan.seed, imageTokenId: tokenizer.imageTokenId, padTokenId: tokenizer.unkId ?? tokenizer.padId ?? 0 });
    try {
      assignFrom(join(runs, "pathway", "stages", plan.stages[0].cache_key, "model.safetensors"), model.parameters);
      let zeroed = 0;
      for (const [name, v] of model.parameters) {
        if (!name.startsWith("vision_tower.")) continue;
        v.assign(tf.zerosLike(v));
        zeroed++;
      }
      expect(zeroed).toBeGreaterThan(10);
      const store = new RunStore(join(work, "zeroed"));
      const stage = plan.stages[1] as EvalStagePlan;
      const record = await evalStage({ model, plan, stage, aspect: "crop", store, data, tokenizer, variant: plan.id, weightsFrom: plan.stages[0].cache_key, emit: () => {} });
      const dir = store.stageDir(stage.cache_key);
      expect(predictions(dir, "test.items.json")).toEqual(predictions(dir, "test.blind.items.json"));
      expect(record.metrics!["test.accuracy"]).toBeLessThanOrEqual(record.metrics!["test.blind.accuracy"]);
      expect(record.metrics!["test.accuracy"]).toBe(record.metrics!["test.blind.accuracy"]);
    } finally {
      model.dispose();
    }
  });
});
