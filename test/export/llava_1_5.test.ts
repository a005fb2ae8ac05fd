/**
 * LLaVA-1.5 (examples/llava-1.5.mmfm) exported for stock haotian-liu/LLaVA: the training commands
 * equal LLaVA's scripts/v1_5/pretrain.sh and finetune.sh flag for flag, for 7B and 13B
 * (test/fixtures/llava_v1_5_scripts.json, extracted from LLaVA at c121f0432da2 by
 * test/fixtures/extract_llava_v1_5.py); then the whole export on a cluster: queued with submit.sh on a
 * stand-in Slurm, trained and evaluated on a fake machine whose checkout is a stand-in for stock LLaVA
 * (test/export/fake_llava.py), every eval command parsed by stock LLaVA's own argument parsers
 * (test/fixtures/llava_eval_args.json, `llava_scripts`), the answers merged where `mmfmc collect`
 * reads them, and collected.
 *
 * The published scripts are written for 13B; LLaVA trains 7B with the same scripts and
 * `--model_name_or_path lmsys/vicuna-7b-v1.5` (its README, "Train"). Paths are LLaVA's relative to its
 * checkout: with DATA_DIR and LLAVA_DIR the same checkout, the data paths are LLaVA's own.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ExportedExperiment } from "../../compiler/pipeline.js";
import { mmfmc, repo, tempDir } from "../helpers.js";
import { convTemplates, llavaParsers, parse } from "./argparse.js";
import { exportSpec, fakeMachine, flagPairs, writeExport } from "./helpers.js";

type Flags = [string, string | null][];

const published = JSON.parse(readFileSync(join(repo, "test", "fixtures", "llava_v1_5_scripts.json"), "utf8")) as Record<string, unknown>;
const pretrainSh = published["scripts/v1_5/pretrain.sh"] as Flags;
const finetuneSh = published["scripts/v1_5/finetune.sh"] as Flags;

/** Flags whose value is a path: LLaVA's relative to its checkout, ours under DATA_DIR, CHECKPOINTS and the export. */
const pathFlags = new Set(["--deepspeed", "--data_path", "--image_folder", "--output_dir", "--pretrain_mm_mlp_adapter"]);

