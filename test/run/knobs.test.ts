/**
 * The knobs of issue 12 on the tfjs runtime, end to end through `mmfmc run`: one stage with LoRA on the
 * language model, a trained vision tower at its own rate, the connector at its own rate, a 1:3 mixture
 * of two datasets and modality-length grouping; then an evaluation of what the stage left. The stage
 * writes its adapters (exactly the count `mmfmc grid` shows) and merged weights of the plain
 * architecture; the frozen weights stay as they were; killed and resumed, it ends with the bytes of an
 * uninterrupted run (dropout masks, the mixture's draw and the batch order are functions of the seed).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readTensors } from "../../runtime/run/tensors.js";
import { driveMmfmc, mmfmc, tempDir } from "../helpers.js";

const SPEC = `import "std"
dataset captions  = synthetic_shapes { split = "caption", size = 12, seed = 3 }
dataset questions = synthetic_shapes { split = "train", size = 4, seed = 3 }
dataset test      = synthetic_shapes { split = "test", size = 4, seed = 3 }
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
stage tune {
  data = [captions, questions]
  mixture = [1, 3]
  train = [vision, connector, language]
  lr = 1e-3
  connector_lr = 2e-3
  vision_lr = 1e-4
  lora = true
  lora_r = 4
  lora_alpha = 8
  lora_dropout = 0.1
  group_by_modality = true
  batch = 4
  micro_batch = 2
  max_length = 96
  checkpoint_every = 2
}
eval score { data = [test], max_new_tokens = 2, batch = 4 }
experiment knobs { model = m, stages = [tune, score], seed = 5 }
`;

describe("the knobs on the tfjs runtime", () => {
  const work = tempDir("mmfm-knobs-");
  writeFileSync(join(work, "package.json"), "{}");
  const spec = join(work, "knobs.mmfm");
  writeFileSync(spec, SPEC);
  const build = ["--out", join(work, "build"), "--backend", "wasm"];
  const plan = () => JSON.parse(readFileSync(join(work, "build", "knobs", "default", "plan.json"), "utf8"));

  it("trains the adapters, the connector and the vision tower, merges, and evaluates the merged model", () => {
    const runs = join(work, "clean");
    const r = mmfmc(["run", spec, "--runs", runs, ...build]);
    expect(r.stderr).not.toContain("error");
    expect(r.status).toBe(0);
    const p = plan();
    const tune = p.stages[0];
    // 12 + 4 samples in batches of 4
    expect(tune.steps).toBe(4);
    const dir = join(runs, "knobs", "stages", tune.cache_key);
    expect(JSON.parse(readFileSync(join(dir, "stage.json"), "utf8")).steps).toBe(4);

    // the adapters as trained: 7 linear layers x 2 decoder layers, A and B each, exactly what grid counts
    const adapters = readTensors(join(dir, "adapters.safetensors"));
    expect(adapters.size).toBe(28);
    const count = [...adapters.values()].reduce((n, t) => n + t.data.length, 0);
    expect(count).toBe(tune.trainable - p.model.params.vision - p.model.params.connector);
    expect(count).toBe(4 * 2 * 1376);
    const b = adapters.get("language_model.model.layers.1.mlp.down_proj.lora_B.weight")!;
    expect(Array.from(b.data).some((v) => v !== 0)).toBe(true);

    // merged: the plain architecture; the frozen language norms (zeros at initialisation) untouched,
    // the trained vision tower's first layer norm (ones at initialisation) moved
    const weights = readTensors(join(dir, "model.safetensors"));
    expect([...weights.keys()].filter((k) => k.includes("lora_"))).toEqual([]);
    expect(Array.from(weights.get("language_model.model.layers.0.input_layernorm.weight")!.data).every((v) => v === 0)).toBe(true);
    expect(Array.from(weights.get("language_model.model.norm.weight")!.data).every((v) => v === 0)).toBe(true);
    expect(Array.from(weights.get("vision_tower.vision_model.pre_layrnorm.weight")!.data).some((v) => v !== 1)).toBe(true);

    const score = JSON.parse(readFileSync(join(runs, "knobs", "stages", p.stages[1].cache_key, "stage.json"), "utf8"));
    expect(Object.keys(score.metrics)).toContain("test.accuracy");
  });

  it("resumes after kill -9 to the bytes of the uninterrupted run", async () => {
    const runs = join(work, "killed");
    const key = plan().stages[0].cache_key as string;
    const dir = join(runs, "knobs", "stages", key);
    const r = await driveMmfmc(
      ["run", spec, "--runs", runs, ...build],
      () => existsSync(join(dir, "checkpoint.json")),
      (child) => child.kill("SIGKILL"),
    );
    expect(r.signal).toBe("SIGKILL");
    const resumed = mmfmc(["run", spec, "--runs", runs, ...build]);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/tune: .*resuming from step 2/);
    const clean = join(work, "clean", "knobs", "stages", key);
    for (const file of ["model.safetensors", "adapters.safetensors"]) {
      expect(readFileSync(join(dir, file)).equals(readFileSync(join(clean, file))), file).toBe(true);
    }
  });
});
