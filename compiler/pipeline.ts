/**
 * The pipeline, every phase from text to files: resolve (imports, scopes) -> evaluate -> check ->
 * grid (`compile`), then plan (`planExperiments`), emit (`emitExperiments`: typed graph modules) and
 * export (`exportExperiments`: launch scripts for a trainer). It carries the diagnostics and skips a
 * phase whose input is broken; each phase is a plain function of the previous one's result, and none
 * touches the file system (the command line writes what they return).
 */
import { join, resolve } from "node:path";
import { InternalError } from "../core/errors.js";
import { packageRoot } from "../core/package_root.js";
import type * as A from "../grammar/ast.js";
import { parseAssignment } from "../grammar/index.js";
import { checkSchema, checkShapes } from "./check.js";
import { Configurer } from "./configure.js";
import { Diagnostics, type At } from "../core/diagnostics.js";
import { M } from "../core/messages.js";
import { Evaluator } from "./evaluate.js";
import type { EmittedFile } from "./emit.js";
import { exportLlava, type ExportResult, type ExportSettings } from "./export/index.js";
import { wontFit, type Unfit } from "./export/problems.js";
import { GridBuilder, type ExperimentGrid, type OnlyFilter, type SetOverride, type Variant } from "./grid.js";
import { variantMemory } from "./memory.js";
import { declarationOf, placeOf } from "./places.js";
import { buildPlan } from "./plan.js";
import { loadProgram, nodeHost, type Host, type Program } from "./resolve.js";
import { SourceFile } from "../core/source.js";
import { suggest } from "../core/suggest.js";
import { equalValues } from "./values.js";
import { validatePlan } from "../plan/io.js";
import { variantFolder } from "../plan/names.js";
import type { Plan } from "../plan/plan.js";

export interface CompileOptions {
  readonly host?: Host;
  /** the entry file's text, instead of reading it */
  readonly text?: string;
  /** `--set PATH=VALUE`, applied to every variant after its axis values (an axis path is an error) */
  readonly sets?: readonly string[];
  /** `--only PATH=VALUE`, keeping the variants whose axis PATH has that label or value */
  readonly only?: readonly string[];
  /** expand the grids (default true); `check` without grids is faster but misses grid errors */
  readonly grid?: boolean;
}

export interface Compilation {
  readonly program: Program;
  readonly diagnostics: Diagnostics;
  readonly experiments: readonly ExperimentGrid[];
  readonly evaluator: Evaluator;
}

interface ParsedFlag {
  readonly flag: "--set" | "--only";
  readonly raw: string;
  readonly path: A.Path;
  /** absent for an --only label that is not an mmfm value (`--only model.language=7b`) */
  readonly value?: A.Expr;
  readonly label: string;
}

/** `PATH=VALUE` from the command line, parsed as mmfm in a source file holding just the flag. */
function parseFlag(flag: "--set" | "--only", raw: string, diagnostics: Diagnostics): ParsedFlag | undefined {
  const source = new SourceFile(flag, raw);
  const local = new Diagnostics();
  const parsed = parseAssignment(source, local);
  const eq = raw.indexOf("=");
  const label = eq >= 0 ? raw.slice(eq + 1).trim() : "";
  if (!parsed.path || parsed.path.segments.length === 0 || label === "") {
    diagnostics.report(M.flagNotAssignment, { flag, raw });
    return undefined;
  }
  if (!parsed.value || local.hasErrors) {
    if (flag === "--only") return { flag, raw, path: parsed.path, label };
    diagnostics.report(M.flagNotAValue, { flag, raw, value: label, problem: parsed.error });
    return undefined;
  }
  return { flag, raw, path: parsed.path, value: parsed.value, label };
}

