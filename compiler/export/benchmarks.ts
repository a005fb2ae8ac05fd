/**
 * One script per benchmark of an eval stage, after LLaVA's scripts/v1_5/eval/*.sh: generate the
 * answers with LLaVA's eval code (split over the visible GPUs where LLaVA's script does), then score
 * them with the benchmark's official scorer, its output kept under `$RESULTS`.
 */
import { posix } from "node:path";
import { variantFolder } from "../../plan/names.js";
import type { BenchmarkPlan, Plan } from "../../plan/plan.js";
import { gib, type MemoryEstimate } from "../memory.js";
import { evalModel } from "./flags.js";
import type { EvalLaunch } from "./launch.js";
import type { ScriptContext } from "./scripts.js";
import { commandText, flagNumber, shellWord, specPath, stamp, type Flag } from "./shell.js";

/** VARIANT/N-EVAL/BENCHMARK.sh */
export function benchmarkScript(ctx: ScriptContext, plan: Plan, launch: EvalLaunch, bench: BenchmarkPlan, memory: MemoryEstimate): string {
  const e = launch.plan;
  const ckpt = `${plan.experiment}-${variantFolder(plan.id)}-${e.name}`;
  const name = bench.name ?? bench.family;
  const annotations = bench.annotations;
  const dir = posix.dirname(annotations);
  const conv = plan.model.template;
  const generation: Flag[] = [["--temperature", flagNumber(e.temperature)], ["--conv-mode", conv]];
  const loaderExtra: Flag[] = e.max_new_tokens !== 128 ? [["--max_new_tokens", String(e.max_new_tokens)]] : [];
  const model = evalModel(launch.after);
  const header = [
    "#!/usr/bin/env bash",
    stamp(ctx.source),
    `# ${plan.id}, stage ${launch.index + 1} of ${plan.stages.length}: ${e.name}, ${name} (after LLaVA's scripts/v1_5/eval/${bench.family === "scienceqa" ? "sqa" : bench.family}.sh)`,
    `#   memory (one device, estimate): ${gib(memory.total)}`,
    "set -euo pipefail",
    'source "$(dirname "${BASH_SOURCE[0]}")/../../env.sh"',
    "",
    `mmfm_require_done "${launch.after.outputDir}" ${launch.after.plan.cache_key}`,
    "mmfm_enter_llava",
    `CKPT=${shellWord(ckpt)}`,
    `OUT="$RESULTS/${variantFolder(plan.id)}/${launch.index + 1}-${e.name}"`,
    'mmfm_mkdir "$OUT"',
    "",
  ];
  const body: string[] = [];
  const chunked = (split: string, answers: string, imageFolder: string) => {
    body.push(
      `SPLIT=${shellWord(split)}`,
      `ANSWERS=${answers}/answers/$SPLIT/$CKPT`,
      'mmfm_mkdir "$ANSWERS"',
      'gpu_list="${CUDA_VISIBLE_DEVICES:-0}"',
      `IFS=',' read -ra GPULIST <<< "$gpu_list"`,
      "CHUNKS=${#GPULIST[@]}",
      "pids=()",
      "for IDX in $(seq 0 $((CHUNKS-1))); do",
      commandText(
        "    CUDA_VISIBLE_DEVICES=${GPULIST[$IDX]} python -m llava.eval.model_vqa_loader",
        [
          ...model,
          ["--question-file", specPath(annotations)],
          ["--image-folder", imageFolder],
          ["--answers-file", '"$ANSWERS/${CHUNKS}_${IDX}.jsonl"'],
          ["--num-chunks", "$CHUNKS"],
          ["--chunk-idx", "$IDX"],
          ...generation.slice(0, 1),
          ...loaderExtra,
          ...generation.slice(1),
        ],
        "        ",
      ) + " &",
      '    pids+=($!)',
      "done",
      'for pid in "${pids[@]}"; do wait "$pid"; done',
      "",
      'output_file="$ANSWERS/merge.jsonl"',
      'mmfm_merge "$output_file" "$ANSWERS" "$CHUNKS"',
    );
  };
  const single = (script: string, answersFile: string, extra: readonly Flag[] = [], loader = true) => {
    body.push(
      commandText(
        `python -m llava.eval.${script}`,
        [...model, ["--question-file", specPath(annotations)], ["--image-folder", specPath(bench.images)], ["--answers-file", answersFile], ...extra, ...generation.slice(0, 1), ...(loader ? loaderExtra : []), ...generation.slice(1)],
      ),
      "",
    );
  };
  switch (bench.family) {
    case "gqa": {
      const gqaDir = posix.dirname(bench.images);
      chunked(posix.basename(annotations).replace(/\.jsonl$/, ""), specPath(dir), specPath(bench.images));
      body.push(
        `GQADIR=${specPath(gqaDir)}`,
        "mmfm_require_llava_file scripts/convert_gqa_for_eval.py",
        "# the predictions file of GQA's eval.py is shared by every model: one evaluation at a time",
        'mmfm_lock "$GQADIR"',
        'python scripts/convert_gqa_for_eval.py --src "$output_file" --dst "$GQADIR/testdev_balanced_predictions.json"',
        `(mmfm_cd "$GQADIR" && python eval/eval.py --tier ${shellWord(bench.split ?? "testdev_balanced")}) | mmfm_tee "$OUT/${name}.txt"`,
      );
      break;
    }
    case "vqav2":
      chunked(posix.basename(annotations).replace(/\.jsonl$/, ""), specPath(dir), specPath(bench.images));
      body.push(
        `VQADIR=${specPath(dir)}`,
        "mmfm_require_llava_file scripts/convert_vqav2_for_submission.py",
        'python scripts/convert_vqav2_for_submission.py --split "$SPLIT" --ckpt "$CKPT" --dir "$VQADIR"',
        `echo "upload $VQADIR/answers_upload/$SPLIT/$CKPT.json to the VQAv2 test-dev server (EvalAI)" | mmfm_tee "$OUT/${name}.txt"`,
      );
      break;
    case "pope":
      body.push(`ANSWERS=${specPath(dir)}/answers`, 'mmfm_mkdir "$ANSWERS"');
      single("model_vqa_loader", '"$ANSWERS/$CKPT.jsonl"');
      body.push(
        commandText("python llava/eval/eval_pope.py", [
          ["--annotation-dir", specPath(`${dir}/coco`)],
          ["--question-file", specPath(annotations)],
          ["--result-file", '"$ANSWERS/$CKPT.jsonl"'],
        ]) + ` | mmfm_tee "$OUT/${name}.txt"`,
      );
      break;
    case "mme":
      body.push(`MMEDIR=${specPath(dir)}`, 'mmfm_mkdir "$MMEDIR/answers"');
      single("model_vqa_loader", '"$MMEDIR/answers/$CKPT.jsonl"');
      body.push(
        '(mmfm_cd "$MMEDIR" && python convert_answer_to_mme.py --experiment "$CKPT")',
        `(mmfm_cd "$MMEDIR/eval_tool" && python calculation.py --results_dir "answers/$CKPT") | mmfm_tee "$OUT/${name}.txt"`,
      );
      break;
    case "scienceqa":
      body.push(`ANSWERS=${specPath(dir)}/answers`, 'mmfm_mkdir "$ANSWERS"');
      // model_vqa_science generates up to 1024 tokens whatever max_new_tokens says (fixed in LLaVA)
      single("model_vqa_science", '"$ANSWERS/$CKPT.jsonl"', [["--single-pred-prompt", null]], false);
      body.push(
        commandText("python llava/eval/eval_science_qa.py", [
          ["--base-dir", specPath(dir)],
          ["--result-file", '"$ANSWERS/$CKPT.jsonl"'],
          ["--output-file", '"$ANSWERS/${CKPT}_output.jsonl"'],
          ["--output-result", '"$ANSWERS/${CKPT}_result.json"'],
        ]) + ` | mmfm_tee "$OUT/${name}.txt"`,
      );
      break;
  }
  return [...header, ...body, ""].join("\n");
}
