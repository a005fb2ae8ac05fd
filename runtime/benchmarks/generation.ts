// Generation settings per benchmark, as LLaVA's evaluation scripts run the model; the runtime's
// eval stage reads them (an `eval` block's `max_new_tokens` / `temperature` override them).

import type { BenchmarkName } from "./items.js";

export interface GenerationSettings {
  /** 0 = greedy decoding */
  readonly temperature: number;
  readonly maxNewTokens: number;
  readonly numBeams: number;
  /**
   * the conversation template: `model` = the model's own chat template (`gemma` for
   * LLaVA-Gemma); `llavaConvMode` records what LLaVA-1.5's script passes
   */
  readonly template: "model";
  readonly llavaConvMode: string;
  /** the script these values come from, and any difference from it */
  readonly source: string;
}

const loader = (benchmark: string): GenerationSettings => ({
  temperature: 0,
  maxNewTokens: 128,
  numBeams: 1,
  template: "model",
  llavaConvMode: "vicuna_v1",
  source: `scripts/v1_5/eval/${benchmark}.sh -> llava/eval/model_vqa_loader.py (--temperature 0, default --max_new_tokens 128, --num_beams 1)`,
});

export const generationSettings: Readonly<Record<BenchmarkName, GenerationSettings>> = {
  vqav2: loader("vqav2"),
  gqa: loader("gqa"),
  pope: loader("pope"),
  mme: loader("mme"),
  scienceqa_img: {
    temperature: 0,
    maxNewTokens: 1024,
    numBeams: 1,
    template: "model",
    llavaConvMode: "vicuna_v1",
    source: "scripts/v1_5/eval/sqa.sh -> llava/eval/model_vqa_science.py (--temperature 0 --single-pred-prompt; max_new_tokens fixed at 1024)",
  },
  mmvp: {
    temperature: 0,
    maxNewTokens: 1024,
    numBeams: 1,
    template: "model",
    llavaConvMode: "llava_v1",
    source:
      "tsb0601/MMVP scripts/evaluate_mllm.py (max_new_tokens 1024, default conv mode llava_v1); that script SAMPLES at temperature 0.2 by default, greedy (0) here for reproducibility",
  },
};
