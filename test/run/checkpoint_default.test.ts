/**
 * `checkpoint_every` left to the target: `mmfmc run` (the tfjs runtime) writes a checkpoint every 50
 * steps (runtime/run/train.ts `defaultCheckpointEvery`), the plan holding null.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { driveMmfmc, tempDir } from "../helpers.js";

describe("checkpoint_every left unset on the tfjs runtime", () => {
  it("checkpoints at step 50", async () => {
    const work = tempDir("mmfm-every-");
    writeFileSync(join(work, "package.json"), "{}");
    const spec = join(work, "every.mmfm");
    writeFileSync(
      spec,
      `import "std"
model m { vision = tiny_clip_vit, connector = mlp2x_gelu, language = tiny_gemma_2b }
stage s { data = synthetic_shapes { size = 4 }, train = [connector], batch = 2, max_length = 96, steps = 56 }
experiment every { model = m, stages = [s] }
`,
    );
    const runs = join(work, "runs");
    const stages = join(runs, "every", "stages");
    const pointer = () => {
      const keys = existsSync(stages) ? readdirSync(stages) : [];
      return keys.length === 1 && existsSync(join(stages, keys[0], "checkpoint.json")) ? join(stages, keys[0], "checkpoint.json") : undefined;
    };
    const r = await driveMmfmc(["run", spec, "--runs", runs, "--out", join(work, "build"), "--backend", "wasm"], () => pointer() !== undefined, (child) => child.kill("SIGKILL"));
    expect(r.signal).toBe("SIGKILL");
    expect(JSON.parse(readFileSync(pointer()!, "utf8"))).toMatchObject({ step: 50 });
    const plan = JSON.parse(readFileSync(join(work, "build", "every", "default", "plan.json"), "utf8"));
    expect(plan.stages[0].checkpoint_every).toBeNull();
  });
});
