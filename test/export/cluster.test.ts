/**
 * The exported folder on a cluster: copied away from the machine that wrote it, queued with submit.sh
 * on a stand-in Slurm, its training tasks and then its evaluation tasks run on a fake machine whose
 * `python` behaves like LLaVA-Gemma's eval scripts (test/export/fake_llava.py), on benchmark files in
 * LLaVA's layout made here. Every eval command is parsed with the fork's own argument parsers
 * (test/fixtures/llava_eval_args.json, test/export/argparse.ts).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ExportedExperiment } from "../../compiler/pipeline.js";
import { tempDir } from "../helpers.js";
import { parse, parsers } from "./argparse.js";
import { exportSpec, fakeMachine, writeExport } from "./helpers.js";

type Json = Record<string, unknown>;

/** Benchmark files in LLaVA's playground/data/eval layout, a few questions each, images included. */
function benchmarks(root: string): Record<string, Json[]> {
  const eval_ = join(root, "playground", "data", "eval");
  const file = (path: string, text = "") => {
    mkdirSync(dirname(join(eval_, path)), { recursive: true });
    writeFileSync(join(eval_, path), text);
  };
  const jsonl = (path: string, rows: Json[]) => file(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const short = "\nAnswer the question using a single word or phrase.";
  // GQA: string ids
  const gqa = Array.from({ length: 12 }, (_, i) => ({ question_id: `2013${i}51`, image: `n${i}.jpg`, text: `Is it red ${i}?${short}`, category: "default" }));
  jsonl("gqa/llava_gqa_testdev_balanced.jsonl", gqa);
  gqa.forEach((q) => file(`gqa/data/images/${q.image}`));
  file("gqa/data/eval/eval.py");
  // VQAv2: int ids; 9 questions over 4 GPUs are 3 chunks for LLaVA's split_list
  const vqav2 = Array.from({ length: 9 }, (_, i) => ({ question_id: 262144000 + i * 5, image: `COCO_test2015_${i}.jpg`, text: `What is it ${i}?${short}`, category: "default" }));
  jsonl("vqav2/llava_vqav2_mscoco_test-dev2015.jsonl", vqav2);
  jsonl("vqav2/llava_vqav2_mscoco_test2015.jsonl", vqav2);
  vqav2.forEach((q) => file(`vqav2/test2015/${q.image}`));
  // POPE: int ids from 1; question 10 is where the fork's logging fails without --use_accelerate
  const pope = Array.from({ length: 12 }, (_, i) => ({ question_id: i + 1, image: `COCO_val2014_${i}.jpg`, text: `Is there a dog in the image?`, category: ["adversarial", "popular", "random"][i % 3] }));
  jsonl("pope/llava_pope_test.jsonl", pope);
  pope.forEach((q) => file(`pope/val2014/${q.image}`));
  for (const c of ["adversarial", "popular", "random"]) file(`pope/coco/coco_pope_${c}.json`);
  // MME: string ids, images under the release folder
  const mme = Array.from({ length: 10 }, (_, i) => ({ question_id: `code_reasoning/00${20 + (i >> 1)}.png`, image: `code_reasoning/00${20 + (i >> 1)}.png`, text: `Is a c++ code shown ${i}? Please answer yes or no.`, category: "code_reasoning" }));
  jsonl("MME/llava_mme.jsonl", mme);
  mme.forEach((q) => file(`MME/MME_Benchmark_release_version/${q.image}`));
  file("MME/convert_answer_to_mme.py");
  file("MME/eval_tool/calculation.py");
  // ScienceQA: LLaVA's llava_test_CQM-A.json, problems with and without an image
  const sqa = Array.from({ length: 7 }, (_, i) => ({
    id: String(4 + i * 3),
    conversations: [{ from: "human", value: `${i % 2 === 0 ? "<image>\n" : ""}Context: c${i}\nWhich is it?\nA. x\nB. y` }, { from: "gpt", value: "A" }],
    ...(i % 2 === 0 ? { image: `${4 + i * 3}/image.png` } : {}),
  }));
  file("scienceqa/llava_test_CQM-A.json", JSON.stringify(sqa));
  sqa.forEach((q) => "image" in q && file(`scienceqa/images/test/${q.image}`));
  return { gqa, vqav2, pope, mme, scienceqa_img: sqa };
}

const readJsonl = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Json);

