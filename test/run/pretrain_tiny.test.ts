/**
 * The pretrained tiny backbones (std/weights, written by `npm run pretrain-tiny` from
 * examples/pretrain-tiny.mmfm): the shipped files are the ones the recipe recorded, the tiny presets
 * reach them from a spec anywhere, and the recipe gives the same bytes twice (on a shortened recipe:
 * the full one takes minutes).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compile, planExperiments } from "../../compiler/pipeline.js";
import { repo, tempDir } from "../helpers.js";

const weights = join(repo, "std", "weights");
const PRESETS = ["tiny_clip_vit", "tiny_dinov2", "tiny_gemma_2b", "tiny_gemma_7b"];

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split("\\").join("/"))
    .sort();
}

describe("the shipped tiny weights", () => {
  it("are the files the pretraining recipe recorded, byte for byte", () => {
    const manifest = JSON.parse(readFileSync(join(weights, "manifest.json"), "utf8")) as { recipe: string; set: string[]; files: Record<string, string> };
    expect(manifest.recipe).toBe("examples/pretrain-tiny.mmfm");
    expect(manifest.set).toEqual([]); // the full recipe, not a shortened one
    expect(filesUnder(weights).filter((f) => f !== "manifest.json")).toEqual(Object.keys(manifest.files).sort());
    for (const [file, hash] of Object.entries(manifest.files)) expect(`${file} ${sha256(join(weights, file))}`).toBe(`${file} ${hash}`);
    for (const preset of PRESETS) {
      expect(existsSync(join(weights, preset, "config.json"))).toBe(true);
      expect(existsSync(join(weights, preset, "model.safetensors"))).toBe(true);
    }
    // the language models carry the tokenizer they were trained with
    expect(existsSync(join(weights, "tiny_gemma_2b", "tokenizer.json"))).toBe(true);
  });

  it("are what the tiny presets load, from a spec in any folder", () => {
    const elsewhere = tempDir("mmfm-presets-");
    mkdirSync(join(elsewhere, "deep", "er"), { recursive: true });
    const spec = join(elsewhere, "deep", "er", "uses.mmfm");
    writeFileSync(
      spec,
      `import "std"
model m { vision = tiny_dinov2, connector = mlp2x_gelu, language = tiny_gemma_7b, template = "gemma" }
stage s { data = shapes_train, train = [connector] }
experiment e { model = m, stages = [s] }
`,
    );
    const compilation = compile(spec);
    expect(compilation.diagnostics.items.filter((d) => d.severity === "error")).toEqual([]);
    const plan = planExperiments(compilation, { specPath: spec, outDir: join(elsewhere, "build") })[0].plans[0];
    // relative to the spec's folder, as every path of a plan
    expect(resolve(join(elsewhere, "deep", "er"), plan.model.vision.weights!)).toBe(join(weights, "tiny_dinov2"));
    expect(resolve(join(elsewhere, "deep", "er"), plan.model.language.weights!)).toBe(join(weights, "tiny_gemma_7b"));
  });
});

describe("npm run pretrain-tiny", () => {
  it("writes the same bytes on a second run from the same seed (a shortened recipe)", () => {
    const work = tempDir("mmfm-pretrain-");
    const short = [
      ...[
        "captions.size=8",
        "scenes.size=8",
        "scenes_in_words.size=8",
        "questions_in_words.size=8",
        "contrastive.batch=8",
        "self_distillation.batch=8",
        "language_modelling.batch=8",
        "instruction_tuning.batch=8",
      ].flatMap((s) => ["--set", s]),
    ];
    const run = (out: string, ...extra: string[]) =>
      spawnSync(process.execPath, [join(repo, "scripts", "pretrain-tiny.js"), "--out", out, "--threads", "1", ...short, ...extra], { encoding: "utf8" });
    const first = run(join(work, "a"));
    expect(first.status, first.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(work, "a", "manifest.json"), "utf8"));
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(PRESETS.flatMap((p) => [`${p}/config.json`, `${p}/model.safetensors`])));
    // --check pretrains again into a fresh folder and compares every hash with the manifest
    const again = run(join(work, "a"), "--check");
    expect(again.stderr).toMatch(/all \d+ files equal/);
    expect(again.status).toBe(0);
    // and tells when a file differs
    writeFileSync(join(work, "a", "manifest.json"), JSON.stringify({ ...manifest, files: { ...manifest.files, "tiny_dinov2/model.safetensors": "0".repeat(64) } }));
    const changed = run(join(work, "a"), "--check");
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain("tiny_dinov2/model.safetensors");

    // --only: one backbone pretrained again (here with another recipe), the others' files kept, the
    // manifest recording every file there
    writeFileSync(join(work, "a", "manifest.json"), JSON.stringify(manifest));
    cpSync(join(work, "a"), join(work, "b"), { recursive: true });
    const one = run(join(work, "b"), "--only", "tiny_dinov2", "--set", "self_distillation.lr=2e-3");
    expect(one.status, one.stderr).toBe(0);
    const after = JSON.parse(readFileSync(join(work, "b", "manifest.json"), "utf8"));
    expect(after.only).toEqual(["tiny_dinov2"]);
    expect(Object.keys(after.files).sort()).toEqual(Object.keys(manifest.files).sort());
    for (const [file, hash] of Object.entries(after.files as Record<string, string>)) {
      expect(createHash("sha256").update(readFileSync(join(work, "b", file))).digest("hex"), file).toBe(hash);
      if (file.startsWith("tiny_dinov2/")) continue;
      expect(hash, `${file} is kept`).toBe(manifest.files[file]);
    }
    expect(after.files["tiny_dinov2/model.safetensors"]).not.toBe(manifest.files["tiny_dinov2/model.safetensors"]);
    // and --check --only compares that backbone's files alone
    const checked = run(join(work, "b"), "--check", "--only", "tiny_dinov2", "--set", "self_distillation.lr=2e-3");
    expect(checked.stderr).toMatch(/all \d+ files of tiny_dinov2 equal/);
    expect(checked.status).toBe(0);
    expect(run(join(work, "b"), "--only", "tiny_bert").status).toBe(2);
  }, 360_000);
});
