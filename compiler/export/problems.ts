/**
 * What the export reports: one function per problem, each making its diagnostic (E0504 for what the
 * LLaVA trainer cannot express, E0505 for a batch that does not split over the devices, W0501 for a
 * stage that will not fit), and `VariantProblems`, which puts them into the export's `Diagnostics` at
 * the place of the plan value they concern.
 */
import { diagnosticOf, type At, type Diagnostic, type Diagnostics } from "../../core/diagnostics.js";
import { M } from "../../core/messages.js";
import type { Plan } from "../../plan/plan.js";
import type { CodeBase } from "./code_bases.js";
import { breakdown, gib, type MemoryEstimate, type MemoryFix } from "../memory.js";

/** Where the spec writes the values of plans (compiler/places.ts), by plan id and JSON pointer into the plan. */
export interface Places {
  /** the value that causes a problem, with the axis that brought it into the variant as a secondary span */
  at(id: string, pointer: string): At;
  /** the declaration of the component at the pointer (a stage, for W0501) */
  declaration(id: string, pointer: string): At;
}

/** The problems of one variant, reported into the export's diagnostics. */
export class VariantProblems {
  /** an error was reported for this variant (a repeat is shown once but still fails its variant) */
  failed = false;

  constructor(
    private readonly diagnostics: Diagnostics,
    readonly plan: Plan,
    private readonly places: Places | undefined,
  ) {}

  /** The place of a plan value, or of the nearest enclosing value the spec writes. */
  at(pointer: string): At {
    return this.places?.at(this.plan.id, pointer) ?? {};
  }

  /** The declaration of the component at a pointer. */
  declaration(pointer: string): At {
    return this.places?.declaration(this.plan.id, pointer) ?? {};
  }

  report(d: Diagnostic): void {
    if (d.severity === "error") this.failed = true;
    this.diagnostics.add(d);
  }
}

// ---- checkpoints ------------------------------------------------------------------------------------

/** `weights` names a single file; from_pretrained reads a folder. */
export function checkpointFile(at: At, backbone: string, file: string): Diagnostic {
  return diagnosticOf(M.checkpointFile, { backbone, file }, at);
}

export function noCheckpoint(at: At, backbone: string): Diagnostic {
  return diagnosticOf(M.noCheckpoint, { backbone }, at);
}

/** A spec field that disagrees with the architecture of the checkpoint the trainer loads. */
export function architectureMismatch(at: At, part: string, field: string, actual: unknown, hub: string, expected: unknown): Diagnostic {
  return diagnosticOf(M.architectureMismatch, { part, field, actual, hub, expected }, at);
}

/** A vision family no code base loads (SigLIP). */
export function visionFamily(at: At, family: string): Diagnostic {
  return diagnosticOf(M.visionFamily, { family: family === "siglip" ? "SigLIP" : `\`${family}\`` }, at);
}

export function dinoFromFolder(at: At): Diagnostic {
  return diagnosticOf(M.dinoFromFolder, {}, at);
}

/** A hub id build_vision_tower would not load as the tower's family. */
export function towerId(at: At, family: string, id: string, codeBase: CodeBase): Diagnostic {
  return diagnosticOf(M.towerId, { family, id, codeBase: codeBase.name }, at);
}

/** A language family no code base trains. */
export function languageFamily(at: At, family: string): Diagnostic {
  return diagnosticOf(M.languageFamily, { family }, at);
}

/** A language checkpoint whose path train.py would not load as Gemma. */
export function notGemmaPath(at: At, path: string): Diagnostic {
  return diagnosticOf(M.notGemmaPath, { path }, at);
}

/** A LLaMA checkpoint whose path train.py would load as another class. */
export function llamaPath(at: At, path: string, loadedAs: string, codeBase: CodeBase): Diagnostic {
  const name = { mpt: "MPT", gemma: "Gemma", llama: "LLaMA" }[loadedAs] ?? loadedAs;
  return diagnosticOf(M.llamaPath, { path, loadedAs: name, codeBase: codeBase.name, fork: codeBase.languageFamilies.includes("gemma") }, at);
}

/** A template the code base has no conversation template for. */
export function missingTemplate(at: At, template: string, codeBase: CodeBase): Diagnostic {
  const known = Object.keys(codeBase.versions).sort();
  return diagnosticOf(M.missingTemplate, { template, codeBase: codeBase.name, known }, at);
}

export function separateTokenizer(at: At): Diagnostic {
  return diagnosticOf(M.separateTokenizer, {}, at);
}

export function imageToken(at: At, token: string): Diagnostic {
  return diagnosticOf(M.imageTokenNotImage, { token }, at);
}

// ---- stages -----------------------------------------------------------------------------------------

