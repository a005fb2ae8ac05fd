/**
 * The code base of each variant (compiler/export/code_bases.ts): stock LLaVA for LLaMA/Vicuna with CLIP
 * on GPUs, LLaVA-Gemma for Gemma, DINOv2 or Gaudi; an export using both, its checkouts and Python
 * environments; and one variant's failure as that variant's error, the others still written.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chooseCodeBase } from "../../compiler/export/index.js";
import { compile, planExperiments } from "../../compiler/pipeline.js";
import { mmfmc, tempDir } from "../helpers.js";
import { exportText, fakeMachine, flagPairs, writeExport } from "./helpers.js";

/** One experiment over vision towers and language models; `extra` goes into the experiment. */
const grid = (vision: string, language: string, extra = "") => `import "std"
dataset d = llava_json { annotations = "d.json"  images = "img" }
model m { vision = clip_vit_l14_336  connector = mlp2x_gelu  language = vicuna_7b_v1_5 }
stage s { data = d  train = [connector]  batch = 64  micro_batch = 1  template = "plain" }
stage t { data = d  train = [connector, language]  batch = 64  micro_batch = 1  gradient_checkpointing = true  zero = 3 }
eval b { data = [pope] }
experiment e {
  model = m
  stages = [s, t, b]
  ${extra}
  ablate {
    model.vision: ${vision}
    model.language: ${language}
  }
}
`;

function specFile(text: string): string {
  const dir = tempDir("mmfm-codebase-");
  writeFileSync(join(dir, "package.json"), "{}");
  const file = join(dir, "spec.mmfm");
  writeFileSync(file, text);
  return file;
}

describe("the code base of a variant", () => {
  it("is stock LLaVA for LLaMA with CLIP on GPUs, LLaVA-Gemma for Gemma, DINOv2 or Gaudi", () => {
    const file = specFile(grid("{ clip = clip_vit_l14_336, dino = dinov2_vit_l14 }", "{ vicuna = vicuna_7b_v1_5, gemma = gemma_2b_it }"));
    const gaudi = specFile(grid("{ clip = clip_vit_l14_336 }", "{ vicuna = vicuna_7b_v1_5 }").replace("stage s {", 'stage s { accelerator = "gaudi"'));
    const chosen = (f: string) => {
      const result = compile(f);
      return Object.fromEntries(planExperiments(result, { specPath: f, outDir: tempDir() })[0].plans.map((p) => [p.id.split("/")[1], chooseCodeBase(p).id]));
    };
    expect(chosen(file)).toEqual({ "clip-vicuna": "llava", "clip-gemma": "llava-gemma", "dino-vicuna": "llava-gemma", "dino-gemma": "llava-gemma" });
    // stock LLaVA has no Gaudi: the fork, which trains LLaMA too
    expect(chosen(gaudi)).toEqual({ "clip-vicuna": "llava-gemma" });
  });
});