describe("an exported GPU experiment on a cluster", () => {
  let exported: ExportedExperiment;
  let dir: string;
  let data: string;
  let questions: Record<string, Json[]>;
  let machine: ReturnType<typeof fakeMachine>;
  let submit: ReturnType<ReturnType<typeof fakeMachine>["run"]>;
  const task = (script: string, index: number, gpus: string) =>
    machine.run(join(dir, script), { DATA_DIR: data, SLURM_SUBMIT_DIR: dir, SLURM_ARRAY_TASK_ID: String(index), CUDA_VISIBLE_DEVICES: gpus });

  beforeAll(async () => {
    // written on one machine, copied to another, the first copy gone
    const made = tempDir("mmfm-made-");
    ({ exports: [exported] } = await exportSpec("test/cases/export/gpu-chain.mmfm", made));
    writeExport(exported, exported.dir);
    dir = join(tempDir("mmfm-cluster-"), "gpu_chain");
    cpSync(exported.dir, dir, { recursive: true });
    rmSync(made, { recursive: true, force: true });
    data = tempDir("mmfm-data-");
    questions = benchmarks(data);
    machine = fakeMachine(4);
    submit = machine.run(join(dir, "submit.sh"), { DATA_DIR: data });
    // Slurm runs the training tasks, then (their dependency met) the evaluation tasks
    for (const i of [0, 1]) expect(task("train.sbatch", i, "0,1,2,3"), `training task ${i}`).toMatchObject({ status: 0 });
    for (const i of [0, 1]) {
      const r = task("eval.sbatch", i, "0,1,2,3");
      expect(r.stderr, `evaluation task ${i}`).not.toContain("failed");
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it("queues the training array, then the evaluation array task by task after it (aftercorr)", () => {
    expect(submit.status, submit.stderr).toBe(0);
    const sbatch = machine.calls().filter((c) => c[0] === "sbatch");
    expect(sbatch).toEqual([
      ["sbatch", "--parsable", "train.sbatch"],
      ["sbatch", "--parsable", "--dependency=aftercorr:1001", "eval.sbatch"],
    ]);
    expect(submit.stderr).toContain("training queued: job 1001");
    const train = readFileSync(join(dir, "train.sbatch"), "utf8");
    const evals = readFileSync(join(dir, "eval.sbatch"), "utf8");
    // aftercorr pairs task i of eval.sbatch with task i of train.sbatch: the same variant in both
    const variants = (text: string) => /variants=\(\n([^)]*)\)/.exec(text)![1].trim().split(/\s+/);
    expect(variants(evals)).toEqual(variants(train));
    expect(variants(train)).toEqual(["2e-5", "1e-5"]);
    expect(train).toContain("#SBATCH --array=0-1\n");
    expect(evals).toContain("#SBATCH --array=0-1\n");
    expect(train).toMatch(/exec bash "\$EXPORT_DIR\/\$variant\/train\.sh"/);
    expect(evals).toMatch(/exec bash "\$EXPORT_DIR\/\$variant\/eval\.sh"/);
    // the defaults: 4 GPUs, 8 CPUs each, two days to train; one GPU for 12 hours to evaluate
    expect(train).toContain("#SBATCH --time=2-00:00:00\n#SBATCH --cpus-per-task=32\n#SBATCH --gres=gpu:4\n");
    expect(evals).toContain("#SBATCH --time=12:00:00\n#SBATCH --cpus-per-task=8\n#SBATCH --gres=gpu:1\n");
    expect(train + evals).not.toContain("--partition");
  });

  it("trains in the training tasks and evaluates only in the evaluation tasks", () => {
    const calls = machine.calls().filter((c) => c[0] !== "sbatch");
    const firstEval = calls.findIndex((c) => c[0] === "python");
    expect(firstEval).toBeGreaterThan(0);
    expect(calls.slice(0, firstEval).every((c) => c[0] === "deepspeed")).toBe(true);
    expect(calls.slice(firstEval).every((c) => c[0] === "python")).toBe(true);
    // align is shared: trained once; tune and polish per variant
    expect(calls.slice(0, firstEval)).toHaveLength(5);
  });

  it("runs every eval command as the fork's argument parsers accept it", () => {
    const python = machine.calls().filter((c) => c[0] === "python");
    let checked = 0;
    for (const argv of python) {
      if (argv[1].endsWith("mmfm_answers.py") || argv[1] === "eval/eval.py" || argv[1] === "convert_answer_to_mme.py" || argv[1] === "calculation.py") continue;
      const script = argv[1] === "-m" ? `${argv[2].replace(/\./g, "/")}.py` : argv[1];
      const args = argv.slice(argv[1] === "-m" ? 3 : 2);
      expect(Object.keys(parsers), argv.join(" ")).toContain(script);
      const parsed = parse(script, args);
      expect(parsed, `${script} ${args.join(" ")}`).toMatchObject({ ok: true });
      if (!parsed.ok) continue;
      checked++;
      if (script === "llava/eval/model_vqa_loader.py") {
        // the accelerator the fork's logging needs; bf16 images for the bf16 model; never `False` for a bool flag
        expect(parsed.args.use_accelerate).toBe(true);
        expect(args[args.indexOf("--use_accelerate") + 1]).toBe("True");
        expect(parsed.args.image_dtype).toBe("bfloat16");
        expect(parsed.args.temperature).toBe(0);
        expect(["gemma", "plain"]).toContain(parsed.args.conv_mode);
        expect(parsed.args.chunk_idx as number).toBeLessThan(parsed.args.num_chunks as number);
      }
      if (script === "llava/eval/model_vqa_science.py") expect(parsed.args.single_pred_prompt).toBe(true);
    }
    const scripts = new Set(python.map((a) => (a[1] === "-m" ? a[2] : a[1])));
    for (const s of ["llava.eval.model_vqa_loader", "llava.eval.model_vqa_science", "llava/eval/eval_pope.py", "llava/eval/eval_science_qa.py", "scripts/convert_gqa_for_eval.py", "scripts/convert_vqav2_for_submission.py"]) {
      expect(scripts, s).toContain(s);
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("leaves each benchmark's answers with its own ids, in question order, beside the scorer's output", () => {
    for (const [variant, stage, names] of [
      ["2e-5", "2-early", ["pope"]],
      ["1e-5", "5-final", ["gqa", "vqav2", "mme", "scienceqa_img"]],
    ] as const) {
      for (const name of names) {
        const out = join(machine.root, "results", variant, stage);
        const answers = readJsonl(join(out, `${name}.jsonl`));
        const ids = questions[name].map((q) => ("question_id" in q ? q.question_id : q.id));
        expect(answers.map((a) => a.question_id), `${variant}/${stage}/${name}`).toEqual(ids);
        for (const a of answers) expect(Object.keys(a)).toEqual(["question_id", "prompt", "text", "answer_id", "model_id", "metadata"]);
        expect(answers[0].model_id).toBe("llava-gemma");
        expect(existsSync(join(out, `${name}.txt`)), `${name}.txt`).toBe(true);
      }
    }
    // ScienceQA's prompts are model_vqa_science's whichever script answered
    const sqa = readJsonl(join(machine.root, "results", "1e-5", "5-final", "scienceqa_img.jsonl"));
    expect(sqa[0].prompt).toBe("<image>\nContext: c0\nWhich is it?\nA. x\nB. y\nAnswer with the option's letter from the given choices directly.");
    expect(sqa[1].prompt).toBe("Context: c1\nWhich is it?\nA. x\nB. y\nAnswer with the option's letter from the given choices directly.");
    // each line is what Python's json.dumps writes, as LLaVA's scripts write it
    const line = readFileSync(join(machine.root, "results", "1e-5", "5-final", "gqa.jsonl"), "utf8").split("\n")[0];
    expect(line).toBe('{"question_id": "2013051", "prompt": "Is it red 0?\\nAnswer the question using a single word or phrase.", "text": "Yes", "answer_id": "fake", "model_id": "llava-gemma", "metadata": {}}');
  });

  it("splits the questions over the visible GPUs as LLaVA does, never into a chunk the fork cannot make", () => {
    const loaders = machine.calls().filter((c) => c[2] === "llava.eval.model_vqa_loader");
    const of = (folder: string) => loaders.filter((c) => c[c.indexOf("--image-folder") + 1].includes(folder));
    const flag = (c: string[], f: string) => c[c.indexOf(f) + 1];
    // 4 GPUs: 12 GQA questions are 4 chunks of 3; 9 VQAv2 questions only 3 chunks of 3 (LLaVA's split_list)
    // (the chunks run in parallel: their order in the log is any)
    const split = (folder: string) => of(folder).map((c) => `${flag(c, "--chunk-idx")}/${flag(c, "--num-chunks")}`).sort();
    expect(split("/gqa/")).toEqual(["0/4", "0/4", "1/4", "1/4", "2/4", "2/4", "3/4", "3/4"]);
    expect(split("/vqav2/")).toEqual(["0/3", "0/3", "1/3", "1/3", "2/3", "2/3"]);
    // each on one GPU of the task's
    expect(readFileSync(join(dir, "1e-5", "5-final", "gqa.sh"), "utf8")).toContain("CUDA_VISIBLE_DEVICES=${GPULIST[$IDX]} python -m llava.eval.model_vqa_loader");
  });

  it("gives the official converters what they read", () => {
    const python = machine.calls().filter((c) => c[0] === "python");
    const gqa = python.find((c) => c[1] === "scripts/convert_gqa_for_eval.py")!;
    expect(gqa[gqa.indexOf("--src") + 1]).toBe(join(machine.root, "results", "2e-5", "5-final", "gqa.jsonl"));
    expect(gqa[gqa.indexOf("--dst") + 1]).toBe(join(data, "playground/data/eval/gqa/data/testdev_balanced_predictions.json"));
    const vqa = python.find((c) => c[1] === "scripts/convert_vqav2_for_submission.py")!;
    const vqaDir = vqa[vqa.indexOf("--dir") + 1];
    const split = vqa[vqa.indexOf("--split") + 1];
    const ckpt = vqa[vqa.indexOf("--ckpt") + 1];
    expect(split).toBe("llava_vqav2_mscoco_test-dev2015");
    expect(readFileSync(join(vqaDir, "answers", split, ckpt, "merge.jsonl"), "utf8")).toBe(readFileSync(join(machine.root, "results", "2e-5", "5-final", "vqav2.jsonl"), "utf8"));
    expect(existsSync(join(vqaDir, "llava_vqav2_mscoco_test2015.jsonl"))).toBe(true);
    // MME's converter reads answers/CKPT.jsonl in the MME folder
    const ckptMme = "gpu_chain-1e-5-final";
    expect(readFileSync(join(data, "playground/data/eval/MME/answers", `${ckptMme}.jsonl`), "utf8")).toBe(readFileSync(join(machine.root, "results", "1e-5", "5-final", "mme.jsonl"), "utf8"));
  });

  it("starts every answers file afresh when a benchmark runs again (the fork appends)", () => {
    const again = task("eval.sbatch", 1, "0,1,2,3");
    expect(again.status, again.stderr).toBe(0);
    const out = join(machine.root, "results", "1e-5", "5-final");
    expect(readJsonl(join(out, "gqa.jsonl"))).toHaveLength(questions.gqa.length);
    const chunks = readdirSync(join(out, "gqa")).filter((f) => /^4_\d_0\.jsonl$/.test(f));
    expect(chunks).toHaveLength(4);
    for (const c of chunks) expect(readJsonl(join(out, "gqa", c)), c).toHaveLength(3);
  });

  it("stops with a message where no data root is set", () => {
    const r = machine.run(join(dir, "1e-5", "train.sh"), {});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("set DATA_DIR to the data root");
    const s = machine.run(join(dir, "submit.sh"), {});
    expect(s.status).toBe(1);
    expect(s.stderr).toContain("set DATA_DIR");
  });

  it("refuses to evaluate where no CUDA GPU is visible", () => {
    const bin = join(machine.root, "bin-no-gpu");
    mkdirSync(bin, { recursive: true });
    const r = spawnSync("bash", [join(dir, "1e-5", "5-final", "gqa.sh")], {
      encoding: "utf8",
      env: { PATH: `${bin}:/usr/bin:/bin`, DATA_DIR: data, LLAVA_DIR: machine.llava, CHECKPOINTS: join(machine.root, "checkpoints"), RESULTS: join(machine.root, "results-2") },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("LLaVA-Gemma's eval code runs on CUDA only");
  });
});

describe("the stand-in for LLaVA-Gemma's eval code fails where the fork fails", () => {
  const run = (args: string[]) => {
    const machine = fakeMachine(1);
    const data = tempDir("mmfm-data-");
    benchmarks(data);
    const script = join(machine.root, "loader.sh");
    writeFileSync(script, `python -m llava.eval.model_vqa_loader --model-path /m/llava-gemma --image-folder "$1" --question-file "$2" --answers-file "${machine.root}/a.jsonl" ${args.join(" ")}\n`);
    return (images: string, questions: string) => machine.run(script, {}, [join(data, "playground/data/eval", images), join(data, "playground/data/eval", questions)]);
  };

  it("without --use_accelerate at question 10, with string ids at the first question, with fp16 images at once", () => {
    const pope = run(["--image_dtype", "bfloat16"])("pope/val2014", "pope/llava_pope_test.jsonl");
    expect(pope.status).not.toBe(0);
    expect(pope.stderr).toMatch(/UnboundLocalError|NameError/);
    const gqa = run(["--image_dtype", "bfloat16", "--use_accelerate", "True"])("gqa/data/images", "gqa/llava_gqa_testdev_balanced.jsonl");
    expect(gqa.stderr).toContain("not all arguments converted during string formatting");
    const fp16 = run(["--use_accelerate", "True"])("pope/val2014", "pope/llava_pope_test.jsonl");
    expect(fp16.stderr).toContain("same dtype");
    const ok = run(["--image_dtype", "bfloat16", "--use_accelerate", "True"])("pope/val2014", "pope/llava_pope_test.jsonl");
    expect(ok).toMatchObject({ status: 0 });
  });
});

describe("training scripts on the cluster", () => {
  let dir: string;
  let gaudi: string;
  beforeAll(async () => {
    const { exports } = await exportSpec("test/cases/export/gpu-chain.mmfm", tempDir());
    writeExport(exports[0], exports[0].dir);
    dir = exports[0].dir;
    const paper = await exportSpec("examples/llava-gemma.mmfm", tempDir());
    writeExport(paper.exports[0], paper.exports[0].dir);
    gaudi = paper.exports[0].dir;
  });

  it("set aside a checkpoint-* the trainer cannot resume (a connector-only stage's), keep one it can", () => {
    const machine = fakeMachine(4);
    const env = { DATA_DIR: "/data", CUDA_VISIBLE_DEVICES: "0,1,2,3" };
    // align trains only the connector: LLaVA-Gemma saves config.json and mm_projector.bin in its checkpoints
    const align = join(machine.root, "checkpoints", "2e-5", "1-align", "llava-gemma");
    mkdirSync(join(align, "checkpoint-50"), { recursive: true });
    writeFileSync(join(align, "checkpoint-50", "mm_projector.bin"), "");
    writeFileSync(join(align, ".mmfm-key"), readFileSync(join(dir, "2e-5", "1-align.sh"), "utf8").match(/mmfm_stage_begin "\$OUTPUT_DIR" (\w+)/)![1] + "\n");
    const r = machine.run(join(dir, "2e-5", "1-align.sh"), env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("checkpoint-50 cannot be resumed (no trainer_state.json)");
    expect(readdirSync(align).filter((f) => f.startsWith("checkpoint-"))).toEqual([]);
    const aside = readdirSync(align).filter((f) => f.startsWith("unresumable-"));
    expect(aside).toHaveLength(1);
    expect(readdirSync(join(align, aside[0]))).toEqual(["checkpoint-50"]);
    // tune trains the language model: a complete checkpoint stays, a half-written one goes
    const tune = join(machine.root, "checkpoints", "2e-5", "3-tune", "llava-gemma");
    for (const c of ["checkpoint-100", "checkpoint-200"]) mkdirSync(join(tune, c), { recursive: true });
    writeFileSync(join(tune, "checkpoint-100", "trainer_state.json"), "{}");
    const t = machine.run(join(dir, "2e-5", "3-tune.sh"), env);
    expect(t.status, t.stderr).toBe(0);
    expect(readdirSync(tune).filter((f) => f.startsWith("checkpoint-"))).toEqual(["checkpoint-100"]);
  });

  it("count every Gaudi device for HABANA_VISIBLE_DEVICES=all", () => {
    const eight = fakeMachine(8);
    const ok = eight.run(join(gaudi, "pretrained-clip-2b", "1-pretrain.sh"), { DATA_DIR: "/data", HABANA_VISIBLE_DEVICES: "all" });
    expect(ok.status, ok.stderr).toBe(0);
    const four = fakeMachine(4);
    const short = four.run(join(gaudi, "pretrained-clip-2b", "1-pretrain.sh"), { DATA_DIR: "/data", HABANA_VISIBLE_DEVICES: "all" });
    expect(short.status).toBe(1);
    expect(short.stderr).toContain("exported for 8 devices but 4 are visible");
  });

  it("give every Gaudi launch a recipe cache of its own, which it may clear", () => {
    const machine = fakeMachine(8);
    const env = { DATA_DIR: "/data", HABANA_VISIBLE_DEVICES: "0,1,2,3,4,5,6,7" };
    for (const v of ["pretrained-clip-2b", "pretrained-dino-2b"]) expect(machine.run(join(gaudi, v, "1-pretrain.sh"), env)).toMatchObject({ status: 0 });
    const caches = machine.caches();
    expect(caches).toHaveLength(2);
    const [a, b] = caches.map((c) => c.config.split(","));
    expect(a[0]).not.toBe(b[0]);
    for (const [folder, clear, size] of [a, b]) {
      expect(folder.startsWith(machine.tmp)).toBe(true);
      expect([clear, size]).toEqual(["True", "20000"]);
    }
    expect(caches.every((c) => c.existed)).toBe(true);
    // removed once the launch is over
    expect(readdirSync(machine.tmp)).toEqual([]);
  });

  it("take the data root from `mmfmc export --data` when DATA_DIR is not set", async () => {
    const { exportExperiments, compile, planExperiments } = await import("../../compiler/pipeline.js");
    const result = compile("test/cases/export/gpu-chain.mmfm");
    const out = tempDir();
    const [e] = exportExperiments(result, planExperiments(result, { specPath: "test/cases/export/gpu-chain.mmfm", outDir: out }), {
      source: "test/cases/export/gpu-chain.mmfm",
      settings: { dataDir: "/cluster/data set", slurm: { train: { partition: "gaudi", time: "3-00:00:00", cpus: 96, gpus: null }, eval: { partition: "a100", time: "4:00:00", cpus: 16, gpus: 2 } } },
    });
    writeExport(e, e.dir);
    const machine = fakeMachine(4);
    const r = machine.run(join(e.dir, "2e-5", "1-align.sh"), { CUDA_VISIBLE_DEVICES: "0,1,2,3" });
    expect(r.status, r.stderr).toBe(0);
    const argv = machine.calls()[0];
    expect(argv[argv.indexOf("--data_path") + 1]).toBe("/cluster/data set/data/captions.json");
    const train = readFileSync(join(e.dir, "train.sbatch"), "utf8");
    const evals = readFileSync(join(e.dir, "eval.sbatch"), "utf8");
    expect(train).toContain("#SBATCH --partition=gaudi\n#SBATCH --time=3-00:00:00\n#SBATCH --cpus-per-task=96\n");
    expect(evals).toContain("#SBATCH --partition=a100\n#SBATCH --time=4:00:00\n#SBATCH --cpus-per-task=16\n#SBATCH --gres=gpu:2\n");
  });
});

describe("mmfm_answers.py", () => {
  let helper: string;
  beforeAll(async () => {
    const { exports } = await exportSpec("test/cases/export/gpu-chain.mmfm", tempDir());
    writeExport(exports[0], exports[0].dir);
    helper = join(exports[0].dir, "mmfm_answers.py");
  });
  const py = (args: string[]) => spawnSync("python3", [helper, ...args], { encoding: "utf8" });

  it("numbers questions, and gives merged answers their ids back in question order; a missing or repeated answer fails", () => {
    const dir = tempDir();
    const q = join(dir, "q.jsonl");
    writeFileSync(q, ['{"question_id": "b", "image": "1.jpg", "text": "t1"}', '{"question_id": "a", "image": "2.jpg", "text": "t2", "category": "x"}', ""].join("\n"));
    expect(py(["number", q, join(dir, "n.jsonl")]).status).toBe(0);
    expect(readJsonl(join(dir, "n.jsonl"))).toEqual([
      { question_id: 0, image: "1.jpg", text: "t1" },
      { question_id: 1, image: "2.jpg", text: "t2", category: "x" },
    ]);
    const answer = (n: number) => JSON.stringify({ question_id: n, prompt: `t${n + 1}`, text: "é", answer_id: "x", model_id: "llava-gemma", metadata: {} });
    writeFileSync(join(dir, "c1.jsonl"), answer(1) + "\n");
    writeFileSync(join(dir, "c0.jsonl"), answer(0) + "\n");
    expect(py(["merge", q, join(dir, "m.jsonl"), join(dir, "c1.jsonl"), join(dir, "c0.jsonl")]).status).toBe(0);
    expect(readFileSync(join(dir, "m.jsonl"), "utf8")).toBe(
      '{"question_id": "b", "prompt": "t1", "text": "\\u00e9", "answer_id": "x", "model_id": "llava-gemma", "metadata": {}}\n' +
        '{"question_id": "a", "prompt": "t2", "text": "\\u00e9", "answer_id": "x", "model_id": "llava-gemma", "metadata": {}}\n',
    );
    const missing = py(["merge", q, join(dir, "m.jsonl"), join(dir, "c1.jsonl")]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("1 of 2 questions have no answer (first: 'b')");
    const twice = py(["merge", q, join(dir, "m.jsonl"), join(dir, "c1.jsonl"), join(dir, "c1.jsonl"), join(dir, "c0.jsonl")]);
    expect(twice.stderr).toContain("is answered twice");
  });

  it("gathers answers that carry their own ids (stock LLaVA) in question order, MME's shared ids told apart by text", () => {
    const dir = tempDir();
    const q = join(dir, "mme.jsonl");
    // MME asks two questions of one image under one id
    const questions = [
      { question_id: "a/1.png", image: "a/1.png", text: "Is it red?" },
      { question_id: "a/1.png", image: "a/1.png", text: "Is it blue?" },
      { question_id: "b/2.png", image: "b/2.png", text: "Is it a cat?" },
    ];
    writeFileSync(q, questions.map((x) => JSON.stringify(x)).join("\n") + "\n");
    const answer = (i: number, text: string) => JSON.stringify({ question_id: questions[i].question_id, prompt: questions[i].text, text, answer_id: "x", model_id: "llava-llama", metadata: {} });
    // chunks out of order, the two answers of a/1.png in the other order
    writeFileSync(join(dir, "c1.jsonl"), answer(2, "No") + "\n");
    writeFileSync(join(dir, "c0.jsonl"), answer(1, "Yes") + "\n" + answer(0, "No") + "\n");
    expect(py(["gather", q, join(dir, "m.jsonl"), join(dir, "c1.jsonl"), join(dir, "c0.jsonl")])).toMatchObject({ status: 0 });
    expect(readJsonl(join(dir, "m.jsonl")).map((a) => [a.question_id, a.prompt, a.text])).toEqual([
      ["a/1.png", "Is it red?", "No"],
      ["a/1.png", "Is it blue?", "Yes"],
      ["b/2.png", "Is it a cat?", "No"],
    ]);
    expect(py(["gather", q, join(dir, "m.jsonl"), join(dir, "c0.jsonl")]).stderr).toContain("1 of 3 questions have no answer (first: 'b/2.png')");
    expect(py(["gather", q, join(dir, "m.jsonl"), join(dir, "c0.jsonl"), join(dir, "c0.jsonl"), join(dir, "c1.jsonl")]).stderr).toContain("question 'a/1.png' is answered twice");
    writeFileSync(join(dir, "bad.jsonl"), JSON.stringify({ question_id: "z", prompt: "", text: "" }) + "\n");
    expect(py(["gather", q, join(dir, "m.jsonl"), join(dir, "bad.jsonl")]).stderr).toContain("question_id 'z' is not the id of a question");
    // a ScienceQA .json: the problems' `id`
    const sqa = join(dir, "sqa.json");
    writeFileSync(sqa, JSON.stringify([{ id: "7", conversations: [] }, { id: "4", conversations: [] }]));
    writeFileSync(join(dir, "s.jsonl"), ["4", "7"].map((id) => JSON.stringify({ question_id: id, prompt: "p", text: "A" })).join("\n") + "\n");
    expect(py(["gather", sqa, join(dir, "sm.jsonl"), join(dir, "s.jsonl")])).toMatchObject({ status: 0 });
    expect(readJsonl(join(dir, "sm.jsonl")).map((a) => a.question_id)).toEqual(["7", "4"]);
  });
});
