/**
 * What the export reports: one function per problem, each making its diagnostic (E0504 for what the
 * LLaVA trainer cannot express, E0505 for a batch that does not split over the devices, W0501 for a
 * stage that will not fit), and `VariantProblems`, which puts them into the export's `Diagnostics` at
 * the span of the plan value they concern.
 */
import { diagnostic, type Diagnostic, type Diagnostics } from "../../core/diagnostics.js";
import type { Span } from "../../core/source.js";
import type { Plan } from "../../plan/plan.js";
import { memoryWarning, type MemoryEstimate, type MemoryFix } from "../memory.js";

/** Where a value of a plan was set in the spec (plan id, JSON pointer into the plan). */
export type SpanOf = (id: string, pointer: string) => Span | undefined;

/** The problems of one variant, reported into the export's diagnostics. */
export class VariantProblems {
  /** an error was reported for this variant (a repeat is shown once but still fails its variant) */
  failed = false;

  constructor(
    private readonly diagnostics: Diagnostics,
    readonly plan: Plan,
    private readonly spanOf: SpanOf | undefined,
  ) {}

  /** The span of a plan value, or of the nearest enclosing value that has one. */
  span(pointer: string): Span | undefined {
    for (let p = pointer; p; p = p.slice(0, p.lastIndexOf("/"))) {
      const s = this.spanOf?.(this.plan.id, p);
      if (s) return s;
    }
    return undefined;
  }

  report(d: Diagnostic): void {
    if (d.severity === "error") this.failed = true;
    this.diagnostics.add(d);
  }
}

type Help = string | readonly string[];

function cannotExpress(span: Span | undefined, what: string, help: Help): Diagnostic {
  return diagnostic("E0504", `the LLaVA trainer cannot express ${what}`, { span, help });
}

// ---- checkpoints ------------------------------------------------------------------------------------

/** `weights` names a single file; from_pretrained reads a folder. */
export function checkpointFile(span: Span | undefined, backbone: string, file: string): Diagnostic {
  return cannotExpress(span, `${backbone} from the file \`${file}\``, [
    "LLaVA loads checkpoints with from_pretrained, which reads a Hugging Face folder (config.json and weights)",
    "point `weights` at that folder, or remove it to use `hub_id`",
  ]);
}

export function noCheckpoint(span: Span | undefined, backbone: string): Diagnostic {
  return cannotExpress(span, `${backbone} without a checkpoint: it has neither \`weights\` nor \`hub_id\``, [
    "set `hub_id` to the Hugging Face id of the real checkpoint, or `weights` to a local Hugging Face folder",
  ]);
}

/** A spec field that disagrees with the architecture of the checkpoint the trainer loads. */
export function architectureMismatch(span: Span | undefined, part: string, field: string, actual: unknown, hub: string, expected: unknown): Diagnostic {
  return cannotExpress(span, `\`${field}\` = ${JSON.stringify(actual)} of the ${part} backbone: it loads \`${hub}\`, whose \`${field}\` is ${JSON.stringify(expected)}`, [
    `the trainer takes the architecture from the checkpoint; remove \`${field}\` or use a checkpoint that has it (\`weights\`)`,
  ]);
}

export function sigLipTower(span: Span | undefined): Diagnostic {
  return cannotExpress(span, "a SigLIP vision tower", [
    "LLaVA-Gemma's build_vision_tower accepts CLIP (an `openai`/`laion` id or a folder) and DINOv2 (an id containing `dino`)",
    "use `clip_vit` or `dinov2`, or run this variant on the tfjs runtime (`mmfmc run`)",
  ]);
}

export function dinoFromFolder(span: Span | undefined): Diagnostic {
  return cannotExpress(span, "a DINOv2 tower from a local folder", [
    "LLaVA-Gemma's build_vision_tower loads every existing folder as CLIP; DINOv2 is chosen only by a hub id containing `dino`",
    "remove `weights` and set `hub_id`, e.g. `facebook/dinov2-giant`",
  ]);
}

/** A hub id build_vision_tower would not load as the tower's family. */
export function towerId(span: Span | undefined, family: string, id: string): Diagnostic {
  return cannotExpress(span, `the ${family} tower \`${id}\``, [
    family === "clip_vit"
      ? "LLaVA-Gemma's build_vision_tower loads CLIP from an id starting with `openai` or `laion`, or from an existing folder (`weights`)"
      : "LLaVA-Gemma's build_vision_tower loads DINOv2 only from an id containing `dino`",
  ]);
}

