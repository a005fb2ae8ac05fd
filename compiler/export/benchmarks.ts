/**
 * One script per benchmark of an eval stage, after LLaVA's scripts/v1_5/eval/*.sh, run by eval.sh on a
 * GPU node: generate the answers with the eval code of the variant's code base, merge them into one
 * answers file `$RESULTS/VARIANT/N-EVAL/NAME.jsonl` (LLaVA's format, the benchmark's own question ids,
 * in the question file's order), then score them with the benchmark's official scorer, its output
 * beside the answers as `NAME.txt`.
 *
 * Stock LLaVA's eval code (haotian-liu/LLaVA c121f0432da2) runs as its scripts run it: the question
 * file as it is, one model_vqa_loader per GPU on its chunk, `--answers-file` written as named; ScienceQA
 * through model_vqa_science in one process, as sqa.sh. The chunks' answers are gathered by their own
 * ids (mmfm_answers.py `gather`, which also checks that every question has exactly one answer).
 *
 * What the fork's eval code needs to run (IntelLabs/multimodal_cognitive_ai d1f2acc39b68, LLaVA-Gemma/
 * llava/eval/; code_bases.ts `EvalCode`), each written where the script does it:
 *   - model_vqa_loader.py logs every tenth answer through `accelerator`, created only with
 *     `--use_accelerate` (a bool flag: any value is true, so always `True`), and with `question_id % 10`,
 *     which fails for string ids (GQA, MME): it gets numbered questions (mmfm_answers.py), and the merged
 *     answers get their ids back;
 *   - the fork loads the model in bf16: images in fp16 (the loader's default `--image_dtype`, and
 *     model_vqa_science.py's `.half()`) fail in the projector, so the loader gets `--image_dtype
 *     bfloat16` and ScienceQA's questions with an image go through the loader too;
 *   - with `--use_accelerate` the loader writes `NAME_0.jsonl` for `--answers-file NAME.jsonl`, and it
 *     appends: every run starts from an empty work folder.
 */
import { posix } from "node:path";
import { InternalError } from "../../core/errors.js";
import { evalGeneration } from "../../plan/generation.js";
import { variantFolder } from "../../plan/names.js";
import type { BenchmarkPlan, Plan } from "../../plan/plan.js";
import { gib, type MemoryEstimate } from "../memory.js";
import { evalModel } from "./flags.js";
import type { CodeBase } from "./code_bases.js";
import type { EvalLaunch, PlannedVariant } from "./launch.js";
import { checkoutOf, type ScriptContext } from "./scripts.js";
import { commandText, flagNumber, shellWord, specPath, stamp, type Flag } from "./shell.js";

/** model_vqa_science.py generates up to 1024 tokens whatever the flags say. */
const scienceMaxNewTokens = 1024;

/** model_vqa_loader.py's default --max_new_tokens, LLaVA's for its short-answer benchmarks. */
const loaderMaxNewTokens = 128;

/**
 * model_vqa_loader once per visible GPU on its chunk of `questions` (LLaVA's scripts/v1_5/eval/gqa.sh);
 * leaves the answers files in the bash array `answers`. The fork's loader gets its own flags, and with
 * them writes `NAME_0.jsonl` for `--answers-file NAME.jsonl`.
 */
function loaderChunks(codeBase: CodeBase, questions: string, model: readonly Flag[], imageFolder: string, generation: readonly Flag[]): string[] {
  const fork = codeBase.evalCode.numberedQuestions;
  return [
    "# model_vqa_loader once per visible GPU, each on its chunk of the questions (LLaVA's scripts/v1_5/eval/gqa.sh)",
    'gpu_list="${CUDA_VISIBLE_DEVICES:-0}"',
    `IFS=',' read -ra GPULIST <<< "$gpu_list"`,
    `CHUNKS=$(mmfm_chunks ${questions} "\${#GPULIST[@]}")`,
    "pids=()",
    "answers=()",
    "for IDX in $(seq 0 $((CHUNKS-1))); do",
    commandText(
      '    CUDA_VISIBLE_DEVICES=${GPULIST[$IDX]} python -m llava.eval.model_vqa_loader',
      [
        ...model,
        ["--question-file", questions],
        ["--image-folder", imageFolder],
        ["--answers-file", '"$WORK/${CHUNKS}_${IDX}.jsonl"'],
        ["--num-chunks", '"$CHUNKS"'],
        ["--chunk-idx", '"$IDX"'],
        ...generation,
        ...codeBase.evalCode.loaderFlags,
      ],
      "        ",
    ) + " &",
    '    pids+=("$!")',
    ...(fork
      ? ["    # with --use_accelerate the loader appends its process index to the file name", '    answers+=("$WORK/${CHUNKS}_${IDX}_0.jsonl")']
      : ['    answers+=("$WORK/${CHUNKS}_${IDX}.jsonl")']),
    "done",
    'for pid in "${pids[@]}"; do wait "$pid"; done',
  ];
}