export function evalBeforeTraining(at: At, stage: string): Diagnostic {
  return diagnosticOf(M.evalBeforeTraining, { stage }, at);
}

export function syntheticBenchmark(at: At): Diagnostic {
  return diagnosticOf(M.syntheticBenchmark, {}, at);
}

export function unknownBenchmark(at: At, family: string): Diagnostic {
  return diagnosticOf(M.unknownBenchmark, { family }, at);
}

export function partOfBenchmark(at: At, size: number, name: string): Diagnostic {
  return diagnosticOf(M.partOfBenchmark, { size, name }, at);
}

export function notConversations(at: At, family: string): Diagnostic {
  return diagnosticOf(M.notConversations, { family }, at);
}

export function noImages(at: At, dataset: string | null | undefined): Diagnostic {
  return diagnosticOf(M.noImages, { dataset }, at);
}

export function pretrainingObjective(at: At, objective: string, stage: string): Diagnostic {
  return diagnosticOf(M.pretrainingObjective, { objective, stage }, at);
}

/** A stage that trains the vision tower: neither code base's train.py can unfreeze it. */
export function trainsVision(at: At, stage: string, codeBase: CodeBase): Diagnostic {
  return diagnosticOf(M.trainsVision, { stage, codeBase: codeBase.name }, at);
}

/** Several datasets or a mixture in one stage: train.py reads one `--data_path`. */
export function severalDatasets(at: At, stage: string, field: "data" | "mixture", codeBase: CodeBase): Diagnostic {
  return diagnosticOf(M.severalDatasets, { stage, field, codeBase: codeBase.name }, at);
}

/** A training stage after a LoRA stage: train.py cannot start from the adapters a LoRA stage saves. */
export function trainAfterLora(at: At, stage: string, lora: string, codeBase: CodeBase): Diagnostic {
  return diagnosticOf(M.trainAfterLora, { stage, lora, codeBase: codeBase.name }, at);
}

/** An evaluation after a LoRA stage that froze a projector its checkpoint then lacks. */
export function loraFrozenConnector(at: At, stage: string, pretrained: boolean, codeBase: CodeBase): Diagnostic {
  return diagnosticOf(M.loraFrozenConnector, { stage, from: pretrained ? "the previous stage's mm_projector.bin" : "as train.py initialised it", codeBase: codeBase.name }, at);
}

/** An evaluation after a LoRA stage whose model load_pretrained_model cannot rebuild. */
export function loraEval(at: At, stage: string, family: string, codeBase: CodeBase): Diagnostic {
  return diagnosticOf(M.loraEval, { stage, family, codeBase: codeBase.name }, at);
}

export function gaudiPrecision(at: At, precision: string): Diagnostic {
  return diagnosticOf(M.gaudiPrecision, { precision }, at);
}

export function mixedAccelerators(at: At): Diagnostic {
  return diagnosticOf(M.mixedAccelerators, {}, at);
}

/** E0505: per-device batch × devices × accumulation cannot make the global batch. */
export function batchSplit(at: At, stage: string, batch: number, devices: number, microBatch: number, valid: readonly number[]): Diagnostic {
  return diagnosticOf(M.batchSplit, { stage, batch, devices, microBatch, valid }, at);
}

/** A training stage of one variant that will not fit in its devices' memory, before W0501 says it. */
export interface Unfit {
  readonly id: string;
  readonly stage: string;
  readonly memory: MemoryEstimate;
  readonly fix: MemoryFix | undefined;
  /** the stage's declaration */
  readonly at: At;
}

/**
 * W0501 once per cause (`mmfmc grid` and the export say the same): the same stage not fitting the same
 * devices in several variants, with the same change to make it fit, is one warning naming each
 * variant with its need; the largest need gives the numbers.
 */
export function wontFit(unfit: readonly Unfit[]): Diagnostic[] {
  const causes = new Map<string, Unfit[]>();
  for (const u of unfit) {
    const s = u.at.span;
    const key = [u.stage, s?.file.path, s?.start, u.memory.available, u.fix?.change].join("|");
    causes.set(key, [...(causes.get(key) ?? []), u]);
  }
  return [...causes.values()].map((group) => {
    const largest = group.reduce((a, b) => (b.memory.total > a.memory.total ? b : a));
    const fix = largest.fix ? { change: largest.fix.change, needs: gib(largest.fix.estimate.total) } : undefined;
    const variants = group.map((u) => ({ id: u.id, needs: gib(u.memory.total) }));
    return diagnosticOf(
      M.stageDoesNotFit,
      { stage: largest.stage, variants, needs: gib(largest.memory.total), available: gib(largest.memory.available), breakdown: breakdown(largest.memory), fix },
      largest.at,
    );
  });
}