export function compile(entryPath: string, options: CompileOptions = {}): Compilation {
  const diagnostics = new Diagnostics();
  const host = options.host ?? nodeHost();
  const program = loadProgram(entryPath, host, diagnostics, options.text);
  const evaluator = new Evaluator(program, diagnostics);
  evaluator.evaluateAll();
  const configurer = new Configurer(evaluator, diagnostics);
  for (const component of [...evaluator.components]) {
    checkSchema(component, diagnostics);
    checkShapes(component, diagnostics);
    // a model is checked as a whole too (connector widths), used by an experiment or not
    if (component.kind === "model") configurer.model(component);
  }
  const experiments: ExperimentGrid[] = [];
  const sets = (options.sets ?? []).map((s) => parseFlag("--set", s, diagnostics)).filter((s): s is ParsedFlag => !!s);
  const onlyFlags = (options.only ?? []).map((s) => parseFlag("--only", s, diagnostics)).filter((s): s is ParsedFlag => !!s);
  if (options.grid === false) {
    suppressInBrokenItems(program, diagnostics);
    return { program, diagnostics, experiments, evaluator };
  }

  const builder = new GridBuilder(evaluator, diagnostics, program.entry);
  const only: OnlyFilter[] = onlyFlags.map((o) => {
    // the value, evaluated once by the same evaluator, so declarations compare by identity
    let value: ReturnType<Evaluator["evaluate"]> | undefined;
    return {
      path: o.path.segments.map((s) => s.text).join("."),
      value: o.label,
      matches: (v) => {
        if (!o.value) return false;
        if (!value) {
          const local = new Diagnostics();
          value = new Evaluator(program, local).evaluate(o.value, program.entry);
          if (local.hasErrors) value = { type: "error", span: o.value.span };
          else value = evaluator.evaluate(o.value, program.entry);
        }
        return equalValues(v, value) === true;
      },
    };
  });
  const setOverrides: SetOverride[] = sets.map((s) => ({ path: s.path, value: s.value!, raw: s.raw }));
  for (const binding of program.entry.own.values()) {
    if (binding.kind !== "decl" || binding.node.declKind !== "experiment") continue;
    const component = evaluator.declaration(binding);
    if (!component) continue;
    const grid = builder.expand(component, { sets: setOverrides, only });
    if (grid) experiments.push(grid);
  }
  for (const s of setOverrides) {
    if (!builder.usedSets.has(s) && !diagnostics.hasErrors) {
      diagnostics.report(M.setUnused, { raw: s.raw, name: s.path.segments[0].text }, { span: s.path.span });
    }
  }
  unusedWarnings(program, evaluator, diagnostics);
  suppressInBrokenItems(program, diagnostics);
  if (only.length > 0 && experiments.length > 0 && experiments.every((e) => e.variants.length === 0) && !diagnostics.hasErrors) {
    diagnostics.report(M.noVariantMatchesOnly, { only: options.only ?? [], labels: onlyLabels(entryPath, { ...options, host }, only) });
  }
  return { program, diagnostics, experiments, evaluator };
}

/**
 * For an --only that matches nothing: the labels each --only path has without the --only flags (the
 * grid expanded again, on this error path only), with the nearest to the label asked for.
 */
function onlyLabels(entryPath: string, options: CompileOptions, only: readonly OnlyFilter[]): { path: string; labels: string[]; guess?: string }[] {
  const all = compile(entryPath, { ...options, only: [] }).experiments;
  return only.map((o) => {
    const labels = [...new Set(all.flatMap((e) => e.variants.map((v) => v.axes[o.path]).filter((l): l is string => l !== undefined)))];
    return { path: o.path, labels, guess: labels.includes(o.value) ? undefined : suggest(o.value, labels) };
  });
}

/**
 * After a syntax error, recovery leaves a declaration half-read; what the checker says about it is
 * mostly noise. Keep the syntax errors and drop other diagnostics inside the same top-level item.
 */
function suppressInBrokenItems(program: Program, diagnostics: Diagnostics): void {
  const syntax = diagnostics.items.filter((d) => d.code.startsWith("E01") && d.span);
  if (syntax.length === 0) return;
  const broken: { file: unknown; start: number; end: number }[] = [];
  for (const module of program.modules) {
    for (const file of module.files) {
      for (const item of file.items) {
        const hit = syntax.some((d) => d.span!.file === file.source && d.span!.start >= item.span.start && d.span!.start <= item.span.end);
        if (hit) broken.push({ file: file.source, start: item.span.start, end: item.span.end });
      }
    }
  }
  const keep = diagnostics.items.filter(
    (d) => d.code.startsWith("E01") || !d.span || !broken.some((b) => b.file === d.span!.file && d.span!.start >= b.start && d.span!.end <= b.end),
  );
  diagnostics.items.length = 0;
  for (const d of keep) diagnostics.items.push(d);
}

