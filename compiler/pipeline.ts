/**
 * The pipeline: resolve (imports, scopes) -> evaluate -> check -> grid. It carries the diagnostics and
 * skips a phase whose input is broken. Each phase is a plain function of the previous one's result.
 */
import type * as A from "../grammar/ast.js";
import { parseSource } from "../grammar/index.js";
import { checkSchema, checkShapes } from "./check.js";
import { Resolver } from "./config.js";
import { Diagnostics } from "./diagnostics.js";
import { Evaluator } from "./evaluate.js";
import { GridBuilder, type ExperimentGrid, type OnlyFilter, type SetOverride } from "./grid.js";
import { loadProgram, nodeHost, type Host, type Program } from "./resolve.js";
import { SourceFile } from "./source.js";
import { equalValues } from "./values.js";

export interface CompileOptions {
  readonly host?: Host;
  /** the entry file's text, instead of reading it */
  readonly text?: string;
  /** `--set PATH=VALUE`, applied to every experiment before its grid is expanded */
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

interface ParsedOverride {
  readonly path: A.Path;
  readonly value: A.Expr;
  readonly raw: string;
}

/** `PATH=VALUE` from the command line, parsed as mmfm (the value is an expression). */
function parseOverride(flag: string, raw: string, diagnostics: Diagnostics): ParsedOverride | undefined {
  const eq = raw.indexOf("=");
  const path = eq > 0 ? raw.slice(0, eq).trim() : "";
  const value = eq > 0 ? raw.slice(eq + 1).trim() : "";
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path) || value === "") {
    diagnostics.error("E0501", `${flag} \`${raw}\` is not PATH=VALUE`, { help: `e.g. ${flag} finetune.lr=1e-5 or ${flag} model.vision=clip` });
    return undefined;
  }
  const source = new SourceFile(`<${flag} ${raw}>`, `experiment override { ablate { ${path}: [${value}] } }`);
  const local = new Diagnostics();
  const file = parseSource(source, local);
  const decl = file.items[0];
  const ablate = decl?.kind === "Decl" ? decl.body?.members[0] : undefined;
  const axis = ablate?.kind === "Ablate" ? ablate.axes[0] : undefined;
  if (local.hasErrors || !axis || axis.values.kind !== "List" || axis.values.items.length !== 1) {
    diagnostics.error("E0501", `${flag} \`${raw}\`: \`${value}\` is not an mmfm value`, {
      help: 'values are written as in a spec: 1e-5, 42, "text", clip, [a, b]',
    });
    return undefined;
  }
  return { path: axis.path, value: axis.values.items[0], raw: value };
}

export function compile(entryPath: string, options: CompileOptions = {}): Compilation {
  const diagnostics = new Diagnostics();
  const host = options.host ?? nodeHost();
  const program = loadProgram(entryPath, host, diagnostics, options.text);
  const evaluator = new Evaluator(program, diagnostics);
  evaluator.evaluateAll();
  const resolver = new Resolver(evaluator, diagnostics);
  for (const component of [...evaluator.components]) {
    checkSchema(component, diagnostics);
    checkShapes(component, diagnostics);
    // a model is checked as a whole too (connector widths), used by an experiment or not
    if (component.kind === "model") resolver.model(component, new Map());
  }
  const experiments: ExperimentGrid[] = [];
  const sets = (options.sets ?? []).map((s) => parseOverride("--set", s, diagnostics)).filter((s): s is ParsedOverride => !!s);
  const onlyRaw = (options.only ?? []).map((s) => parseOverride("--only", s, diagnostics)).filter((s): s is ParsedOverride => !!s);
  if (options.grid === false) {
    suppressInBrokenItems(program, diagnostics);
    return { program, diagnostics, experiments, evaluator };
  }

  const builder = new GridBuilder(evaluator, diagnostics, program.entry);
  const only: OnlyFilter[] = onlyRaw.map((o) => ({
    path: o.path.segments.map((s) => s.text).join("."),
    value: o.raw,
    matches: (value) => {
      const local = new Diagnostics();
      const other = new Evaluator(program, local).evaluate(o.value, program.entry);
      return !local.hasErrors && equalValues(value, other) === true;
    },
  }));
  const setOverrides: SetOverride[] = sets.map((s) => ({ path: s.path, value: s.value }));
  for (const binding of program.entry.own.values()) {
    if (binding.kind !== "decl" || binding.node.declKind !== "experiment") continue;
    const component = evaluator.declaration(binding);
    if (!component) continue;
    const grid = builder.expand(component, { sets: setOverrides, only });
    if (grid) experiments.push(grid);
  }
  unusedWarnings(program, evaluator, diagnostics);
  suppressInBrokenItems(program, diagnostics);
  if (only.length > 0 && experiments.length > 0 && experiments.every((e) => e.variants.length === 0) && !diagnostics.hasErrors) {
    diagnostics.error("E0502", `no variant matches ${(options.only ?? []).map((o) => `--only ${o}`).join(" ")}`, {
      help: "`mmfmc grid FILE` lists the variants and their labels",
    });
  }
  return { program, diagnostics, experiments, evaluator };
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
  diagnostics.items.push(...keep);
}

/** W0101 for `let`s of the entry file nothing refers to; W0201 for imports whose names go unused. */
function unusedWarnings(program: Program, evaluator: Evaluator, diagnostics: Diagnostics): void {
  const entry = program.entry;
  const used = evaluator.usedIn(entry);
  for (const binding of entry.own.values()) {
    if (binding.kind === "let" && !used.has(binding)) {
      diagnostics.error("W0101", `\`${binding.node.name.text}\` is never used`, {
        span: binding.node.name.span,
        help: "remove it, or refer to it",
      });
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
      diagnostics.error("W0201", `nothing imported by \`import ${item.path.text}\` is used`, { span: item.span, help: "remove the import" });
    }
  }
}