/** A language checkpoint whose path train.py would not load as Gemma. */
export function notGemmaPath(span: Span | undefined, path: string): Diagnostic {
  return cannotExpress(span, `the Gemma checkpoint \`${path}\``, [
    "LLaVA-Gemma's train.py loads Gemma only when --model_name_or_path contains `gemma` (and not `mpt`)",
    "name the folder so that it does, e.g. `checkpoints/gemma-2b-it`",
  ]);
}

export function separateTokenizer(span: Span | undefined): Diagnostic {
  return cannotExpress(span, "a tokenizer apart from the model's checkpoint", [
    "LLaVA loads the tokenizer from --model_name_or_path; put tokenizer files in the `weights` folder and remove `tokenizer`",
  ]);
}

export function imageToken(span: Span | undefined, token: string): Diagnostic {
  return cannotExpress(span, `the image token \`${token}\``, "LLaVA's data files and code use `<image>`");
}

// ---- stages -----------------------------------------------------------------------------------------

export function evalBeforeTraining(span: Span | undefined, stage: string): Diagnostic {
  return cannotExpress(span, `the evaluation \`${stage}\` before any training stage`, "LLaVA's eval scripts evaluate a checkpoint the trainer wrote; put a training stage first");
}

export function syntheticBenchmark(span: Span | undefined): Diagnostic {
  return cannotExpress(span, "an evaluation on `synthetic_shapes`", "evaluate it with `mmfmc run`; LLaVA's eval scripts read the benchmarks' own files");
}

export function unknownBenchmark(span: Span | undefined, family: string): Diagnostic {
  return cannotExpress(span, `the benchmark \`${family}\``, "LLaVA's scripts/v1_5/eval has no script for it; score answers made elsewhere with `mmfmc score`");
}

export function partOfBenchmark(span: Span | undefined, size: number, name: string): Diagnostic {
  return cannotExpress(span, `\`size\` = ${size} of the benchmark \`${name}\``, "LLaVA's eval scripts evaluate the whole question file; remove `size` or point `annotations` at a shorter file");
}

export function notConversations(span: Span | undefined, family: string): Diagnostic {
  return cannotExpress(span, `training on \`${family}\``, "LLaVA trains on a conversation file: write it with `mmfmc data shapes --out DIR` and use `llava_json`");
}

export function noImages(span: Span | undefined, dataset: string | null | undefined): Diagnostic {
  return cannotExpress(span, `the dataset${dataset ? ` \`${dataset}\`` : ""} without \`images\``, "--image_folder is where LLaVA finds the samples' images; set `images`");
}

export function trainsVision(span: Span | undefined, stage: string): Diagnostic {
  return cannotExpress(span, `training the vision backbone in stage \`${stage}\``, "LLaVA's trainer keeps the vision tower frozen; train `connector` and/or `language`");
}

export function gaudiPrecision(span: Span | undefined, precision: string): Diagnostic {
  return cannotExpress(span, `\`precision\` = "${precision}" on Gaudi`, "LLaVA-Gemma's zero2_gaudi.json trains in bf16; use `precision = \"bf16\"` or `accelerator = \"gpu\"`");
}

export function mixedAccelerators(span: Span | undefined): Diagnostic {
  return cannotExpress(span, `stages of one experiment on both GPUs and Gaudi`, "the Slurm script asks for one kind of node: give every stage the same `accelerator`");
}

/** E0505: per-device batch × devices × accumulation cannot make the global batch. */
export function batchSplit(span: Span | undefined, stage: string, batch: number, devices: number, microBatch: number, valid: readonly number[]): Diagnostic {
  return diagnostic(
    "E0505",
    `global batch ${batch} of stage \`${stage}\` does not split over ${devices} devices at micro_batch ${microBatch}: ${batch} / (${microBatch} × ${devices}) is not a whole number of accumulation steps`,
    {
      span,
      help: [
        "the trainer runs micro_batch samples per device and accumulates gradients until the global batch: batch = micro_batch × devices × accumulation",
        valid.length ? `micro_batch values that split it over ${devices} devices: ${valid.join(", ")}` : `${devices} devices need a batch that is a multiple of ${devices}`,
      ],
    },
  );
}

/** W0501, the same text as `mmfmc grid`'s. */
export function wontFit(span: Span | undefined, id: string, stage: string, memory: MemoryEstimate, fix: MemoryFix | undefined): Diagnostic {
  const w = memoryWarning(id, stage, memory, fix);
  return diagnostic("W0501", w.message, { span, help: w.help });
}
