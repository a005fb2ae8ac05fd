/**
 * Faults around `mmfmc run` (docs/reliability.md): each is reproduced for real (a signal, a file size
 * limit, a read-only folder, a stale lock, damaged files) and must end in exit 1 (or the documented
 * status) with a message naming the file and what to do, and with nothing finished lost.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { createModel } from "../../runtime/models/index.js";
import { saveModel } from "../../runtime/models/pretrained.js";
import { bootId, processStartTicks } from "../../runtime/run/lock.js";
import { driveMmfmc } from "../helpers.js";
import { deadPid, runArgs, runFaulty, seedData, snapshot, stageDir, temporaries, workDir, writeSpec } from "./helpers.js";

const work = workDir("mmfm-faults-");
const spec = writeSpec(work);
const clean = join(work, "clean");

/** The reference: the same stage run once without faults. */
let reference: { weights: Buffer; losses: number[] };

function losses(stage: string): number[] {
  return readFileSync(join(stage, "log.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).loss);
}

afterAll(() => rmSync(work, { recursive: true, force: true })); // ~100 MB of copied datasets

beforeAll(() => {
  const r = runFaulty(spec, clean);
  expect(r.status, r.stderr).toBe(0);
  const stage = stageDir(clean);
  reference = { weights: readFileSync(join(stage, "model.safetensors")), losses: losses(stage) };
});

describe("interrupted runs", () => {
  it("SIGTERM stops at a step boundary with a checkpoint and exit 143; a damaged latest checkpoint then falls back on the previous one", async () => {
    const runs = join(work, "term");
    seedData(clean, runs);
    const pointer = () => {
      try {
        return JSON.parse(readFileSync(join(stageDir(runs), "checkpoint.json"), "utf8")).step as number;
      } catch {
        return 0;
      }
    };
    // stopped once the checkpoint of step 4 is committed (the one of step 2 is kept beside it)
    const r = await driveMmfmc(runArgs(spec, runs), () => pointer() >= 4, (child) => child.kill("SIGTERM"));
    expect(r.status, r.stderr).toBe(143);
    const match = /stopped by SIGTERM at step (\d+) of 12 of stage `s` of f\/default; its checkpoint is written\n\s+help: run the same command again to resume from step \1/.exec(r.stderr);
    expect(match, r.stderr).not.toBeNull();
    const step = Number(match![1]);
    expect(step).toBeGreaterThanOrEqual(4);
    expect(step).toBeLessThan(12);
    const stage = stageDir(runs);
    expect(pointer()).toBe(step);
    expect(existsSync(join(runs, "f", ".lock"))).toBe(false); // released
    expect(existsSync(join(stage, "stage.json"))).toBe(false);
    const kept = readdirSync(stage).filter((e) => /^checkpoint-\d+$/.test(e)).map((e) => Number(e.slice(11))).sort((a, b) => a - b);
    expect(kept.length).toBe(2);
    expect(kept[1]).toBe(step);

    // the latest checkpoint loses its optimizer state: the run falls back on the one before, and ends as if nothing happened
    unlinkSync(join(stage, `checkpoint-${step}`, "optimizer.safetensors"));
    const resumed = runFaulty(spec, runs);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`passed over a damaged checkpoint: ${join(stage, `checkpoint-${step}`)}: ${join(stage, `checkpoint-${step}`, "optimizer.safetensors")} is missing`);
    expect(resumed.stderr).toContain(`resuming from the checkpoint at step ${kept[0]} instead`);
    expect(readFileSync(join(stage, "model.safetensors")).equals(reference.weights)).toBe(true);
    expect(losses(stage)).toEqual(reference.losses);
  });
});

describe("the lock and what a dead run left", () => {
  it("takes over a lock whose pid now belongs to another process, and removes the temporaries of dead runs only", () => {
    const runs = join(work, "stale");
    seedData(clean, runs);
    const dir = join(runs, "f");
    // the pid is alive (this test's process) but started at another time than the lock's holder: a reused pid
    const lock = { pid: process.pid, host: hostname(), started: "2020-01-01T00:00:00.000Z", boot: bootId(), startTicks: processStartTicks(process.pid)! - 1 };
    writeFileSync(join(dir, ".lock"), JSON.stringify(lock));
    const dead = deadPid();
    const stage = join(dir, "stages", basename(stageDir(clean))); // the same spec: the same stage key
    const orphanFile = join(stage, `model.safetensors.tmp-${dead}`);
    mkdirSync(stage, { recursive: true });
    writeFileSync(orphanFile, Buffer.alloc(1 << 20));
    const orphanFolder = join(dir, "data", `synthetic_shapes-seed9-64px-4shapes-train-4.tmp-${dead}`);
    mkdirSync(join(orphanFolder, "images"), { recursive: true });
    const live = join(dir, "variants", `default.json.tmp-${process.pid}`); // a live process's: not touched
    mkdirSync(join(dir, "variants"), { recursive: true });
    writeFileSync(live, "{}");

    const r = runFaulty(spec, runs);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`took over the lock of a run that is gone (pid ${process.pid} on ${hostname()}, started 2020-01-01T00:00:00.000Z)`);
    expect(r.stderr).toMatch(/removed 2 temporary files left by an interrupted run \(1\.0 MiB\)/);
    expect(existsSync(orphanFile)).toBe(false);
    expect(existsSync(orphanFolder)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readFileSync(join(stageDir(runs), "model.safetensors")).equals(reference.weights)).toBe(true);
  });
});

