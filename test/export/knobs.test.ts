/**
 * The training knobs of issue 12 in the export: LoRA and the connector's learning rate as train.py's
 * `--lora_enable --lora_r --lora_alpha [--lora_dropout]` and `--mm_projector_lr` (LLaVA's
 * scripts/v1_5/finetune_lora.sh flag for flag, test/fixtures/llava_v1_5_scripts.json at c121f0432da2),
 * `group_by_modality` as `--group_by_modality_length True`; an evaluation after a LoRA stage loads the
 * adapters over the stage's base model. Every training command exported here parses with the real
 * train.py's argument dataclasses of its code base (test/fixtures/llava_train_args.json). What neither
 * train.py has is refused per variant: export.test.ts, "what the LLaVA trainer cannot express".
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ExportedExperiment } from "../../compiler/pipeline.js";
import { repo, tempDir } from "../helpers.js";
import { parseTrain } from "./argparse.js";
import { exportSpec, exportText, fakeMachine, flagPairs, writeExport } from "./helpers.js";

type Flags = [string, string | null][];
const published = JSON.parse(readFileSync(join(repo, "test", "fixtures", "llava_v1_5_scripts.json"), "utf8")) as Record<string, unknown>;
const finetuneLoraSh = published["scripts/v1_5/finetune_lora.sh"] as Flags;
/** Flags whose value is a path: LLaVA's relative to its checkout, ours under DATA_DIR, CHECKPOINTS and the export. */
const pathFlags = new Set(["--deepspeed", "--data_path", "--image_folder", "--output_dir", "--pretrain_mm_mlp_adapter"]);

/** examples/llava-1.5.mmfm with its finetune as scripts/v1_5/finetune_lora.sh trains it. */
function llavaLora(): string {
  const text = readFileSync(join(repo, "examples", "llava-1.5.mmfm"), "utf8");
  const finetune = "  lr       = 2e-5\n";
  expect(text.split(finetune)).toHaveLength(2);
  return text.replace(finetune, "  lr       = 2e-4\n  lora = true  lora_r = 128  lora_alpha = 256  connector_lr = 2e-5\n");
}

/** Exports and writes a spec, runs every variant's train.sh on a fake machine: each variant's deepspeed commands (after train_mem.py) and the folder each ran in. */
async function trainCommands(text: string) {
  const dir = tempDir("mmfm-knobs-");
  const spec = join(dir, "spec.mmfm");
  writeFileSync(join(dir, "package.json"), "{}");
  writeFileSync(spec, text);
  const { exports, diagnostics } = await exportSpec(spec, join(dir, "out"));
  const e = exports[0];
  writeExport(e, e.dir);
  const machine = fakeMachine(8);
  const commands: Record<string, { argv: string[]; folder: string }[]> = {};
  for (const v of e.variants) {
    const before = machine.calls().length;
    const r = machine.run(join(e.dir, v.dir, "train.sh"), { DATA_DIR: dir, LLAVA_DIR: v.codeBase === "llava" ? machine.stock : machine.llava, CUDA_VISIBLE_DEVICES: "0,1,2,3,4,5,6,7" });
    expect(r.stderr, v.id).toBe("");
    expect(r.status, v.id).toBe(0);
    const folders = machine.launchFolders().slice(before);
    commands[v.dir] = machine
      .calls()
      .slice(before)
      .map((c, i) => ({ argv: c.slice(2), folder: folders[i] }));
  }
  return { exported: e, diagnostics, commands, machine };
}

