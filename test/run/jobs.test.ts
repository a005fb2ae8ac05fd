/**
 * `mmfmc run --jobs N`: variants side by side in worker threads. The same bytes as one after the other,
 * every stage computed once (variants sharing a stage still to compute go to the same worker), a stop
 * reaching every worker, and a failing variant's error as the run's.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { driveMmfmc, mmfmc, repo, tempDir } from "../helpers.js";

const spec = join(repo, "test", "cases", "run", "micro_jobs.mmfm");

function stagesDir(runs: string): string {
  return join(runs, "micro", "stages");
}

/** Every file of every stage but the logs (which hold timings), by `KEY/NAME`. */
function results(runs: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const dir = stagesDir(runs);
  for (const key of readdirSync(dir)) {
    for (const name of readdirSync(join(dir, key))) {
      if (name === "log.jsonl" || name === "stage.json" || name === "start.json") continue;
      out.set(`${key}/${name}`, readFileSync(join(dir, key, name)));
    }
  }
  return out;
}

describe("mmfmc run --jobs", () => {
  const work = tempDir("mmfm-jobs-");
  const sequential = join(work, "one");
  const parallel = join(work, "two");

  it("gives the same bytes as running the variants one after the other, and computes each stage once", () => {
    const one = mmfmc(["run", spec, "--runs", sequential, "--out", join(work, "build1"), "--backend", "wasm"]);
    expect(one.status, one.stderr).toBe(0);
    const two = mmfmc(["run", spec, "--runs", parallel, "--out", join(work, "build2"), "--backend", "wasm", "--jobs", "2"]);
    expect(two.status, two.stderr).toBe(0);
    // 2 pretraining stages (each shared by two variants) + 4 finetuning stages; the sharing variant finds its pretraining done
    for (const r of [one, two]) expect(r.stderr).toContain("4 variants in");
    for (const r of [one, two]) expect(r.stderr).toContain("6 stages trained, 4 evaluated, 2 cached");
    expect(two.stderr).toMatch(/cached\s+\S+ pretrain \(computed by /);
    // side by side, every stage line names its variant
    expect(two.stderr).toMatch(/train\s+\S+ finetune: synthetic_shapes train/);
    const a = results(sequential);
    const b = results(parallel);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    expect(a.size).toBeGreaterThan(10);
    for (const [name, bytes] of a) expect(b.get(name)!.equals(bytes), name).toBe(true);
    expect(readFileSync(join(parallel, "micro", "report.csv"), "utf8")).toBe(readFileSync(join(sequential, "micro", "report.csv"), "utf8"));
  });

  it("a run with nothing left to compute starts no worker and reports every stage cached", () => {
    const r = mmfmc(["run", spec, "--runs", parallel, "--out", join(work, "build2"), "--backend", "wasm", "--jobs", "2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("0 stages trained, 0 evaluated, 12 cached");
  });

  it("SIGTERM stops every worker at a step boundary with a checkpoint; the next run ends with the same bytes", async () => {
    const runs = join(work, "term");
    const checkpoints = () => (existsSync(stagesDir(runs)) ? readdirSync(stagesDir(runs)).filter((k) => existsSync(join(stagesDir(runs), k, "checkpoint.json"))).length : 0);
    const r = await driveMmfmc(["run", spec, "--runs", runs, "--out", join(work, "build3"), "--backend", "wasm", "--jobs", "2"], () => checkpoints() >= 2, (child) => child.kill("SIGTERM"));
    expect(r.status, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/stopped by SIGTERM (at step \d+ of \d+|before the first step|between stages|during)/);
    expect(existsSync(join(runs, "micro", ".lock"))).toBe(false);
    const again = mmfmc(["run", spec, "--runs", runs, "--out", join(work, "build3"), "--backend", "wasm", "--jobs", "2"]);
    expect(again.status, again.stderr).toBe(0);
    const a = results(sequential);
    const b = results(runs);
    for (const [name, bytes] of a) expect(b.get(name)?.equals(bytes), name).toBe(true);
  });

  it("a variant that fails makes the run fail with its message; the other worker stops, and what it did serves the next run", () => {
    const broken = join(work, "broken.mmfm");
    const text = readFileSync(spec, "utf8")
      .replace('dataset test ', 'dataset nowhere = llava_json { annotations = "no-such-file.json" }\ndataset test ')
      .replace("    pretrain.lr: [1e-3, 3e-3]\n", "    pretrain.data: { good = captions, bad = nowhere }\n");
    writeFileSync(broken, text);
    const runs = join(work, "broken");
    const r = mmfmc(["run", broken, "--runs", runs, "--out", join(work, "build4"), "--backend", "wasm", "--jobs", "2"]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain("cannot find `no-such-file.json`");
    expect(r.stderr).not.toContain("internal error");
    expect(existsSync(join(runs, "micro", ".lock"))).toBe(false);
    // the bad pretraining failed at its start: none of the bad variants' stages has a result
    const good = mmfmc(["run", broken, "--runs", runs, "--out", join(work, "build4"), "--backend", "wasm", "--jobs", "2", "--only", "pretrain.data=good"]);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stderr).toMatch(/2 variants in .*: \d stages? trained, 2 evaluated/);
  });
});