describe("LLaVA-1.5 exported for stock LLaVA", () => {
  let exported: ExportedExperiment;
  let dir: string;
  let machine: ReturnType<typeof fakeMachine>;
  /** the training commands of each variant, by stage, as bash passed them to deepspeed (after train_mem.py) */
  const argv: Record<string, { pretrain: string[]; finetune: string[] }> = {};

  beforeAll(async () => {
    const { exports, diagnostics } = await exportSpec("examples/llava-1.5.mmfm", tempDir("mmfm-llava15-"));
    // no error, and no warning: both stages of both models fit in 80 GB by the estimate
    expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
    exported = exports[0];
    dir = exported.dir;
    writeExport(exported, dir);
    machine = fakeMachine(8);
    // LLaVA's scripts run in its checkout and read ./playground/data there: DATA_DIR is that checkout
    const env = { DATA_DIR: machine.stock, LLAVA_DIR: machine.stock, CUDA_VISIBLE_DEVICES: "0,1,2,3,4,5,6,7" };
    for (const variant of ["7b", "13b"]) {
      const before = machine.calls().length;
      for (const stage of ["1-pretrain.sh", "2-finetune.sh"]) {
        const r = machine.run(join(dir, variant, stage), env);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
      }
      const calls = machine.calls().slice(before);
      expect(calls.map((c) => c.slice(0, 2))).toEqual([
        ["deepspeed", "llava/train/train_mem.py"],
        ["deepspeed", "llava/train/train_mem.py"],
      ]);
      argv[variant] = { pretrain: calls[0].slice(2), finetune: calls[1].slice(2) };
    }
  });

  it("goes to stock LLaVA, every variant", () => {
    expect(exported.failed).toEqual([]);
    expect(exported.variants.map((v) => [v.dir, v.codeBase])).toEqual([
      ["7b", "llava"],
      ["13b", "llava"],
    ]);
    expect(machine.launchFolders()).toEqual(Array(4).fill(machine.stock));
  });

  for (const [variant, model] of [
    ["13b", "lmsys/vicuna-13b-v1.5"],
    ["7b", "lmsys/vicuna-7b-v1.5"],
  ] as const) {
    for (const [stage, script] of [
      ["pretrain", pretrainSh],
      ["finetune", finetuneSh],
    ] as const) {
      it(`${variant} ${stage}: the flags of scripts/v1_5/${stage}.sh in their order, the same value for every flag that is not a path`, () => {
        const ours = flagPairs(argv[variant][stage]);
        expect(ours.map(([f]) => f)).toEqual(script.map(([f]) => f));
        const theirs = script.map(([f, v]): [string, string | null] => [f, f === "--model_name_or_path" ? model : v]);
        const values = (flags: Flags) => flags.filter(([f]) => !pathFlags.has(f));
        expect(values(ours)).toEqual(values(theirs));
      });
    }

    it(`${variant}: the paths are LLaVA's, its DeepSpeed files, and the stages chained as LLaVA chains them`, () => {
      const p = new Map(flagPairs(argv[variant].pretrain));
      const f = new Map(flagPairs(argv[variant].finetune));
      const inCheckout = (relative: string | null) => resolve(machine.stock, relative!);
      for (const [ours, theirs] of [
        [p, new Map(pretrainSh)],
        [f, new Map(finetuneSh)],
      ]) {
        // --data_path and --image_folder: LLaVA's ./playground/data/... in the checkout
        expect(ours.get("--data_path")).toBe(inCheckout(theirs.get("--data_path")!));
        expect(ours.get("--image_folder")).toBe(inCheckout(theirs.get("--image_folder")!));
        // --deepspeed: LLaVA's zero2.json (pretrain) and zero3.json (finetune), beside the scripts, with LLaVA's contents
        const config = ours.get("--deepspeed")!;
        expect(basename(config)).toBe(basename(theirs.get("--deepspeed")!));
        expect(config).toBe(join(dir, basename(config)));
        expect(JSON.parse(readFileSync(config, "utf8"))).toEqual(published[`scripts/${basename(config)}`]);
        // LLaVA's load_pretrained_model needs `llava` in the model folder's name
        expect(basename(ours.get("--output_dir")!)).toBe("llava-llama");
      }
      expect(p.get("--deepspeed")).toBe(join(dir, "zero2.json"));
      expect(f.get("--deepspeed")).toBe(join(dir, "zero3.json"));
      // finetuning starts from the base model and the projector pretraining saved, as finetune.sh does
      expect(f.get("--pretrain_mm_mlp_adapter")).toBe(`${p.get("--output_dir")}/mm_projector.bin`);
      expect(f.get("--model_name_or_path")).toBe(p.get("--model_name_or_path"));
      expect(p.get("--output_dir")).toBe(join(machine.root, "checkpoints", variant, "1-pretrain", "llava-llama"));
    });
  }

  it("writes scripts bash and shellcheck accept, and a README naming LLaVA and how to install it", () => {
    const scripts = exported.files.filter((f) => f.path.endsWith(".sh") || f.path.endsWith(".sbatch")).map((f) => join(dir, f.path));
    expect(scripts.length).toBeGreaterThan(15);
    for (const s of scripts) expect(spawnSync("bash", ["-n", s], { encoding: "utf8" }), s).toMatchObject({ status: 0, stderr: "" });
    const sc = spawnSync("shellcheck", ["-x", "--format=gcc", ...scripts], { encoding: "utf8" });
    if (sc.error) throw new Error(`shellcheck could not run (${sc.error.message}): install it, e.g. apt-get install -y shellcheck`);
    expect({ status: sc.status, output: sc.stdout + sc.stderr }).toEqual({ status: 0, output: "" });
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    expect(readme).toContain("| **LLaVA** | `haotian-liu/LLaVA`, at `c121f0432da2` | `LLAVA_DIR` | 2: `7b`, `13b` |");
    expect(readme).toContain("## Install LLaVA\n");
    expect(readme).toContain("git clone https://github.com/haotian-liu/LLaVA.git\n");
    expect(readme).toContain("git -C LLaVA checkout c121f0432da27facab705978f83c4ada465e46fd\n");
    expect(readme).toMatch(/pip install -e "\.\[train\]" +# training: DeepSpeed, wandb/);
    expect(readme).not.toContain("LLaVA-Gemma");
    const env = readFileSync(join(dir, "env.sh"), "utf8");
    expect(env).toContain('# a checkout of LLaVA (haotian-liu/LLaVA)\nLLAVA_DIR="${LLAVA_DIR:-$PWD}"\n');
    // stock LLaVA has its converters: no check for copied ones
    expect(env).not.toContain("mmfm_require_llava_file");
  });
});

describe("LLaVA-1.5 on a cluster, in stock LLaVA", () => {
  let dir: string;
  let data: string;
  let machine: ReturnType<typeof fakeMachine>;
  let submit: ReturnType<ReturnType<typeof fakeMachine>["run"]>;
  const task = (script: string, index: number, gpus: string) =>
    machine.run(join(dir, script), { DATA_DIR: data, LLAVA_DIR: machine.stock, SLURM_SUBMIT_DIR: dir, SLURM_ARRAY_TASK_ID: String(index), CUDA_VISIBLE_DEVICES: gpus });
  const results = () => join(machine.root, "results");

  beforeAll(async () => {
    const { exports } = await exportSpec("examples/llava-1.5.mmfm", tempDir("mmfm-llava15-cluster-"));
    writeExport(exports[0], exports[0].dir);
    dir = exports[0].dir;
    // the benchmark fixtures in LLaVA's playground/data/eval layout (a copy: the scorers' steps write there)
    data = tempDir("mmfm-llava15-data-");
    cpSync(join(repo, "test", "fixtures", "llava_eval", "playground"), join(data, "playground"), { recursive: true });
    for (const d of ["playground/data/eval/gqa/data/eval", "playground/data/eval/MME/eval_tool"]) mkdirSync(join(data, d), { recursive: true });
    machine = fakeMachine(8);
    submit = machine.run(join(dir, "submit.sh"), { DATA_DIR: data, LLAVA_DIR: machine.stock });
    for (const i of [0, 1]) expect(task("train.sbatch", i, "0,1,2,3,4,5,6,7"), `training task ${i}`).toMatchObject({ status: 0, stderr: "" });
    for (const i of [0, 1]) {
      const r = task("eval.sbatch", i, "0,1,2,3");
      expect(r.stderr, `evaluation task ${i}`).not.toContain("failed");
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it("queues the training array, then the evaluation array task by task after it", () => {
    expect(submit.status, submit.stderr).toBe(0);
    expect(machine.calls().filter((c) => c[0] === "sbatch")).toEqual([
      ["sbatch", "--parsable", "train.sbatch"],
      ["sbatch", "--parsable", "--dependency=aftercorr:1001", "eval.sbatch"],
    ]);
    const train = readFileSync(join(dir, "train.sbatch"), "utf8");
    expect(train).toContain("#SBATCH --array=0-1\n");
    expect(train).toContain("#SBATCH --gres=gpu:8\n");
    expect(readFileSync(join(dir, "eval.sbatch"), "utf8")).toContain("LLaVA's eval code is CUDA-only");
    // four training launches, then only evaluations, all in the stock checkout
    const calls = machine.calls().filter((c) => c[0] !== "sbatch");
    expect(calls.slice(0, 4).every((c) => c[0] === "deepspeed")).toBe(true);
    expect(calls.slice(4).every((c) => c[0] === "python")).toBe(true);
    expect(machine.launchFolders()).toEqual(Array(4).fill(machine.stock));
  });

  it("runs every eval command as stock LLaVA's argument parsers accept it, as its scripts/v1_5/eval run them", () => {
    const python = machine.calls().filter((c) => c[0] === "python");
    let checked = 0;
    for (const argv of python) {
      if (argv[1].endsWith("mmfm_answers.py") || argv[1] === "eval/eval.py" || argv[1] === "convert_answer_to_mme.py" || argv[1] === "calculation.py") continue;
      const script = argv[1] === "-m" ? `${argv[2].replace(/\./g, "/")}.py` : argv[1];
      const args = argv.slice(argv[1] === "-m" ? 3 : 2);
      expect(Object.keys(llavaParsers), argv.join(" ")).toContain(script);
      const parsed = parse(script, args, "llava");
      expect(parsed, `${script} ${args.join(" ")}`).toMatchObject({ ok: true });
      if (!parsed.ok) continue;
      checked++;
      if (script.startsWith("llava/eval/model_vqa")) {
        // the fork's workarounds are not stock LLaVA's arguments: it would refuse them
        expect(args).not.toContain("--use_accelerate");
        expect(args).not.toContain("--image_dtype");
        expect(parsed.args.conv_mode).toBe("vicuna_v1");
        expect(convTemplates.llava).toContain(parsed.args.conv_mode);
        expect(parsed.args.temperature).toBe(0);
        expect(parsed.args.model_path).toMatch(/\/2-finetune\/llava-llama$/);
        expect(parsed.args.model_base).toBeNull();
        expect(parsed.args.chunk_idx as number).toBeLessThan(parsed.args.num_chunks as number);
      }
      if (script === "llava/eval/model_vqa_loader.py") expect(parsed.args.question_file).toMatch(/^.*\/playground\/data\/eval\/.*\.jsonl$/);
      if (script === "llava/eval/model_vqa_science.py") {
        // every ScienceQA question, images included, in one process as sqa.sh
        expect(parsed.args.single_pred_prompt).toBe(true);
        expect(parsed.args.question_file).toBe(join(data, "playground/data/eval/scienceqa/llava_test_CQM-A.json"));
        expect(parsed.args.num_chunks).toBe(1);
      }
    }
    const scripts = new Set(python.map((a) => (a[1] === "-m" ? a[2] : a[1])));
    for (const s of ["llava.eval.model_vqa_loader", "llava.eval.model_vqa_science", "llava/eval/eval_pope.py", "llava/eval/eval_science_qa.py", "scripts/convert_gqa_for_eval.py", "scripts/convert_vqav2_for_submission.py"]) {
      expect(scripts, s).toContain(s);
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("merges each benchmark's answers into RESULTS/VARIANT/3-benchmarks/NAME.jsonl, its own ids in question order", () => {
    const eval_ = join(data, "playground", "data", "eval");
    const ids: Record<string, unknown[]> = {
      gqa: readFileSync(join(eval_, "gqa", "llava_gqa_testdev_balanced.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).question_id),
      pope: readFileSync(join(eval_, "pope", "llava_pope_test.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).question_id),
      mme: readFileSync(join(eval_, "MME", "llava_mme.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).question_id),
      vqav2: readFileSync(join(eval_, "vqav2", "llava_vqav2_mscoco_test-dev2015.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).question_id),
      scienceqa_img: (JSON.parse(readFileSync(join(eval_, "scienceqa", "llava_test_CQM-A.json"), "utf8")) as { id: string }[]).map((p) => p.id),
    };
    for (const variant of ["7b", "13b"]) {
      const out = join(results(), variant, "3-benchmarks");
      for (const [name, expected] of Object.entries(ids)) {
        const answers = readFileSync(join(out, `${name}.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l));
        expect(answers.map((a) => a.question_id), `${variant}/${name}`).toEqual(expected);
        expect(answers[0].model_id).toBe("llava-llama");
        expect(existsSync(join(out, `${name}.txt`)), `${name}.txt`).toBe(true);
      }
    }
    // stock LLaVA writes the answers file it is given: one chunk file per GPU, none with the fork's `_0`
    expect(readdirSync(join(results(), "13b", "3-benchmarks", "gqa")).filter((f) => f.endsWith(".jsonl")).sort()).toEqual(["4_0.jsonl", "4_1.jsonl", "4_2.jsonl", "4_3.jsonl"]);
  });

  it("is what `mmfmc collect` reads: every benchmark scored, none pending", () => {
    const r = mmfmc(["collect", dir, "--results", results(), "--data", data, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const variants = JSON.parse(r.stdout).variants as { id: string; metrics: Record<string, number>; pending: string[] }[];
    expect(variants.map((v) => v.id)).toEqual(["llava_1_5/7b", "llava_1_5/13b"]);
    for (const v of variants) {
      expect(v.pending).toEqual([]);
      expect(Object.keys(v.metrics)).toEqual(expect.arrayContaining(["gqa.accuracy", "pope.accuracy", "mme.perception", "scienceqa_img.img_accuracy"]));
    }
  });

  it("stops with a message where LLAVA_DIR is not a LLaVA checkout", () => {
    const fresh = { CHECKPOINTS: tempDir("mmfm-llava15-checkpoints-") };
    const r = machine.run(join(dir, "7b", "1-pretrain.sh"), { DATA_DIR: data, LLAVA_DIR: machine.root, CUDA_VISIBLE_DEVICES: "0,1,2,3,4,5,6,7", ...fresh });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`LLAVA_DIR=${machine.root} is not a LLaVA checkout (no llava/train/train_mem.py); set LLAVA_DIR`);
  });
});