/** W0101 for `let`s of the entry file nothing refers to; W0201 for imports whose names go unused. */
function unusedWarnings(program: Program, evaluator: Evaluator, diagnostics: Diagnostics): void {
  const entry = program.entry;
  const used = evaluator.usedIn(entry);
  for (const binding of entry.own.values()) {
    if (binding.kind === "let" && !used.has(binding)) {
      diagnostics.report(M.unusedLet, { name: binding.node.name.text }, { span: binding.node.name.span });
    }
  }
  const file = entry.files[0];
  if (!file) return;
  for (const item of file.items) {
    if (item.kind !== "Import") continue;
    const target = program.modules.find((m) => (item.path.value === "std" ? m.isStd : m.id !== entry.id && m.files.some((f) => f.source.absolutePath && item.path.value && f.source.absolutePath.endsWith(item.path.value.replace(/^\.\//, "").replace(/(\.mmfm)?$/, ".mmfm")))));
    if (!target) continue;
    const usedAny = [...target.own.values()].some((b) => used.has(b));
    if (!usedAny) {
      diagnostics.report(M.unusedImport, { path: item.path.text }, { span: item.span });
    }
  }
}

/**
 * The memory phase: W0501 for every stage that will not fit in its devices' memory on the cluster the
 * experiment describes, with the smallest change that makes it fit (`mmfmc grid`; the export reports
 * the same for what it exports), once per cause: a stage that does not fit in several variants is one
 * warning naming them.
 */
export function checkMemory(compilation: Compilation): void {
  const unfit: Unfit[] = [];
  for (const e of compilation.experiments) {
    for (const v of e.variants) {
      variantMemory(v).forEach(({ estimate, fix }, i) => {
        if (!estimate.fits) unfit.push({ id: v.id, stage: v.config.stages[i].name, memory: estimate, fix, at: stageDeclaration(v, `/stages/${i}`) });
      });
    }
  }
  for (const d of wontFit(unfit)) compilation.diagnostics.add(d);
}

/** Where a stage of a variant is declared, else where the spec writes it into the variant. */
function stageDeclaration(variant: Variant, pointer: string): At {
  const span = declarationOf(variant, pointer);
  return span ? { span } : placeOf(variant, pointer);
}

// ---- from variants to files: plans, typed graph modules, export targets ---------------------------

/** An experiment's variants with their plans, as they are written under `OUT/EXPERIMENT/FOLDER`. */
export interface PlannedExperiment {
  readonly name: string;
  /** absolute folder of the experiment's output */
  readonly dir: string;
  readonly axes: readonly string[];
  readonly variants: readonly Variant[];
  readonly plans: readonly Plan[];
}

export interface PlanOptions {
  /** the spec's path */
  readonly specPath: string;
  /** the output folder holding one folder per experiment */
  readonly outDir: string;
}

/** The plan of every variant, each checked against the plan schema (a mismatch is a compiler bug). */
export function planExperiments(compilation: Compilation, options: PlanOptions): PlannedExperiment[] {
  const specPath = resolve(options.specPath);
  const stdDir = join(packageRoot(), "std");
  return compilation.experiments.map((experiment) => {
    const dir = resolve(options.outDir, experiment.name);
    const plans = experiment.variants.map((v) => {
      const plan = buildPlan(v, { specPath, planDir: join(dir, variantFolder(v.id)), stdDir });
      const problems = validatePlan(plan);
      if (problems.length) throw new InternalError(`the plan of ${v.id} does not match schema/plan.schema.json:\n  ${problems.slice(0, 8).join("\n  ")}`);
      return plan;
    });
    return { name: experiment.name, dir, axes: experiment.axes, variants: experiment.variants, plans };
  });
}

/**
 * The variants named by id or folder (`--variant`; none named keeps every variant). A name that
 * matches no variant is reported (E0502) into the compilation's diagnostics.
 */
export function selectVariants(compilation: Compilation, planned: readonly PlannedExperiment[], wanted: readonly string[]): PlannedExperiment[] {
  if (wanted.length === 0) return [...planned];
  const named = (id: string) => wanted.some((w) => w === id || w === variantFolder(id));
  const all = planned.flatMap((e) => e.variants.map((v) => v.id));
  for (const w of wanted) {
    if (!all.some((id) => w === id || w === variantFolder(id))) {
      compilation.diagnostics.report(M.noVariantMatches, { variant: w, ids: all });
    }
  }
  return planned
    .map((e) => {
      const keep = e.variants.map((v) => named(v.id));
      return { ...e, variants: e.variants.filter((_, i) => keep[i]), plans: e.plans.filter((_, i) => keep[i]) };
    })
    .filter((e) => e.variants.length > 0);
}

/** An experiment's files, relative to its folder. */
export interface ExperimentFiles {
  readonly name: string;
  readonly dir: string;
  readonly plans: readonly Plan[];
  readonly files: readonly EmittedFile[];
}

/**
 * Per experiment: a typed graph module and the plan of each variant, the index module and
 * grid.yaml, type-checked before they are returned (`unchanged(path, text)`, from the caller who can
 * see the disk, lets an output identical to what is there skip the type-check). ts-morph loads here,
 * on the first emit, so the commands that do not emit start without it.
 */
export async function emitExperiments(
  planned: readonly PlannedExperiment[],
  options: { readonly source: string; readonly unchanged?: (dir: string, path: string, text: string) => boolean },
): Promise<ExperimentFiles[]> {
  const { emit } = await import("./emit.js");
  return planned.map((e) => {
    const unchanged = options.unchanged;
    const files = emit(
      { experiment: e.name, source: options.source, axes: e.axes, plans: e.plans },
      unchanged ? { unchanged: (path, text) => unchanged(e.dir, path, text) } : {},
    );
    return { name: e.name, dir: e.dir, plans: e.plans, files };
  });
}

/** An experiment's launch scripts for a trainer, with what the export tells about each variant. */
export interface ExportedExperiment extends ExportResult {
  readonly name: string;
  readonly dir: string;
}

/**
 * Launch scripts for the LLaVA/DeepSpeed trainer, per experiment. What the trainer cannot express is
 * reported into the compilation's diagnostics (with the spec's spans); a variant with such an error is
 * left out (`failed`) and the others are exported.
 */
export function exportExperiments(
  compilation: Compilation,
  planned: readonly PlannedExperiment[],
  options: { readonly source: string; readonly settings?: ExportSettings },
): ExportedExperiment[] {
  return planned.map((e) => {
    const byId = new Map<string, Variant>(e.variants.map((v) => [v.id, v]));
    // the plan moves the experiment's own fields under /cluster; places are found by config pointer
    const configPointer = (pointer: string) => pointer.replace(/^\/cluster\//, "/");
    const places = {
      at: (id: string, pointer: string) => {
        const variant = byId.get(id);
        return variant ? placeOf(variant, configPointer(pointer)) : {};
      },
      declaration: (id: string, pointer: string) => {
        const variant = byId.get(id);
        return variant ? stageDeclaration(variant, configPointer(pointer)) : {};
      },
    };
    const exported = exportLlava({ experiment: e.name, source: options.source, plans: e.plans, places, settings: options.settings });
    for (const d of exported.diagnostics) compilation.diagnostics.add(d);
    // each variant's plan, as `mmfmc build` writes it: what `mmfmc collect` reads the variants from
    const written = new Set(exported.variants.map((v) => v.id));
    const plans = e.plans.filter((p) => written.has(p.id)).map((p) => ({ path: `${variantFolder(p.id)}/plan.json`, text: JSON.stringify(p, null, 2) + "\n" }));
    return { name: e.name, dir: e.dir, ...exported, files: [...exported.files, ...plans] };
  });
}