describe("LoRA as LLaVA's scripts/v1_5/finetune_lora.sh", () => {
  let exported: ExportedExperiment;
  let finetune: Flags;
  let pretrain: Flags;

  beforeAll(async () => {
    const r = await trainCommands(llavaLora());
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
    exported = r.exported;
    [pretrain, finetune] = r.commands["13b"].map((c) => flagPairs(c.argv));
    // every training command parses with stock LLaVA's train.py
    for (const c of Object.values(r.commands).flat()) expect(parseTrain("llava", c.argv)).toMatchObject({ ok: true });
  });

  it("13b finetune: the flags of finetune_lora.sh in their order, the same value for every flag that is not a path", () => {
    expect(finetune.map(([f]) => f)).toEqual(finetuneLoraSh.map(([f]) => f));
    const values = (flags: Flags) => flags.filter(([f]) => !pathFlags.has(f));
    expect(values(finetune)).toEqual(values(finetuneLoraSh));
    // from the base model and the pretrained projector, as finetune_lora.sh
    const f = new Map(finetune);
    expect(f.get("--pretrain_mm_mlp_adapter")).toBe(`${new Map(pretrain).get("--output_dir")}/mm_projector.bin`);
    expect(f.get("--deepspeed")!.endsWith("/zero3.json")).toBe(true);
  });

  it("saves into a folder whose name holds `llava` and `lora`, and evaluates the adapters over the base model", () => {
    const f = new Map(finetune);
    expect(f.get("--output_dir")!.endsWith("/2-finetune/llava-llama-lora")).toBe(true);
    const gqa = exported.files.find((x) => x.path === "13b/3-benchmarks/gqa.sh")!.text;
    // load_pretrained_model: `lora` in the name and a --model-base rebuild the model, merging the adapters
    expect(gqa).toMatch(/--model-path "\$CHECKPOINTS\/13b\/2-finetune\/llava-llama-lora"/);
    expect(gqa).toMatch(/--model-base lmsys\/vicuna-13b-v1\.5/);
    const readme = exported.files.find((x) => x.path === "README.md")!.text;
    expect(readme).toContain("`llava-llama-lora`");
    expect(readme).toContain("and `lora` for LoRA adapters, which an evaluation loads with `--model-base`");
    // the pretrain stage writes none of the knobs
    expect(pretrain.map(([k]) => k).filter((k) => /lora|mm_projector_lr/.test(k))).toEqual([]);
  });
});

describe("the knobs' flags", () => {
  const spec = (language: string, template: string, stage: string, vision = "clip_vit_l14_336") => `import "std"
dataset d = llava_json { annotations = "d.json"  images = "img" }
model m { vision = ${vision}  connector = mlp2x_gelu  language = ${language}  template = "${template}" }
stage s { data = d  batch = 64  micro_batch = 8  ${stage} }
experiment e { model = m  stages = [s] }
`;
  const flagsOf = async (text: string) => {
    const r = await trainCommands(text);
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    const [only] = Object.values(r.commands);
    expect(only).toHaveLength(1);
    const codeBase = r.exported.variants[0].codeBase;
    expect(parseTrain(codeBase, only[0].argv), only[0].argv.join(" ")).toMatchObject({ ok: true });
    return { codeBase, flags: new Map(flagPairs(only[0].argv)), argv: only[0].argv };
  };

  it("LoRA with its own dropout, rank and alpha; the connector's learning rate; modality grouping (stock LLaVA)", async () => {
    const { codeBase, flags, argv } = await flagsOf(
      spec("vicuna_7b_v1_5", "vicuna_v1", "train = [connector, language]  lr = 2e-4  lora = true  lora_r = 8  lora_alpha = 32  lora_dropout = 0.1  connector_lr = 3e-5  group_by_modality = true"),
    );
    expect(codeBase).toBe("llava");
    expect(argv.slice(0, 10)).toEqual(["--lora_enable", "True", "--lora_r", "8", "--lora_alpha", "32", "--lora_dropout", "0.1", "--mm_projector_lr", "3e-5"]);
    expect(flags.get("--learning_rate")).toBe("2e-4");
    expect(flags.get("--group_by_modality_length")).toBe("True");
    expect(flags.has("--freeze_mm_mlp_adapter")).toBe(false);
  });

  it("LoRA at LLaVA's defaults writes rank and alpha as finetune_lora.sh does, not the dropout", async () => {
    const { argv } = await flagsOf(spec("vicuna_7b_v1_5", "vicuna_v1", "train = [connector, language]  lora = true"));
    expect(argv.slice(0, 6)).toEqual(["--lora_enable", "True", "--lora_r", "64", "--lora_alpha", "16"]);
    expect(argv).not.toContain("--lora_dropout");
    expect(argv).not.toContain("--mm_projector_lr");
  });

  it("LoRA on the language model alone: the projector frozen, so no connector learning rate", async () => {
    const { flags } = await flagsOf(spec("vicuna_7b_v1_5", "vicuna_v1", "train = [language]  lora = true  connector_lr = 1e-4"));
    expect(flags.get("--lora_enable")).toBe("True");
    expect(flags.get("--freeze_mm_mlp_adapter")).toBe("True");
    expect(flags.has("--mm_projector_lr")).toBe(false);
  });

  it("a connector learning rate without LoRA, in the projector-only stage", async () => {
    const { flags } = await flagsOf(spec("vicuna_7b_v1_5", "plain", "train = [connector]  connector_lr = 1e-3"));
    expect(flags.get("--mm_projector_lr")).toBe("1e-3");
    expect(flags.get("--tune_mm_mlp_adapter")).toBe("True");
  });

  it("a vision learning rate with the tower frozen changes nothing: exported, no flag", async () => {
    const { argv } = await flagsOf(spec("vicuna_7b_v1_5", "plain", "train = [connector]  vision_lr = 1e-6"));
    expect(argv.filter((a) => /vision_tower_lr|unfreeze/.test(a))).toEqual([]);
  });

  it("LoRA of Gemma in LLaVA-Gemma, whose train.py has the same arguments", async () => {
    const { codeBase, argv, flags } = await flagsOf(spec("gemma_2b_it", "gemma", "train = [connector, language]  lora = true  lora_r = 16  lora_alpha = 32  connector_lr = 2e-5"));
    expect(codeBase).toBe("llava-gemma");
    expect(argv.slice(0, 8)).toEqual(["--lora_enable", "True", "--lora_r", "16", "--lora_alpha", "32", "--mm_projector_lr", "2e-5"]);
    expect(flags.get("--output_dir")!.endsWith("/llava-gemma-lora")).toBe(true);
  });

  it("LoRA with the connector frozen after a full finetune: evaluated over that checkpoint, which holds the projector", async () => {
    const { exports, diagnostics } = await exportText(`import "std"
dataset d = llava_json { annotations = "d.json"  images = "img" }
model m { vision = clip_vit_l14_336  connector = mlp2x_gelu  language = vicuna_7b_v1_5  template = "vicuna_v1" }
stage t { data = d  batch = 64  micro_batch = 8  train = [connector, language] }
stage s { data = d  batch = 64  micro_batch = 8  train = [language]  lora = true }
eval q { data = [pope] }
experiment e { model = m  stages = [t, s, q] }
`);
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    const pope = exports[0].files.find((f) => f.path === "default/3-q/pope.sh")!.text;
    expect(pope).toMatch(/--model-path "\$CHECKPOINTS\/default\/2-s\/llava-llama-lora"/);
    expect(pope).toMatch(/--model-base "\$CHECKPOINTS\/default\/1-t\/llava-llama"/);
  });

  it("parseTrain refuses what train.py would refuse", () => {
    expect(parseTrain("llava", ["--lora_enable", "Sure"])).toMatchObject({ ok: false });
    expect(parseTrain("llava", ["--lora_r", "1.5"])).toMatchObject({ ok: false });
    expect(parseTrain("llava", ["--mm_vision_tower_lr", "2e-6"])).toMatchObject({ ok: false, error: "unrecognized arguments: --mm_vision_tower_lr" });
    expect(parseTrain("llava", ["--unfreeze_mm_vision_tower", "True"])).toMatchObject({ ok: false });
    expect(parseTrain("llava", ["--use_habana"])).toMatchObject({ ok: false });
    expect(parseTrain("llava-gemma", ["--use_habana"])).toMatchObject({ ok: true });
  });
});

