/**
 * The paper spec's 2B CLIP variant with connector pretraining, exported, against the training scripts
 * LLaVA-Gemma published, flag by flag.
 *
 * Source: IntelLabs/multimodal_cognitive_ai at d1f2acc39b68 ("Security updates (#50)"), folder
 * LLaVA-Gemma (the flags are unchanged since 74d4a33, "Adding LLaVA-Gemma"):
 *   scripts/v1_5/pretrain_gaudi.sh, scripts/v1_5/finetune_gaudi.sh, scripts/zero2_gaudi.json,
 *   scripts/gaudi_config.json.
 * The scripts' variables are resolved for MODEL_VER=2b-it on 8 HPUs: MODEL_PATH=google/gemma-2b-it,
 * DEVICE_BATCHSIZE 16 (pretrain) and 2 (finetune), GRAD_ACC = TOTAL_BATCH_SIZE / (DEVICE_BATCHSIZE ×
 * NUM_HPU) = 256 / (16 × 8) = 2 and 128 / (2 × 8) = 8. Paths keep their variables.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ExportedExperiment } from "../../compiler/pipeline.js";
import type { Plan } from "../../plan/plan.js";
import { tempDir } from "../helpers.js";
import { exportSpec, fakeMachine, flagPairs, writeExport } from "./helpers.js";

type Flags = [string, string | null][];

/** LLaVA-Gemma/scripts/v1_5/pretrain_gaudi.sh, the `deepspeed llava/train/train_mem.py` command. */
const publishedPretrain: Flags = [
  ["--deepspeed", "./scripts/zero2_gaudi.json"],
  ["--model_name_or_path", "google/gemma-2b-it"],
  ["--version", "gemma"],
  ["--data_path", "$DATA_DIR/datasets/LLaVA-Pretrain/blip_laion_cc_sbu_558k.json"],
  ["--image_folder", "$DATA_DIR/datasets/LLaVA-Pretrain"],
  ["--vision_tower", "openai/clip-vit-large-patch14-336"],
  ["--mm_projector_type", "mlp2x_gelu"],
  ["--tune_mm_mlp_adapter", "True"],
  ["--mm_vision_select_layer", "-2"],
  ["--mm_use_im_start_end", "False"],
  ["--mm_use_im_patch_token", "False"],
  ["--bf16", "True"],
  ["--output_dir", "$DATA_DIR/checkpoints/llava-gemma-2b-it-pretrain"],
  ["--num_train_epochs", "1"],
  ["--per_device_train_batch_size", "16"],
  ["--per_device_eval_batch_size", "4"],
  ["--gradient_accumulation_steps", "2"],
  ["--evaluation_strategy", "no"],
  ["--save_strategy", "steps"],
  ["--save_steps", "500"],
  ["--save_total_limit", "1"],
  ["--learning_rate", "1e-3"],
  ["--weight_decay", "0."],
  ["--warmup_ratio", "0.03"],
  ["--lr_scheduler_type", "cosine"],
  ["--logging_steps", "1"],
  ["--tf32", "False"],
  ["--model_max_length", "2048"],
  ["--gradient_checkpointing", "True"],
  ["--dataloader_num_workers", "16"],
  ["--lazy_preprocess", "True"],
  ["--use_habana", null],
  ["--use_lazy_mode", null],
  ["--distribution_strategy", "fast_ddp"],
  ["--gaudi_config", "./scripts/gaudi_config.json"],
  ["--report_to", "tensorboard"],
];

