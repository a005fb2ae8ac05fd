/**
 * The controls an evaluation reports beside a score, to show how much of it comes from seeing:
 *
 * - the image-blind control, `NAME.blind.METRIC`: the same model answering the same questions with
 *   every image replaced by a blank one, scored by the same rules. The blank image is all zeros
 *   after the processor's normalisation, i.e. the backbone's mean colour: the image LLaVA gives a
 *   text-only sample (`torch.zeros(3, crop_h, crop_w)` in its `LazySupervisedDataset`), so it is an
 *   input the model has seen in training and carries no information; black would be an unusual
 *   image (about -1.8 per channel after CLIP's normalisation) that a model may read as content.
 * - the majority baseline, `NAME.majority.METRIC`: always giving each question type's most common
 *   answer, counted on the scored (test) items themselves. That is the best score any answer that
 *   ignores the image can reach per type; the training split's most common answer can only score
 *   the same or lower on the test items, and an evaluation does not know which data trained it.
 *   `NAME.majority.accuracy` is over all items (each type's majority answers, counted together).
 *
 * Both are computed for the synthetic shapes (`hasBlindControl`); the real benchmarks keep their
 * headline metrics only (a blind pass would double their evaluation time).
 */
import type { ShapesScores } from "../data/index.js";
import type { BenchmarkPlan, SyntheticShapesPlan } from "../../plan/plan.js";

/** The metric infix of the image-blind control and the majority baseline. */
export const BLIND = "blind";
export const MAJORITY = "majority";
export type Control = typeof BLIND | typeof MAJORITY;

/** Whether an evaluation dataset is also answered image-blind. */
export function hasBlindControl(data: BenchmarkPlan | SyntheticShapesPlan): boolean {
  return data.family === "synthetic_shapes";
}

/** A blank preprocessed image, [3, side, side]: zero after normalisation, the backbone's mean colour. */
export function blankImage(side: number): Float32Array {
  return new Float32Array(3 * side * side);
}

/** The metrics of a shapes score: `accuracy` and one per question type (percent). */
export function shapesMetrics(scores: ShapesScores): Record<string, number> {
  const metrics: Record<string, number> = { accuracy: scores.accuracy };
  for (const [type, acc] of Object.entries(scores.perType)) metrics[type] = acc.accuracy;
  return metrics;
}

/**
 * The majority baseline of a shapes score, as metrics named like `shapesMetrics`': per type, the
 * accuracy of always giving its most common answer; `accuracy`, those answers over all items.
 */
export function majorityMetrics(scores: ShapesScores): Record<string, number> {
  const metrics: Record<string, number> = {};
  let correct = 0;
  for (const [type, majority] of Object.entries(scores.majorityBaseline)) {
    metrics[type] = majority.accuracy;
    // the scorer gives the percentage; the count of items it is right on is an integer
    correct += Math.round((majority.accuracy * scores.perType[type].count) / 100);
  }
  return { accuracy: scores.count === 0 ? 0 : (100 * correct) / scores.count, ...metrics };
}

/** `NAME.CONTROL.METRIC` -> the metric it stands beside (`NAME.METRIC`) and which control it is. */
export function controlOf(metric: string): { readonly metric: string; readonly control: Control } | null {
  const m = /^(.+)\.(blind|majority)\.([^.]+)$/.exec(metric);
  return m ? { metric: `${m[1]}.${m[3]}`, control: m[2] as Control } : null;
}

/** The name of a metric's control: `NAME.METRIC` -> `NAME.CONTROL.METRIC`. */
export function controlMetric(metric: string, control: Control): string {
  const dot = metric.lastIndexOf(".");
  return `${metric.slice(0, dot)}.${control}.${metric.slice(dot + 1)}`;
}