describe("environment faults", () => {
  /** A copy of the finished clean run, to show a failing run loses none of it. */
  function finished(name: string): { runs: string; before: Map<string, string> } {
    const runs = join(work, name, "runs");
    cpSync(join(clean, "f"), join(runs, "f"), { recursive: true });
    chmodSync(join(work, name), 0o777);
    return { runs, before: snapshot(join(runs, "f", "stages")) };
  }

  it("a read-only runs folder: exit 1 naming the folder, the results in it untouched", () => {
    const { runs, before } = finished("readonly");
    const lockDir = join(runs, "f");
    const modes: [string, number][] = [];
    const freeze = (p: string) => {
      modes.push([p, statSync(p).mode]);
      chmodSync(p, statSync(p).mode & ~0o222);
      if (statSync(p).isDirectory()) for (const e of readdirSync(p)) freeze(join(p, e));
    };
    freeze(lockDir);
    try {
      const r = runFaulty(spec, runs, { extra: ["--set", "s.steps=13"], asUser: true });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`cannot create the lock ${join(runs, "f", ".lock")}: permission denied (EACCES)`);
      expect(r.stderr).toContain("help: make the folder writable, or use another folder");
      expect(r.stderr).not.toContain("internal error");
    } finally {
      for (const [p, mode] of modes) chmodSync(p, mode);
    }
    expect(snapshot(join(runs, "f", "stages"))).toEqual(before);
  });

  it("a file size limit reached mid-write (as a full disk): exit 1 naming the file, no half file, no temporary", () => {
    const { runs, before } = finished("full");
    const params = statSync(join(stageDir(clean), "model.safetensors")).size;
    // every file fits under the limit but the weights (the optimizer state covers only the connector)
    const blocks = Math.floor(params / 1024) - 16;
    const r = runFaulty(spec, runs, { extra: ["--set", "s.steps=13"], shell: `ulimit -f ${blocks}` });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/cannot write \S+\/checkpoint-2\/params\.safetensors: the file is larger than this process may write \(EFBIG\)/);
    expect(r.stderr).toContain("help: raise the file size limit");
    expect(temporaries(runs)).toEqual([]);
    const stages = readdirSync(join(runs, "f", "stages"));
    expect(stages.length).toBe(2);
    const failed = stages.map((k) => join(runs, "f", "stages", k)).find((d) => !existsSync(join(d, "stage.json")))!;
    expect(existsSync(join(failed, "checkpoint.json"))).toBe(false); // nothing half-written was committed
    const kept = new Map([...snapshot(join(runs, "f", "stages"))].filter(([p]) => !p.startsWith(failed)));
    expect(kept).toEqual(before);
  });
});

