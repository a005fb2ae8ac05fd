import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { temporaries } from "../faults/helpers.js";
import { driveMmfmc, mmfmc, repo, tempDir } from "../helpers.js";

const spec = join(repo, "test", "cases", "run", "micro.mmfm");

function stageDirs(runs: string): string[] {
  const dir = join(runs, "micro", "stages");
  return existsSync(dir) ? readdirSync(dir) : [];
}

function record(runs: string, key: string) {
  return JSON.parse(readFileSync(join(runs, "micro", "stages", key, "stage.json"), "utf8"));
}

function plans(out: string) {
  const dir = join(out, "micro");
  return readdirSync(dir)
    .filter((f) => existsSync(join(dir, f, "plan.json")))
    .map((f) => JSON.parse(readFileSync(join(dir, f, "plan.json"), "utf8")));
}

describe("mmfmc run", () => {
  const work = tempDir("mmfm-run-");
  const runs = join(work, "runs");
  const out = join(work, "build");

  it("trains a shared prefix once, evaluates every variant, and writes the report", () => {
    const r = mmfmc(["run", spec, "--runs", runs, "--out", out, "--backend", "wasm"]);
    expect(r.stderr).toContain("2 variants");
    expect(r.status).toBe(0);
    const [a, b] = plans(out);
    // the two variants differ only in finetune.lr: pretrain has one key, computed once
    expect(a.stages[0].cache_key).toBe(b.stages[0].cache_key);
    expect(a.stages[1].cache_key).not.toBe(b.stages[1].cache_key);
    expect(stageDirs(runs).sort()).toEqual([a.stages[0].cache_key, a.stages[1].cache_key, a.stages[2].cache_key, b.stages[1].cache_key, b.stages[2].cache_key].sort());
    expect(r.stderr).toMatch(/cached\s+pretrain \(computed by /);
    expect(r.stderr).toContain("3 stages trained, 2 evaluated, 1 cached");
    const pretrain = record(runs, a.stages[0].cache_key);
    expect(pretrain.steps).toBe(6);
    expect(Number.isFinite(pretrain.finalLoss)).toBe(true);
    const evaluation = record(runs, a.stages[2].cache_key);
    expect(Object.keys(evaluation.metrics)).toContain("test.accuracy");
    const report = readFileSync(join(runs, "micro", "report.md"), "utf8");
    expect(report).toContain("| variant | finetune.lr | test.accuracy");
    expect(report).toMatch(/\| 2e-3 \| [+-]\d/);
    expect(readFileSync(join(runs, "micro", "report.csv"), "utf8").split("\n")[0]).toContain("delta test.accuracy");
    expect(readFileSync(join(runs, "micro", "loss.svg"), "utf8")).toContain("<polyline");
    const json = JSON.parse(readFileSync(join(runs, "micro", "report.json"), "utf8"));
    expect(json.effects["finetune.lr"]["2e-3 vs 1e-3"]["test.accuracy"].pairs).toBe(1);
  });

  it("does no work when run again on an unchanged spec", () => {
    const before = stageDirs(runs).map((k) => readFileSync(join(runs, "micro", "stages", k, "stage.json"), "utf8"));
    const r = mmfmc(["run", spec, "--runs", runs, "--out", out, "--backend", "wasm"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("0 stages trained, 0 evaluated, 6 cached");
    expect(stageDirs(runs).map((k) => readFileSync(join(runs, "micro", "stages", k, "stage.json"), "utf8"))).toEqual(before);
  });

  it("refuses a second run on the same folder while one holds it", () => {
    const lock = join(runs, "micro", ".lock");
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), started: "now" }));
    try {
      const r = mmfmc(["run", spec, "--runs", runs, "--out", out, "--backend", "wasm"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`another mmfmc run (pid ${process.pid}`);
      expect(r.stderr).toContain(`help: wait for it to finish; if no mmfmc run is using this folder, delete ${lock}`);
    } finally {
      rmSync(lock);
    }
  });

  it("refuses a variant too large for the backend before training, with the numbers", () => {
    const big = join(work, "big.mmfm");
    writeFileSync(
      big,
      `import "std"
model m { vision = clip_vit_l14_336, connector = mlp2x_gelu, language = gemma_2b }
stage s { data = shapes_train, train = [connector, language], batch = 2 }
experiment huge { model = m, stages = [s] }
`,
    );
    const r = mmfmc(["run", big, "--runs", runs, "--out", out, "--backend", "wasm"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refused huge\/default: stage `s` needs about [\d.]+ GiB/);
    expect(r.stderr).toContain("holds at most 4.0 GiB");
    expect(r.stderr).toContain("mmfmc export");
    expect(existsSync(join(runs, "huge", "stages"))).toBe(false);
  });
});

describe("resuming after kill -9", () => {
  it("continues the interrupted stage from its checkpoint and ends with the weights of an uninterrupted run", async () => {
    const work = tempDir("mmfm-resume-");
    const clean = join(work, "clean");
    const killed = join(work, "killed");
    const only = ["--only", "finetune.lr=1e-3", "--backend", "wasm", "--out", join(work, "build")];
    expect(mmfmc(["run", spec, "--runs", clean, ...only]).status).toBe(0);

    // run the same elsewhere and kill it once the finetune stage has a checkpoint (the key is the clean run's)
    const finetuneKey = JSON.parse(readFileSync(join(work, "build", "micro", "1e-3", "plan.json"), "utf8")).stages[1].cache_key as string;
    const stage = join(killed, "micro", "stages", finetuneKey);
    const r = await driveMmfmc(
      ["run", spec, "--runs", killed, ...only],
      () => existsSync(join(stage, "checkpoint.json")),
      (child) => child.kill("SIGKILL"),
    );
    expect(r.signal).toBe("SIGKILL");
    expect(existsSync(join(killed, "micro", "stages", finetuneKey, "checkpoint.json"))).toBe(true);
    expect(existsSync(join(killed, "micro", "stages", finetuneKey, "stage.json"))).toBe(false);
    // the stale lock of the killed run is taken over
    const resumed = mmfmc(["run", spec, "--runs", killed, ...only]);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/finetune: .*resuming from step \d/);
    expect(resumed.stderr).toMatch(/cached\s+pretrain/);
    const a = readFileSync(join(clean, "micro", "stages", finetuneKey, "model.safetensors"));
    const b = readFileSync(join(killed, "micro", "stages", finetuneKey, "model.safetensors"));
    expect(b.equals(a)).toBe(true);
    const logA = readFileSync(join(clean, "micro", "stages", finetuneKey, "log.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).loss);
    const logB = readFileSync(join(killed, "micro", "stages", finetuneKey, "log.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).loss);
    expect(logB).toEqual(logA);
    expect(temporaries(killed)).toEqual([]); // what the kill left mid-write is cleaned
  });
});

describe("mmfmc run on bad data", () => {
  it("stops with exit 1 and a message naming the file, the sample and the field", () => {
    const dir = tempDir("mmfm-bad-");
    writeFileSync(join(dir, "package.json"), "{}");
    writeFileSync(join(dir, "bad.json"), JSON.stringify([{ id: "a", image: "missing.png", conversations: [{ from: "human", value: "<image>\nQ" }, { from: "gpt", value: "A" }] }]));
    // the tokenizer comes from a synthetic dataset the spec also uses
    writeFileSync(
      join(dir, "bad.mmfm"),
      `import "std"
dataset d = llava_json { annotations = "bad.json", images = "." }
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
stage warm { data = synthetic_shapes { size = 4 }, train = [connector], batch = 4, max_length = 96 }
stage s { data = d, train = [connector], batch = 1 }
experiment bad { model = m, stages = [warm, s] }
`,
    );
    const r = mmfmc(["run", join(dir, "bad.mmfm"), "--runs", join(dir, "runs"), "--out", join(dir, "build"), "--backend", "wasm"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("bad.json: sample 0 (id `a`), field `image`: the image file does not exist");
    expect(r.stderr).not.toContain("internal error");
  });
});
