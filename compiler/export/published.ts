/**
 * The per-device batches LLaVA-Gemma's own scripts train with (DEVICE_BATCHSIZE in
 * IntelLabs/multimodal_cognitive_ai `LLaVA-Gemma/scripts/v1_5/pretrain_gaudi.sh` and
 * `finetune_gaudi.sh`, d1f2acc39b68), by language model and kind of stage: a stage that trains only the
 * connector is their pretraining, one that trains the language model their finetuning. A spec that
 * leaves `micro_batch` unset gets these where they split the batch and fit (compiler/memory.ts).
 */
import type { Component, LanguagePlan } from "../../plan/plan.js";

interface PublishedBatches {
  readonly model: string;
  /** the architecture, as std declares the checkpoints (google/gemma-2b(-it), google/gemma-7b(-it)) */
  readonly width: number;
  readonly depth: number;
  readonly connectorOnly: number;
  readonly withLanguage: number;
}

const publishedBatches: readonly PublishedBatches[] = [
  { model: "Gemma 2B", width: 2048, depth: 18, connectorOnly: 16, withLanguage: 2 },
  { model: "Gemma 7B", width: 3072, depth: 28, connectorOnly: 8, withLanguage: 1 },
];

/** LLaVA-Gemma's per-device batch for a stage training `train` on this language model, if it published one. */
export function publishedMicroBatch(language: Pick<LanguagePlan, "family" | "width" | "depth">, train: readonly Component[]): number | undefined {
  if (language.family !== "gemma" || train.includes("vision")) return undefined;
  const row = publishedBatches.find((p) => p.width === language.width && p.depth === language.depth);
  if (!row) return undefined;
  return train.includes("language") ? row.withLanguage : row.connectorOnly;
}