describe("damaged or mismatched inputs", () => {
  it("a NaN loss stops the stage with exit 1, naming the stage, the step and the learning rate, and keeps the last good checkpoint", () => {
    const runs = join(work, "nan");
    seedData(clean, runs);
    const r = runFaulty(spec, runs, { extra: ["--set", "s.lr=1e30"] });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error: stage `s` of f\/default: the (loss|gradient norm) became (NaN|-?Infinity) at step \d+ of 12 \(learning rate [\d.e+]+ at that step\)/);
    expect(r.stderr).toContain("help: the likely cause is a learning rate too high for this model: lower `lr` of stage `s` (now 1e+30)");
    const stage = stageDir(runs);
    expect(existsSync(join(stage, "stage.json"))).toBe(false);
    const kept = /the checkpoint at step \d+ is kept in (\S+)/.exec(r.stderr);
    if (kept) expect(existsSync(join(kept[1], "params.safetensors"))).toBe(true);
  });

  it("a damaged generated tokenizer: exit 1 naming tokenizer.json and the folder to delete", () => {
    const runs = join(work, "tokenizer");
    seedData(clean, runs);
    const file = join(runs, "f", "data", "synthetic_shapes-tokenizer", "tokenizer", "tokenizer.json");
    writeFileSync(file, readFileSync(file, "utf8").slice(0, 100));
    const r = runFaulty(spec, runs);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${file} is not valid JSON`);
    expect(r.stderr).toContain(`help: this tokenizer is generated: delete ${join(runs, "f", "data", "synthetic_shapes-tokenizer")} and it is made again`);
  });

  it("pretrained weights of another architecture than the spec's: exit 1 listing the differences", async () => {
    await tf.setBackend("cpu");
    const dir = join(work, "weights");
    mkdirSync(dir);
    const other = createModel(
      { model_type: "clip_vision_model", hidden_size: 32, intermediate_size: 64, num_hidden_layers: 4, num_attention_heads: 4, patch_size: 8, image_size: 32, hidden_act: "quick_gelu" },
      { seed: 0 },
    );
    await saveModel(other, join(dir, "vit"));
    other.dispose();
    const s = writeSpec(dir, { vision: `tiny_clip_vit { weights = "vit" }` });
    const runs = join(dir, "runs");
    seedData(clean, runs);
    const r = runFaulty(s, runs);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`the weights in ${join(dir, "vit")} do not fit the described clip_vision_model`);
    expect(r.stderr).toContain("`vision_model.embeddings.class_embedding`: checkpoint [32], described architecture [64]");
    expect(r.stderr).toContain("help: make the component in the spec match");
  });

  it("a 3 GiB file that is not safetensors (a renamed PyTorch .bin) is refused from its first bytes", () => {
    const dir = join(work, "big");
    const weights = join(dir, "vit");
    mkdirSync(weights, { recursive: true });
    writeFileSync(
      join(weights, "config.json"),
      JSON.stringify({ model_type: "clip_vision_model", hidden_size: 64, intermediate_size: 256, num_hidden_layers: 4, num_attention_heads: 4, patch_size: 8, image_size: 32, hidden_act: "quick_gelu" }),
    );
    // sparse: a zip archive's first bytes, then 3 GiB of holes
    const file = join(weights, "model.safetensors");
    writeFileSync(file, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x08]));
    truncateSync(file, 3 * 1024 ** 3);
    try {
      const s = writeSpec(dir, { vision: `tiny_clip_vit { weights = "vit" }` });
      const runs = join(dir, "runs");
      seedData(clean, runs);
      const r = runFaulty(s, runs);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${file}: the header claims`);
      expect(r.stderr).toContain("the file starts like a zip archive, as a PyTorch `.bin`/`.pt` checkpoint does: convert it to safetensors");
    } finally {
      rmSync(file);
    }
  });
});
