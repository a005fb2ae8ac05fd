/**
 * Two `mmfmc run`s at once from one folder, of two specs whose experiments share a name, write the
 * same build folder (build/f/default/graph.ts). Each must run the graph it built itself: a run
 * imports the module from the text it wrote, not from the file read back (which the other run may
 * have rewritten in between: it used to end as "internal error").
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repo } from "../helpers.js";
import { runArgs, stageDir, workDir } from "./helpers.js";

function specWith(dir: string, name: string, steps: number): string {
  const path = join(dir, `${name}.mmfm`);
  writeFileSync(
    path,
    `import "std"
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b_untrained }
stage s { data = synthetic_shapes { size = 4 }, train = [connector], batch = 2, max_length = 96, steps = ${steps}, checkpoint_every = 0 }
experiment f { model = m, stages = [s] }
`,
  );
  return path;
}

function run(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(repo, "bin", "mmfmc.js"), ...args], { env: { ...process.env, NO_COLOR: "1" } });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", (d) => (stderr += d));
    child.on("close", (status) => done({ status, stderr }));
  });
}

describe("two runs writing one build folder", () => {
  it("each runs the plan of its own spec", async () => {
    const dir = workDir("mmfm-concurrent-");
    writeFileSync(join(dir, "package.json"), "{}");
    const a = specWith(dir, "a", 3);
    const b = specWith(dir, "b", 5);
    // the same build folder for both (runArgs puts it beside the runs folders)
    const [ra, rb] = await Promise.all([run(runArgs(a, join(dir, "runs-a"))), run(runArgs(b, join(dir, "runs-b")))]);
    expect(ra.status, ra.stderr).toBe(0);
    expect(rb.status, rb.stderr).toBe(0);
    const steps = (runs: string) => readFileSync(join(stageDir(runs), "log.jsonl"), "utf8").split("\n").filter(Boolean).length;
    expect(steps(join(dir, "runs-a"))).toBe(3);
    expect(steps(join(dir, "runs-b"))).toBe(5);
  });
});
