/**
 * How an eval stage generates its answers for one dataset: the stage's `max_new_tokens`,
 * `temperature` and `top_p` where the spec sets them, else the defaults of the benchmark's LLaVA
 * evaluation script. Shared by the compiler (memory estimates, export) and the runtime (the eval
 * stage), so both read one table.
 */
import type { DatasetPlan, EvalStagePlan } from "./plan.js";

export interface GenerationDefaults {
  readonly maxNewTokens: number;
  /** 0 = greedy */
  readonly temperature: number;
  /** where the values come from */
  readonly source: string;
}

const loaderScript = (benchmark: string): GenerationDefaults => ({
  maxNewTokens: 128,
  temperature: 0,
  source: `LLaVA scripts/v1_5/eval/${benchmark}.sh -> llava/eval/model_vqa_loader.py (--temperature 0, default --max_new_tokens 128)`,
});

/** Per dataset family of an eval stage. */
export const generationDefaults: Readonly<Record<EvalStagePlan["data"][number]["family"], GenerationDefaults>> = {
  vqav2: loaderScript("vqav2"),
  gqa: loaderScript("gqa"),
  pope: loaderScript("pope"),
  mme: loaderScript("mme"),
  scienceqa: {
    maxNewTokens: 1024,
    temperature: 0,
    source: "LLaVA scripts/v1_5/eval/sqa.sh -> llava/eval/model_vqa_science.py (--temperature 0; max_new_tokens fixed at 1024)",
  },
  mmvp: {
    maxNewTokens: 1024,
    temperature: 0,
    source: "MMVP scripts/evaluate_mllm.py (max_new_tokens 1024); it samples at 0.2, mmfm decodes greedily unless the spec sets `temperature`",
  },
  synthetic_shapes: { maxNewTokens: 128, temperature: 0, source: "mmfm's synthetic test split, asked as model_vqa_loader.py asks (its defaults)" },
};

export interface Generation {
  readonly maxNewTokens: number;
  /** 0 = greedy; above 0 samples */
  readonly temperature: number;
  /** nucleus sampling threshold; null = no top-p filter */
  readonly topP: number | null;
}

type GenerationFields = Pick<EvalStagePlan, "max_new_tokens" | "temperature" | "top_p">;

/** The settings one dataset of an eval stage is generated with. */
export function evalGeneration(stage: GenerationFields, data: Pick<DatasetPlan, "family">): Generation {
  const defaults = generationDefaults[data.family as keyof typeof generationDefaults] ?? generationDefaults.synthetic_shapes;
  return {
    maxNewTokens: stage.max_new_tokens ?? defaults.maxNewTokens,
    temperature: stage.temperature ?? defaults.temperature,
    topP: stage.top_p ?? null,
  };
}

/** The longest answer any dataset of the stage may get (for memory estimates). */
export function evalMaxNewTokens(stage: Pick<EvalStagePlan, "max_new_tokens"> & { readonly data: readonly Pick<DatasetPlan, "family">[] }): number {
  if (stage.max_new_tokens !== null) return stage.max_new_tokens;
  return Math.max(...stage.data.map((d) => evalGeneration({ max_new_tokens: null, temperature: null, top_p: null }, d).maxNewTokens));
}
