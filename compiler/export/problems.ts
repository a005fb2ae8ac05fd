/**
 * What the export reports: one function per problem, each making its diagnostic (E0504 for what the
 * LLaVA trainer cannot express, E0505 for a batch that does not split over the devices, W0501 for a
 * stage that will not fit), and `VariantProblems`, which puts them into the export's `Diagnostics` at
 * the span of the plan value they concern.
 */
import { diagnosticOf, type Diagnostic, type Diagnostics } from "../../core/diagnostics.js";
import { M } from "../../core/messages.js";
import type { Span } from "../../core/source.js";
import type { Plan } from "../../plan/plan.js";
import type { CodeBase } from "./code_bases.js";
import { breakdown, gib, type MemoryEstimate, type MemoryFix } from "../memory.js";

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

// ---- checkpoints ------------------------------------------------------------------------------------

/** `weights` names a single file; from_pretrained reads a folder. */
export function checkpointFile(span: Span | undefined, backbone: string, file: string): Diagnostic {
  return diagnosticOf(M.checkpointFile, { backbone, file }, { span });
}

export function noCheckpoint(span: Span | undefined, backbone: string): Diagnostic {
  return diagnosticOf(M.noCheckpoint, { backbone }, { span });
}

/** A spec field that disagrees with the architecture of the checkpoint the trainer loads. */
export function architectureMismatch(span: Span | undefined, part: string, field: string, actual: unknown, hub: string, expected: unknown): Diagnostic {
  return diagnosticOf(M.architectureMismatch, { part, field, actual, hub, expected }, { span });
}

/** A vision family no code base loads (SigLIP). */
export function visionFamily(span: Span | undefined, family: string): Diagnostic {
  return diagnosticOf(M.visionFamily, { family: family === "siglip" ? "SigLIP" : `\`${family}\`` }, { span });
}

export function dinoFromFolder(span: Span | undefined): Diagnostic {
  return diagnosticOf(M.dinoFromFolder, {}, { span });
}

/** A hub id build_vision_tower would not load as the tower's family. */
export function towerId(span: Span | undefined, family: string, id: string, codeBase: CodeBase): Diagnostic {
  return diagnosticOf(M.towerId, { family, id, codeBase: codeBase.name }, { span });
}

/** A language family no code base trains. */
export function languageFamily(span: Span | undefined, family: string): Diagnostic {
  return diagnosticOf(M.languageFamily, { family }, { span });
}

/** A language checkpoint whose path train.py would not load as Gemma. */
export function notGemmaPath(span: Span | undefined, path: string): Diagnostic {
  return diagnosticOf(M.notGemmaPath, { path }, { span });
}

/** A LLaMA checkpoint whose path train.py would load as another class. */
export function llamaPath(span: Span | undefined, path: string, loadedAs: string, codeBase: CodeBase): Diagnostic {
  const name = { mpt: "MPT", gemma: "Gemma", llama: "LLaMA" }[loadedAs] ?? loadedAs;
  return diagnosticOf(M.llamaPath, { path, loadedAs: name, codeBase: codeBase.name, fork: codeBase.languageFamilies.includes("gemma") }, { span });
}

/** A template the code base has no conversation template for. */
export function missingTemplate(span: Span | undefined, template: string, codeBase: CodeBase): Diagnostic {
  const known = Object.keys(codeBase.versions).sort();
  return diagnosticOf(M.missingTemplate, { template, codeBase: codeBase.name, known }, { span });
}

export function separateTokenizer(span: Span | undefined): Diagnostic {
  return diagnosticOf(M.separateTokenizer, {}, { span });
}

export function imageToken(span: Span | undefined, token: string): Diagnostic {
  return diagnosticOf(M.imageTokenNotImage, { token }, { span });
}

// ---- stages -----------------------------------------------------------------------------------------

export function evalBeforeTraining(span: Span | undefined, stage: string): Diagnostic {
  return diagnosticOf(M.evalBeforeTraining, { stage }, { span });
}

export function syntheticBenchmark(span: Span | undefined): Diagnostic {
  return diagnosticOf(M.syntheticBenchmark, {}, { span });
}

export function unknownBenchmark(span: Span | undefined, family: string): Diagnostic {
  return diagnosticOf(M.unknownBenchmark, { family }, { span });
}

export function partOfBenchmark(span: Span | undefined, size: number, name: string): Diagnostic {
  return diagnosticOf(M.partOfBenchmark, { size, name }, { span });
}

export function notConversations(span: Span | undefined, family: string): Diagnostic {
  return diagnosticOf(M.notConversations, { family }, { span });
}

export function noImages(span: Span | undefined, dataset: string | null | undefined): Diagnostic {
  return diagnosticOf(M.noImages, { dataset }, { span });
}

export function trainsVision(span: Span | undefined, stage: string): Diagnostic {
  return diagnosticOf(M.trainsVision, { stage }, { span });
}

export function gaudiPrecision(span: Span | undefined, precision: string): Diagnostic {
  return diagnosticOf(M.gaudiPrecision, { precision }, { span });
}

export function mixedAccelerators(span: Span | undefined): Diagnostic {
  return diagnosticOf(M.mixedAccelerators, {}, { span });
}

/** E0505: per-device batch × devices × accumulation cannot make the global batch. */
export function batchSplit(span: Span | undefined, stage: string, batch: number, devices: number, microBatch: number, valid: readonly number[]): Diagnostic {
  return diagnosticOf(M.batchSplit, { stage, batch, devices, microBatch, valid }, { span });
}

/** W0501, the same message as `mmfmc grid`'s. */
export function wontFit(span: Span | undefined, id: string, stage: string, memory: MemoryEstimate, fix: MemoryFix | undefined): Diagnostic {
  const needs = fix ? { change: fix.change, needs: gib(fix.estimate.total) } : undefined;
  return diagnosticOf(M.stageDoesNotFit, { stage, id, needs: gib(memory.total), available: gib(memory.available), breakdown: breakdown(memory), fix: needs }, { span });
}