describe("an export with variants in both code bases", () => {
  it("runs each variant in its own checkout, each with its Python environment, from one Slurm chain", async () => {
    const { exports, diagnostics } = await exportText(grid("{ clip = clip_vit_l14_336, dino = dinov2_vit_l14 }", "{ vicuna = vicuna_7b_v1_5 }", "devices = 4"));
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const e = exports[0];
    expect(e.variants.map((v) => [v.dir, v.codeBase])).toEqual([
      ["clip-vicuna", "llava"],
      ["dino-vicuna", "llava-gemma"],
    ]);
    const dir = join(tempDir("mmfm-mixed-"), "e");
    writeExport(e, dir);
    const env = readFileSync(join(dir, "env.sh"), "utf8");
    expect(env).toContain('LLAVA_DIR="${LLAVA_DIR:-$PWD}"\n');
    expect(env).toContain('LLAVA_GEMMA_DIR="${LLAVA_GEMMA_DIR:-}"\n');
    expect(readFileSync(join(dir, "submit.sh"), "utf8")).toContain("export MMFM_EXPORT_DIR=\"$here\" DATA_DIR LLAVA_DIR LLAVA_GEMMA_DIR CHECKPOINTS RESULTS\nexport LLAVA_ACTIVATE LLAVA_GEMMA_ACTIVATE\n");
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    expect(readme).toContain("## Install LLaVA\n");
    expect(readme).toContain("## Install LLaVA-Gemma\n");
    expect(readme).toContain("| **LLaVA** | `haotian-liu/LLaVA`, at `c121f0432da2` | `LLAVA_DIR` | 1: `clip-vicuna` |");
    expect(readme).toContain("| **LLaVA-Gemma** | `IntelLabs/multimodal_cognitive_ai`, folder `LLaVA-Gemma`, at `d1f2acc39b68` | `LLAVA_GEMMA_DIR` | 1: `dino-vicuna` |");

    const machine = fakeMachine(4);
    // each checkout's environment: a script that notes it was sourced
    const activate = (name: string) => {
      const path = join(machine.root, `${name}-activate`);
      writeFileSync(path, `echo ${name} >> "${join(machine.root, "activated.log")}"\n`);
      return path;
    };
    const run = { DATA_DIR: "/data", LLAVA_DIR: machine.stock, LLAVA_GEMMA_DIR: machine.llava, CUDA_VISIBLE_DEVICES: "0,1,2,3", LLAVA_ACTIVATE: activate("llava"), LLAVA_GEMMA_ACTIVATE: activate("llava-gemma") };
    for (const v of ["clip-vicuna", "dino-vicuna"]) expect(machine.run(join(dir, v, "train.sh"), run), v).toMatchObject({ status: 0, stderr: "" });
    expect(machine.launchFolders()).toEqual([machine.stock, machine.stock, machine.llava, machine.llava]);
    expect(readFileSync(join(machine.root, "activated.log"), "utf8")).toBe("llava\nllava\nllava-gemma\nllava-gemma\n");
    // both train a LLaMA: `--version v1` in both, LLaVA's name for conv_vicuna_v1
    const versions = machine.calls().map((c) => new Map(flagPairs(c)).get("--version"));
    expect(versions).toEqual(["plain", "v1", "plain", "v1"]);
    // the evaluations: each code base's eval code, with the fork's workarounds only for the fork
    const data = tempDir("mmfm-mixed-data-");
    const pope = join(data, "playground/data/eval/pope");
    mkdirSync(join(pope, "val2014"), { recursive: true });
    writeFileSync(join(pope, "llava_pope_test.jsonl"), [1, 2, 3].map((i) => JSON.stringify({ question_id: i, image: `${i}.jpg`, text: "Is there a dog?" })).join("\n") + "\n");
    for (const i of [1, 2, 3]) writeFileSync(join(pope, "val2014", `${i}.jpg`), "");
    for (const v of ["clip-vicuna", "dino-vicuna"]) expect(machine.run(join(dir, v, "eval.sh"), { ...run, DATA_DIR: data }), v).toMatchObject({ status: 0 });
    const loaders = machine.calls().filter((c) => c[2] === "llava.eval.model_vqa_loader");
    expect(loaders.length).toBeGreaterThanOrEqual(2);
    for (const c of loaders) expect(c.includes("--use_accelerate"), c.join(" ")).toBe(c.some((w) => w.includes("/dino-vicuna/")));
    for (const v of ["clip-vicuna", "dino-vicuna"]) {
      const answers = readFileSync(join(machine.root, "results", v, "3-b", "pope.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(answers.map((a) => a.question_id)).toEqual([1, 2, 3]);
    }
  });

  it("refuses to run a fork variant until LLAVA_GEMMA_DIR names the fork's checkout", async () => {
    const { exports } = await exportText(grid("{ clip = clip_vit_l14_336, dino = dinov2_vit_l14 }", "{ vicuna = vicuna_7b_v1_5 }", "devices = 4"));
    const dir = join(tempDir("mmfm-mixed-"), "e");
    writeExport(exports[0], dir);
    const machine = fakeMachine(4);
    const r = machine.run(join(dir, "dino-vicuna", "1-s.sh"), { DATA_DIR: "/data", LLAVA_DIR: machine.stock, CUDA_VISIBLE_DEVICES: "0,1,2,3" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("LLAVA_GEMMA_DIR= is not a LLaVA-Gemma checkout (no llava/train/train_mem.py); set LLAVA_GEMMA_DIR");
    expect(machine.calls()).toEqual([]);
  });
});

describe("a variant the trainer cannot run", () => {
  const spec = grid("{ clip = clip_vit_l14_336, siglip = siglip_so400m_p14_384 }", "{ vicuna = vicuna_7b_v1_5, tiny = tiny_llama }", "devices = 4");

  it("is that variant's error: the others are exported, the failed ones listed", async () => {
    const { exports, diagnostics } = await exportText(spec);
    const e = exports[0];
    expect(e.variants.map((v) => v.dir)).toEqual(["clip-vicuna"]);
    expect(e.failed).toEqual(["e/clip-tiny", "e/siglip-vicuna", "e/siglip-tiny"]);
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toEqual(expect.arrayContaining(["E0504"]));
    // nothing of the failed variants is written, and the shared files know only the exported one
    const paths = e.files.map((f) => f.path);
    expect(paths.filter((p) => /^(clip-tiny|siglip-)/.test(p))).toEqual([]);
    expect(paths).toContain("clip-vicuna/plan.json");
    const sbatch = e.files.find((f) => f.path === "train.sbatch")!.text;
    expect(/variants=\(\n([^)]*)\)/.exec(sbatch)![1].trim()).toBe("clip-vicuna");
    expect(sbatch).toContain("#SBATCH --array=0\n");
  });

  it("makes `mmfmc export` write the others and exit 1, naming the variants not exported", () => {
    const file = specFile(spec);
    const out = join(tempDir(), "out");
    const r = mmfmc(["export", file, "--target", "llava", "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error[E0504]: the LLaVA trainer cannot express a SigLIP vision tower");
    expect(r.stderr).toContain("1 variant exported for llava (LLaVA)");
    expect(r.stderr).toContain("✗ 3 variants not exported (the errors above say why): `e/clip-tiny`, `e/siglip-vicuna`, `e/siglip-tiny`");
    expect(existsSync(join(out, "e", "clip-vicuna", "1-s.sh"))).toBe(true);
    expect(existsSync(join(out, "e", "siglip-vicuna"))).toBe(false);
    const json = mmfmc(["export", file, "--target", "llava", "--out", out, "--json"]);
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout).experiments[0];
    expect(report.variants.map((v: { id: string; codeBase: string }) => [v.id, v.codeBase])).toEqual([["e/clip-vicuna", "llava"]]);
    expect(report.failed).toEqual(["e/clip-tiny", "e/siglip-vicuna", "e/siglip-tiny"]);
    expect(report.unchanged.length).toBeGreaterThan(5);
  });

  it("removes what an earlier export wrote for a variant that now fails", () => {
    const good = specFile(grid("{ clip = clip_vit_l14_336 }", "{ vicuna = vicuna_7b_v1_5, v13 = vicuna_13b_v1_5 }", "devices = 4"));
    const out = join(tempDir(), "out");
    expect(mmfmc(["export", good, "--target", "llava", "--out", out]).status).toBe(0);
    expect(existsSync(join(out, "e", "clip-v13", "run.sh"))).toBe(true);
    // the 13B variant now names a checkpoint folder train.py would load as MPT
    writeFileSync(good, readFileSync(good, "utf8").replace("v13 = vicuna_13b_v1_5", 'v13 = vicuna_13b_v1_5 { weights = "ckpt/mpt-13b" }'));
    const r = mmfmc(["export", good, "--target", "llava", "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("1 stale variant removed");
    expect(existsSync(join(out, "e", "clip-v13"))).toBe(false);
    expect(existsSync(join(out, "e", "clip-vicuna", "run.sh"))).toBe(true);
  });
});