/** VARIANT/N-EVAL/BENCHMARK.sh */
export function benchmarkScript(ctx: ScriptContext, plan: Plan, variant: PlannedVariant, launch: EvalLaunch, bench: BenchmarkPlan, memory: MemoryEstimate): string {
  const { codeBase, convMode } = variant;
  const checkout = checkoutOf(ctx, codeBase);
  const e = launch.plan;
  /** the name of the answers the official converters read, as LLaVA's CKPT */
  const ckpt = `${plan.experiment}-${variantFolder(plan.id)}-${e.name}`;
  const name = bench.name ?? bench.family;
  const questions = specPath(bench.annotations);
  const dir = posix.dirname(bench.annotations);
  const model = evalModel(launch.after);
  // the stage's generation settings where the spec sets them, else the benchmark script's own
  const generated = evalGeneration(e, bench);
  const generation = (maxNewTokens: number): Flag[] => [
    ["--temperature", flagNumber(generated.temperature)],
    ...(maxNewTokens !== loaderMaxNewTokens ? [["--max_new_tokens", String(maxNewTokens)] as const] : []),
    ...(generated.topP !== null ? [["--top_p", flagNumber(generated.topP)] as const] : []),
    ["--conv-mode", convMode],
  ];
  const lines = [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    `# ${plan.id}, stage ${launch.index + 1} of ${plan.stages.length}: ${e.name}, ${name} (after LLaVA's scripts/v1_5/eval/${bench.family === "scienceqa" ? "sqa" : bench.family}.sh)`,
    `#   memory (one device, estimate): ${gib(memory.total)}`,
    "set -euo pipefail",
    "# shellcheck source-path=SCRIPTDIR source=../../env.sh",
    'source "$(dirname "${BASH_SOURCE[0]}")/../../env.sh"',
    "",
    `mmfm_require_done "${launch.after.outputDir}" ${launch.after.plan.cache_key}`,
    checkout.enter,
    "mmfm_check_cuda",
    `OUT="$RESULTS/${variantFolder(plan.id)}/${launch.index + 1}-${e.name}"`,
    `WORK="$OUT/${name}"`,
    'mmfm_fresh "$WORK"',
    "",
  ];
  const answers = `"$OUT/${name}.jsonl"`;
  const text = `"$OUT/${name}.txt"`;
  const converter = (file: string) => (codeBase.evalCode.missingConverters.includes(file) ? [`mmfm_require_llava_file scripts/${file}`] : []);
  if (bench.family === "scienceqa" && !codeBase.evalCode.scienceImagesThroughLoader) {
    lines.push(
      "# model_vqa_science on every question, in one process (LLaVA's scripts/v1_5/eval/sqa.sh)",
      commandText("python -m llava.eval.model_vqa_science", [
        ...model,
        ["--question-file", questions],
        ["--image-folder", specPath(bench.images)],
        ["--answers-file", '"$WORK/answers.jsonl"'],
        ["--single-pred-prompt", null],
        ["--temperature", flagNumber(generated.temperature)],
        ["--conv-mode", convMode],
      ]),
      `mmfm_answers gather ${questions} ${answers} "$WORK/answers.jsonl"`,
      "",
      scienceScorer(bench, dir, answers, text),
      "",
    );
    return lines.join("\n");
  }
  if (bench.family === "scienceqa") {
    lines.push(
      "# the questions with an image through model_vqa_loader, the others through model_vqa_science (mmfm_answers.py says why)",
      `mmfm_answers science ${questions} "$WORK/questions.jsonl" "$WORK/texts.json"`,
      ...loaderChunks(codeBase, '"$WORK/questions.jsonl"', model, specPath(bench.images), generation(scienceMaxNewTokens)),
      'if mmfm_dry || [ -f "$WORK/texts.json" ]; then',
      commandText(
        "    python -m llava.eval.model_vqa_science",
        [
          ...model,
          ["--question-file", '"$WORK/texts.json"'],
          ["--image-folder", specPath(bench.images)],
          ["--answers-file", '"$WORK/texts_answers.jsonl"'],
          ["--single-pred-prompt", null],
          ["--temperature", flagNumber(generated.temperature)],
          ["--conv-mode", convMode],
        ],
        "        ",
      ),
      '    answers+=("$WORK/texts_answers.jsonl")',
      "fi",
      `mmfm_answers merge-science ${questions} ${answers} "\${answers[@]}"`,
      "",
      scienceScorer(bench, dir, answers, text),
      "",
    );
    return lines.join("\n");
  }
  if (codeBase.evalCode.numberedQuestions) {
    lines.push(
      "# numbered questions: the fork's model_vqa_loader logs `question_id % 10` (mmfm_answers.py says why)",
      `mmfm_answers number ${questions} "$WORK/questions.jsonl"`,
      ...loaderChunks(codeBase, '"$WORK/questions.jsonl"', model, specPath(bench.images), generation(generated.maxNewTokens)),
      `mmfm_answers merge ${questions} ${answers} "\${answers[@]}"`,
      "",
    );
  } else {
    lines.push(...loaderChunks(codeBase, questions, model, specPath(bench.images), generation(generated.maxNewTokens)), `mmfm_answers gather ${questions} ${answers} "\${answers[@]}"`, "");
  }
  switch (bench.family) {
    case "gqa": {
      const tier = bench.split ?? "testdev_balanced";
      lines.push(
        `GQADIR=${specPath(posix.dirname(bench.images))}`,
        ...converter("convert_gqa_for_eval.py"),
        "# GQA's eval.py reads TIER_predictions.json in its folder, shared by every model: one evaluation at a time",
        'mmfm_lock "$GQADIR"',
        `python scripts/convert_gqa_for_eval.py --src ${answers} --dst "$GQADIR/${tier}_predictions.json"`,
        `(mmfm_cd "$GQADIR" && python eval/eval.py --tier ${shellWord(tier)}) | mmfm_tee ${text}`,
      );
      break;
    }
    case "vqav2":
      lines.push(
        "# convert_vqav2_for_submission.py reads DIR/answers/SPLIT/CKPT/merge.jsonl and DIR/llava_vqav2_mscoco_test2015.jsonl",
        ...converter("convert_vqav2_for_submission.py"),
        `CKPT=${shellWord(ckpt)}`,
        `SPLIT=${shellWord(posix.basename(bench.annotations).replace(/\.jsonl$/, ""))}`,
        'mmfm_mkdir "$WORK/answers/$SPLIT/$CKPT"',
        `mmfm_copy ${answers} "$WORK/answers/$SPLIT/$CKPT/merge.jsonl"`,
        `mmfm_link ${specPath(`${dir}/llava_vqav2_mscoco_test2015.jsonl`)} "$WORK/llava_vqav2_mscoco_test2015.jsonl"`,
        'python scripts/convert_vqav2_for_submission.py --split "$SPLIT" --ckpt "$CKPT" --dir "$WORK"',
        `echo "upload $WORK/answers_upload/$SPLIT/$CKPT.json to the VQAv2 test-dev server (EvalAI)" | mmfm_tee ${text}`,
      );
      break;
    case "pope":
      lines.push(
        commandText("python llava/eval/eval_pope.py", [
          ["--annotation-dir", specPath(`${dir}/coco`)],
          ["--question-file", questions],
          ["--result-file", answers],
        ]) + ` | mmfm_tee ${text}`,
      );
      break;
    case "mme":
      lines.push(
        "# MME's convert_answer_to_mme.py reads answers/CKPT.jsonl in its folder",
        `CKPT=${shellWord(ckpt)}`,
        `MMEDIR=${specPath(dir)}`,
        'mmfm_mkdir "$MMEDIR/answers"',
        `mmfm_copy ${answers} "$MMEDIR/answers/$CKPT.jsonl"`,
        '(mmfm_cd "$MMEDIR" && python convert_answer_to_mme.py --experiment "$CKPT")',
        `(mmfm_cd "$MMEDIR/eval_tool" && python calculation.py --results_dir "answers/$CKPT") | mmfm_tee ${text}`,
      );
      break;
    case "mmvp":
      throw new InternalError("an mmvp evaluation reached the export: planLaunches refuses it (E0504)");
  }
  lines.push("");
  return lines.join("\n");
}

/** eval_science_qa.py on the merged answers (LLaVA's scripts/v1_5/eval/sqa.sh). */
function scienceScorer(bench: BenchmarkPlan, dir: string, answers: string, text: string): string {
  return (
    commandText("python llava/eval/eval_science_qa.py", [
      ["--base-dir", specPath(dir)],
      ["--result-file", answers],
      ["--output-file", '"$WORK/output.jsonl"'],
      ["--output-result", '"$WORK/result.json"'],
      ...(bench.split !== null && bench.split !== "test" ? [["--split", shellWord(bench.split)] as const] : []),
    ]) + ` | mmfm_tee ${text}`
  );
}
