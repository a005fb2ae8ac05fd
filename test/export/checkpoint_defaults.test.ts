/**
 * `checkpoint_every` left to the target (issue 13): the export writes LLaVA's `--save_steps 50000`
 * with `--save_total_limit 1`, not a full checkpoint every 50 steps of a 7B finetune; a spec's own
 * value and 0 are written as given. The plan holds null for "the target's default".
 */
import { describe, expect, it } from "vitest";
import { exportText } from "./helpers.js";

const spec = (stage: string) => `import "std"
dataset d = llava_json { annotations = "d.json", images = "img" }
model m { vision = clip_vit_l14_336, connector = mlp2x_gelu, language = gemma_7b_it }
stage finetune { data = d, train = [connector, language], batch = 128, micro_batch = 2, gradient_checkpointing = true ${stage} }
experiment e { model = m, stages = [finetune], devices = 8, device_memory = 80, zero = 3 }
`;

/** The value of each flag in the stage's script, by flag. */
async function flags(stage: string): Promise<{ flags: Map<string, string>; checkpointEvery: unknown }> {
  const { exports, diagnostics } = await exportText(spec(stage));
  expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  const script = exports[0].files.find((f) => f.path === "default/1-finetune.sh")!.text;
  const out = new Map<string, string>();
  for (const m of script.matchAll(/(--\w+) ("[^"]*"|\S+)/g)) out.set(m[1], m[2].replace(/"/g, "").replace(/\\$/, ""));
  const plan = JSON.parse(exports[0].files.find((f) => f.path === "default/plan.json")!.text);
  return { flags: out, checkpointEvery: plan.stages[0].checkpoint_every };
}

describe("checkpoint_every in the export", () => {
  it("left unset: LLaVA's --save_steps 50000 and --save_total_limit 1, null in the plan", async () => {
    const { flags: f, checkpointEvery } = await flags("");
    expect(checkpointEvery).toBeNull();
    expect([f.get("--save_strategy"), f.get("--save_steps"), f.get("--save_total_limit")]).toEqual(["steps", "50000", "1"]);
  });

  it("set: written as given", async () => {
    const { flags: f, checkpointEvery } = await flags("checkpoint_every = 500  keep_checkpoints = 2");
    expect(checkpointEvery).toBe(500);
    expect([f.get("--save_strategy"), f.get("--save_steps"), f.get("--save_total_limit")]).toEqual(["steps", "500", "2"]);
  });

  it("0: no checkpoints during the stage", async () => {
    const { flags: f } = await flags("checkpoint_every = 0");
    expect(f.get("--save_strategy")).toBe("no");
    expect(f.has("--save_steps")).toBe(false);
  });
});