/** LLaVA-Gemma/scripts/v1_5/finetune_gaudi.sh, the `deepspeed llava/train/train_mem.py` command. */
const publishedFinetune: Flags = [
  ["--deepspeed", "./scripts/zero2_gaudi.json"],
  ["--model_name_or_path", "google/gemma-2b-it"],
  ["--version", "gemma"],
  ["--data_path", "$DATA_DIR/playground/data/llava_v1_5_mix665k.json"],
  ["--image_folder", "$DATA_DIR/datasets"],
  ["--vision_tower", "openai/clip-vit-large-patch14-336"],
  ["--pretrain_mm_mlp_adapter", "/data1/checkpoints/llava-gemma-2b-it-pretrain/mm_projector.bin"],
  ["--mm_projector_type", "mlp2x_gelu"],
  ["--mm_vision_select_layer", "-2"],
  ["--mm_use_im_start_end", "False"],
  ["--mm_use_im_patch_token", "False"],
  ["--image_aspect_ratio", "pad"],
  ["--group_by_modality_length", "True"],
  ["--bf16", "True"],
  ["--output_dir", "/root/llava-gemma-2b-it-finetune"],
  ["--num_train_epochs", "1"],
  ["--per_device_train_batch_size", "2"],
  ["--per_device_eval_batch_size", "4"],
  ["--gradient_accumulation_steps", "8"],
  ["--evaluation_strategy", "no"],
  ["--save_strategy", "steps"],
  ["--save_steps", "500"],
  ["--save_total_limit", "2"],
  ["--learning_rate", "2e-5"],
  ["--weight_decay", "0."],
  ["--warmup_ratio", "0.03"],
  ["--lr_scheduler_type", "cosine"],
  ["--logging_steps", "1"],
  ["--model_max_length", "2048"],
  ["--gradient_checkpointing", "False"],
  ["--dataloader_num_workers", "8"],
  ["--lazy_preprocess", "True"],
  ["--use_habana", null],
  ["--use_lazy_mode", null],
  ["--distribution_strategy", "fast_ddp"],
  ["--gaudi_config", "scripts/gaudi_config.json"],
  ["--report_to", "tensorboard"],
];

/** LLaVA-Gemma/scripts/zero2_gaudi.json and scripts/gaudi_config.json, as parsed JSON. */
const publishedZero2Gaudi = {
  train_batch_size: "auto",
  train_micro_batch_size_per_gpu: "auto",
  steps_per_print: 10,
  gradient_accumulation_steps: "auto",
  zero_optimization: { stage: 2, overlap_comm: false, contiguous_gradients: true, reduce_scatter: false, sub_group_size: 1e9 },
  bf16: { enabled: true },
  fp16: { enabled: false },
};
const publishedGaudiConfig = { use_torch_autocast: false, hmp_is_verbose: false, use_fused_adam: true, use_fused_clip_norm: true };

/** Flags whose value is a path: mmfm substitutes its own paths for these (docs/export.md). */
const pathFlags = new Set(["--deepspeed", "--data_path", "--image_folder", "--output_dir", "--pretrain_mm_mlp_adapter", "--gaudi_config"]);

