// kill -9 in the middle of an evaluation loses no answer and repeats none: the next run resumes from
// the answers file and ends with exactly the file of an uninterrupted run (sampled answers, so the
// resumed questions must draw from the same per-question streams).
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mmfmc, repo, tempDir } from "../helpers.js";

const QUESTIONS = 60;

describe("an evaluation killed with kill -9", () => {
  it("resumes from its answers file: none lost, none repeated, the same bytes as an uninterrupted run", async () => {
    const work = tempDir("mmfm-evalkill-");
    writeFileSync(join(work, "package.json"), "{}");
    const spec = join(work, "slow.mmfm");
    writeFileSync(
      spec,
      `import "std"
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
eval answers { data = [synthetic_shapes { split = "test", size = ${QUESTIONS} }], max_new_tokens = 6, batch = 1, temperature = 1, top_p = 0.9 }
experiment slow { model = m, stages = [answers], seed = 5 }
`,
    );
    const args = (runs: string) => ["run", spec, "--runs", runs, "--out", join(work, "build"), "--backend", "wasm"];
    const clean = join(work, "clean");
    expect(mmfmc(args(clean)).status).toBe(0);
    const [key] = readdirSync(join(clean, "slow", "stages"));
    const file = (runs: string) => join(runs, "slow", "stages", key, "synthetic_shapes.answers.jsonl");
    const uninterrupted = readFileSync(file(clean), "utf8");
    expect(uninterrupted.split("\n").filter(Boolean)).toHaveLength(QUESTIONS);
    expect(new Set(uninterrupted.split("\n").filter(Boolean).map((l) => JSON.parse(l).text)).size).toBeGreaterThan(1); // sampled, not all alike

    // the same runs folder without the evaluation (the generated data kept), run and killed mid-evaluation
    const killed = join(work, "killed");
    cpSync(clean, killed, { recursive: true });
    rmSync(join(killed, "slow", "stages", key), { recursive: true });
    const child = spawn(process.execPath, [join(repo, "bin", "mmfmc.js"), ...args(killed)], { stdio: "ignore" });
    const exited = new Promise((r) => child.once("exit", r));
    let atKill = "";
    try {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && child.exitCode === null) {
        const text = existsSync(file(killed)) ? readFileSync(file(killed), "utf8") : "";
        if (text.split("\n").length > 3) break; // at least three answers written
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill("SIGKILL");
      await exited;
      atKill = readFileSync(file(killed), "utf8");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    expect(child.signalCode, "the evaluation finished before it could be killed").toBe("SIGKILL");
    expect(existsSync(join(killed, "slow", "stages", key, "stage.json"))).toBe(false);
    const complete = atKill.slice(0, atKill.lastIndexOf("\n") + 1);
    const answeredBefore = complete.split("\n").filter(Boolean).length;
    expect(answeredBefore).toBeGreaterThanOrEqual(3);
    expect(answeredBefore).toBeLessThan(QUESTIONS);

    const resumed = mmfmc(args(killed));
    expect(resumed.status, resumed.stderr).toBe(0);
    const after = readFileSync(file(killed), "utf8");
    expect(after.startsWith(complete)).toBe(true); // what was written before the kill is kept as it was
    expect(after).toBe(uninterrupted);
  });
});
