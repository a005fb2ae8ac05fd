// The headline numbers of a benchmark's scores: what the paper's Table 1 reports, by metric name.
// A local run's eval stage and `mmfmc collect` both report these, as `<dataset>.<metric>`.

import type { BenchmarkName } from "./items.js";
import type { ScoresByBenchmark } from "./score.js";

/** Metric name -> value; a metric the scores leave undefined (null, not finite) is absent. */
export function headline<B extends BenchmarkName>(benchmark: B, scores: ScoresByBenchmark[B]): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, v: number | null | undefined) => {
    if (typeof v === "number" && Number.isFinite(v)) out[name] = v;
  };
  const s = scores as ScoresByBenchmark[BenchmarkName];
  switch (benchmark) {
    case "vqav2":
      put("accuracy", (s as ScoresByBenchmark["vqav2"]).official.accuracy.overall);
      break;
    case "gqa":
      put("accuracy", (s as ScoresByBenchmark["gqa"]).accuracy);
      break;
    case "pope":
      put("accuracy", (s as ScoresByBenchmark["pope"]).mean_over_categories.accuracy);
      put("f1", (s as ScoresByBenchmark["pope"]).mean_over_categories.f1);
      break;
    case "mme":
      put("perception", (s as ScoresByBenchmark["mme"]).perception_total);
      put("cognition", (s as ScoresByBenchmark["mme"]).cognition_total);
      break;
    case "scienceqa_img":
      put("img_accuracy", (s as ScoresByBenchmark["scienceqa_img"]).img_acc);
      break;
    case "mmvp":
      put("pair_accuracy", (s as ScoresByBenchmark["mmvp"]).lmms_eval_rule.pair_accuracy);
      break;
  }
  return out;
}