describe("the 2B CLIP pretrained variant of the paper spec", () => {
  let exported: ExportedExperiment;
  let plan: Plan;
  let dir: string;
  let pretrain: string[];
  let finetune: string[];
  const specDir = "/data/llava";

  beforeAll(async () => {
    const out = tempDir("mmfm-published-");
    const { exports, diagnostics } = await exportSpec("examples/llava-gemma.mmfm", out);
    expect(diagnostics.map((d) => d.message)).toEqual([]);
    exported = exports[0];
    dir = exported.dir;
    writeExport(exported, dir);
    const { compile } = await import("../../compiler/pipeline.js");
    const { buildPlan } = await import("../../compiler/plan.js");
    const variant = compile("examples/llava-gemma.mmfm").experiments[0].variants.find((v) => v.id.endsWith("/pretrained-clip-2b"))!;
    plan = buildPlan(variant, { specPath: "examples/llava-gemma.mmfm", planDir: out, stdDir: "std" });
    // run both stages on a fake machine with 8 Gaudi devices: bash itself turns the scripts into argv
    const machine = fakeMachine(8);
    const env = { DATA_DIR: specDir, HABANA_VISIBLE_DEVICES: "0,1,2,3,4,5,6,7" };
    for (const stage of ["1-pretrain.sh", "2-finetune.sh"]) {
      const r = machine.run(join(dir, "pretrained-clip-2b", stage), env);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
    const calls = machine.calls();
    expect(calls.map((c) => c.slice(0, 2))).toEqual([
      ["deepspeed", "llava/train/train_mem.py"],
      ["deepspeed", "llava/train/train_mem.py"],
    ]);
    [pretrain, finetune] = calls.map((c) => c.slice(2));
  });

  for (const [stage, published] of [
    ["pretrain", () => publishedPretrain],
    ["finetune", () => publishedFinetune],
  ] as const) {
    it(`${stage}: the same flags in the same order, and the same value for every flag that is not a path`, () => {
      const argv = stage === "pretrain" ? pretrain : finetune;
      const ours = flagPairs(argv);
      expect(ours.map(([f]) => f)).toEqual(published().map(([f]) => f));
      const values = (flags: Flags) => flags.filter(([f]) => !pathFlags.has(f));
      expect(values(ours)).toEqual(values(published()));
    });
  }

  it("substitutes the paths as documented: the spec's data under DATA_DIR, configs beside the scripts, outputs chained", () => {
    const p = new Map(flagPairs(pretrain));
    const f = new Map(flagPairs(finetune));
    const [pre, fine] = plan.stages;
    if (pre.kind !== "stage" || fine.kind !== "stage" || pre.data[0].family !== "llava_json" || fine.data[0].family !== "llava_json") throw new Error("unexpected plan");
    // a dataset's annotations and images are --data_path and --image_folder, relative to DATA_DIR
    expect(p.get("--data_path")).toBe(`${specDir}/${pre.data[0].annotations}`);
    expect(p.get("--image_folder")).toBe(`${specDir}/${pre.data[0].images}`);
    expect(f.get("--data_path")).toBe(`${specDir}/${fine.data[0].annotations}`);
    expect(f.get("--image_folder")).toBe(`${specDir}/${fine.data[0].images}`);
    // the file names of the data are the published ones
    expect(p.get("--data_path")!.split("/").pop()).toBe("blip_laion_cc_sbu_558k.json");
    expect(f.get("--data_path")!.split("/").pop()).toBe("llava_v1_5_mix665k.json");
    // the DeepSpeed and Gaudi configurations are files beside the scripts, with the published contents
    for (const flags of [p, f]) {
      expect(flags.get("--deepspeed")).toBe(join(dir, "zero2_gaudi.json"));
      expect(flags.get("--gaudi_config")).toBe(join(dir, "gaudi_config.json"));
    }
    expect(JSON.parse(readFileSync(join(dir, "zero2_gaudi.json"), "utf8"))).toEqual(publishedZero2Gaudi);
    expect(JSON.parse(readFileSync(join(dir, "gaudi_config.json"), "utf8"))).toEqual(publishedGaudiConfig);
    // finetuning starts from the projector pretraining wrote, as the published scripts chain them
    expect(f.get("--pretrain_mm_mlp_adapter")).toBe(`${p.get("--output_dir")}/mm_projector.bin`);
    // LLaVA's loaders need `llava` and `gemma` in the model folder's name
    expect(f.get("--output_dir")!.split("/").pop()).toBe("llava-gemma");
  });

  it("splits every stage's global batch as per-device batch × devices × accumulation", () => {
    for (const [argv, s] of [
      [pretrain, plan.stages[0]],
      [finetune, plan.stages[1]],
    ] as const) {
      const flags = new Map(flagPairs(argv));
      const perDevice = Number(flags.get("--per_device_train_batch_size"));
      const accumulation = Number(flags.get("--gradient_accumulation_steps"));
      expect(perDevice * accumulation * plan.cluster.devices).toBe(s.kind === "stage" ? s.batch : NaN);
    }
  });
});
