// The usual on-disk layout of each benchmark: where LLaVA's eval scripts
// (`scripts/v1_5/eval/*.sh`, `docs/Evaluation.md`) expect the files, relative to a data root
// (the LLaVA repository folder). The `std` library declares the benchmark datasets with these
// paths as defaults; `loadBenchmark` finds companion files relative to the annotations file.

import type { BenchmarkName } from "./items.js";

export interface BenchmarkLayout {
  readonly benchmark: BenchmarkName;
  /** the benchmark's folder */
  readonly dir: string;
  /** the question file the model is run on (LLaVA's converted file where LLaVA has one) */
  readonly annotations: string;
  /** the image folder */
  readonly images: string;
  /** companion files by role; all paths relative to the data root */
  readonly files: Readonly<Record<string, string>>;
  /** where the files come from */
  readonly source: string;
}

export const benchmarkLayouts: Readonly<Record<BenchmarkName, BenchmarkLayout>> = {
  vqav2: {
    benchmark: "vqav2",
    dir: "playground/data/eval/vqav2",
    annotations: "playground/data/eval/vqav2/llava_vqav2_mscoco_test-dev2015.jsonl",
    images: "playground/data/eval/vqav2/test2015",
    files: {
      // every test2015 question: the upload must answer all of them (missing ones get "")
      submissionSplit: "playground/data/eval/vqav2/llava_vqav2_mscoco_test2015.jsonl",
    },
    source: "LLaVA eval.zip (question files); COCO test2015 images. Test-dev answers are not public: score on the EvalAI server, or pass official VQA annotations (files.answers) for a split that has them",
  },
  gqa: {
    benchmark: "gqa",
    dir: "playground/data/eval/gqa",
    annotations: "playground/data/eval/gqa/llava_gqa_testdev_balanced.jsonl",
    images: "playground/data/eval/gqa/data/images",
    files: { questions: "playground/data/eval/gqa/data/testdev_balanced_questions.json" },
    source: "LLaVA eval.zip (question file); GQA v1.2 questions and images under data/ (cs.stanford.edu/people/dorarad/gqa)",
  },
  pope: {
    benchmark: "pope",
    dir: "playground/data/eval/pope",
    annotations: "playground/data/eval/pope/llava_pope_test.jsonl",
    images: "playground/data/eval/pope/val2014",
    files: {
      adversarial: "playground/data/eval/pope/coco/coco_pope_adversarial.json",
      popular: "playground/data/eval/pope/coco/coco_pope_popular.json",
      random: "playground/data/eval/pope/coco/coco_pope_random.json",
    },
    source: "LLaVA eval.zip (question file); POPE's output/coco label files; COCO val2014 images",
  },
  mme: {
    benchmark: "mme",
    dir: "playground/data/eval/MME",
    annotations: "playground/data/eval/MME/llava_mme.jsonl",
    // the release folder holds the images and, beside them, the question/answer .txt files
    images: "playground/data/eval/MME/MME_Benchmark_release_version",
    files: {},
    source: "LLaVA eval.zip (question file); MME_Benchmark_release_version from the MME authors",
  },
  scienceqa_img: {
    benchmark: "scienceqa_img",
    dir: "playground/data/eval/scienceqa",
    annotations: "playground/data/eval/scienceqa/llava_test_CQM-A.json",
    images: "playground/data/eval/scienceqa/images/test",
    files: {
      problems: "playground/data/eval/scienceqa/problems.json",
      splits: "playground/data/eval/scienceqa/pid_splits.json",
    },
    source: "LLaVA eval.zip (llava_test_CQM-A.json); problems.json, pid_splits.json and images/ from ScienceQA's data/scienceqa",
  },
  mmvp: {
    benchmark: "mmvp",
    dir: "playground/data/eval/mmvp",
    annotations: "playground/data/eval/mmvp/Questions.csv",
    images: "playground/data/eval/mmvp/MMVP Images",
    files: {},
    source: "the MMVP benchmark folder (huggingface.co/datasets/MMVP/MMVP): Questions.csv and `MMVP Images/1.jpg` .. `300.jpg`",
  },
};