describe("the training commands of the examples and the export cases parse with their code base's train.py", () => {
  for (const example of ["examples/llava-1.5.mmfm", "examples/llava-gemma.mmfm", "test/cases/export/gpu-chain.mmfm", "test/cases/export/language-section1.mmfm"]) {
    it(example, async () => {
      const { exports } = await exportSpec(example, tempDir("mmfm-knobs-example-"));
      let checked = 0;
      for (const e of exports) {
        for (const v of e.variants) {
          for (const s of v.stages.filter((x) => x.kind === "stage")) {
            const text = e.files.find((f) => f.path === s.scripts[0])!.text;
            const argv = commandWords(text);
            expect(argv).toContain("--model_name_or_path");
            expect(parseTrain(v.codeBase, argv), `${v.id} ${s.name}`).toMatchObject({ ok: true });
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(3);
    });
  }
});

/** The words after `deepspeed llava/train/train_mem.py` of a stage script, as bash passes them (its variables unset). */
function commandWords(script: string): string[] {
  const start = script.indexOf("deepspeed llava/train/train_mem.py");
  expect(start).toBeGreaterThanOrEqual(0);
  const command = script.slice(start, script.indexOf("\n\n", start));
  const r = spawnSync("bash", ["-c", `deepspeed() { printf '%s\\0' "$@"; }\n${command}`], { encoding: "utf8", env: { PATH: process.env.PATH } });
  expect(r.status, r.stderr).toBe(0);
  const words = r.stdout.split("\0").slice(0, -1);
  expect(words[0]).toBe("llava/train/train_mem.py");
  return words.slice(1);
}
