/**
 * Grid: an experiment's `ablate`, `ablate zip` and `exclude` -> variants, each with a stable id (the
 * experiment name and its labels in axis order), a resolved configuration and a content hash.
 *
 * An axis is a path into the experiment: an experiment field (`stages`, `seed`, `model`), a field of a
 * component inside it (`model.vision`, `model.connector.depth`), or `NAME.FIELD` for a declaration the
 * experiment uses (`finetune.lr`, `lcs558k.size`), which then replaces that declaration wherever it
 * appears. Several `ablate` blocks give the union of their grids; one configuration reached twice is
 * one variant.
 */
import type * as A from "../grammar/ast.js";
import { ablateAxes, pathText } from "../grammar/ast.js";
import { checkSchema, checkShapes } from "./check.js";
import { contentHash } from "./canonical.js";
import { Configurer, type VariantConfig } from "./configure.js";
import { Diagnostics } from "../core/diagnostics.js";
import { L, M, onBehalf, onBehalfOf } from "../core/messages.js";
import type { Env, Evaluator } from "./evaluate.js";
import type { FieldSchema } from "./families.js";
import type { Module } from "./resolve.js";
import type { Span } from "../core/source.js";
import { suggest } from "../core/suggest.js";
import { repeatsAxis } from "./repeats.js";
import { findCopy, findDerived, substitute } from "./substitute.js";
import { variantId } from "../plan/names.js";
import { Component, equalValues, show, type FieldEntry, type Value } from "./values.js";

export interface Variant {
  readonly id: string;
  /** axis path -> label, in axis order */
  readonly axes: Readonly<Record<string, string>>;
  readonly experiment: Component;
  readonly config: VariantConfig;
  /** sha256 of the canonical JSON of the resolved configuration (names excluded) */
  readonly hash: string;
}

export interface ExperimentGrid {
  readonly name: string;
  readonly component: Component;
  /** every axis path, in order of first appearance */
  readonly axes: readonly string[];
  readonly variants: readonly Variant[];
  /** `repeats`: the seeds each configuration runs with (1 without; the implicit `seed` axis) */
  readonly repeats?: number;
}

/** A path into an experiment, resolved against its base. */
interface Target {
  readonly path: string;
  readonly span: Span;
  /** the schema of the field the path ends at */
  readonly schema: FieldSchema;
  /** the component owning that field in the base experiment, for kind checks of the values */
  readonly owner: Component;
  /** replaces the value at the path */
  apply(experiment: Component, entry: FieldEntry): Component;
  /** reads the value at the path */
  read(experiment: Component): Value | undefined;
}

interface AxisValue {
  readonly label: string;
  readonly value: Value;
  /** a written label's key in a record (`{ "2b" = ... }`); a derived label has none */
  readonly labelSpan?: Span;
}

interface Axis {
  readonly target: Target;
  readonly values: readonly AxisValue[];
  readonly span: Span;
}

interface Point {
  readonly choices: readonly { axis: Axis; choice: AxisValue }[];
}

/** A --set value and the path it replaces. */
interface Override {
  readonly target: Target;
  readonly value: Value;
}

/** A grid point and its experiment, with the point's values and the --set values applied. */
interface Applied {
  readonly point: Point;
  readonly experiment: Component;
}

/**
 * A value tried in the place of a field: the owner refined with that one field, checked like any
 * component. Messages about it name the owner, since that is what the value will change.
 */
class Probe extends Component {
  constructor(
    private readonly owner: Component,
    span: Span,
    fields: ReadonlyMap<string, FieldEntry>,
  ) {
    super(owner.kind, owner.family, undefined, span, owner, fields, owner.block);
  }

  override describe(): string {
    return this.owner.describe();
  }
}

let nextValueId = 1;

const safeLabel = /^[A-Za-z0-9_][A-Za-z0-9_.+=@-]*$/;

export class GridBuilder {
  private readonly configurer: Configurer;
  /** applications of a value to a component, shared by every variant that makes the same one */
  private readonly applied = new Map<string, Component>();
  /** the --set overrides some experiment used (one for another experiment of the file is skipped) */
  readonly usedSets = new Set<SetOverride>();
  private readonly substituted = new Map<string, Component>();
  private readonly valueIds = new WeakMap<Value, number>();

  private valueId(v: Value): number {
    let id = this.valueIds.get(v);
    if (id === undefined) this.valueIds.set(v, (id = nextValueId++));
    return id;
  }

  private memo(key: string, make: () => Component): Component {
    let c = this.applied.get(key);
    if (!c) this.applied.set(key, (c = make()));
    return c;
  }

  constructor(
    private readonly evaluator: Evaluator,
    private readonly diagnostics: Diagnostics,
    private readonly module: Module,
  ) {
    this.configurer = new Configurer(evaluator, diagnostics);
  }

  // ---- paths -------------------------------------------------------------------------------------

  /** Resolves an axis path against the experiment; reports an unknown path and returns undefined. */
  target(experiment: Component, path: A.Path, used: Set<Component>): Target | undefined {
    const segments = path.segments.map((s) => s.text);
    const text = segments.join(".");
    const fields = experiment.family.fields;
    if (segments[0] in fields) return this.fieldTarget(experiment, path, segments, text);
    const binding = this.evaluator.lookup(this.module, segments[0]);
    if (binding?.kind === "decl" && segments.length >= 2) {
      const declared = this.evaluator.declaration(binding);
      if (!declared) return undefined;
      if (!used.has(declared)) {
        this.diagnostics.report(M.axisOfUnusedDeclaration, { name: segments[0], experiment: experiment.displayName }, { span: path.segments[0].span });
        return undefined;
      }
      const inner = this.componentPath(declared, path, 1, text);
      if (!inner) return undefined;
      return {
        path: text,
        span: path.span,
        schema: inner.schema,
        owner: inner.owner,
        apply: (exp, entry) => {
          // the declaration as this point has it: an earlier axis or --set may have rebuilt it
          const current = findCopy(exp, declared) ?? declared;
          const replacement = this.memo(`${current.id}|${text}|${this.valueId(entry.value)}`, () => inner.apply(current, entry));
          return substitute(exp, current, replacement, this.substituted);
        },
        read: (exp) => {
          const found = findDerived(exp, declared);
          return found ? inner.read(found) : undefined;
        },
      };
    }
    const candidates = [...Object.keys(fields), ...[...used].filter((c) => c.name).map((c) => `${c.name}.FIELD`)];
    const guess = suggest(segments[0], [...Object.keys(fields), ...[...used].map((c) => c.name ?? "")]);
    this.diagnostics.report(
      M.unknownAxis,
      { path: text, experiment: experiment.displayName, guess: guess && [guess, ...segments.slice(1)].join("."), candidates: candidates.slice(0, 12) },
      { span: path.span, fixes: guess ? [{ span: path.span, text: [guess, ...segments.slice(1)].join(".") }] : undefined },
    );
    return undefined;
  }

  private fieldTarget(experiment: Component, path: A.Path, segments: string[], text: string): Target | undefined {
    if (segments.length === 1) {
      const name = segments[0];
      return {
        path: text,
        span: path.span,
        schema: experiment.family.fields[name],
        owner: experiment,
        apply: (exp, entry) => exp.refine(entry.span, new Map([[name, { ...entry, name, owner: exp }]])),
        read: (exp) => exp.field(name)?.value,
      };
    }
    const head = segments[0];
    const value = experiment.field(head)?.value;
    if (value?.type !== "component") {
      this.diagnostics.report(M.axisIntoValue, { field: head, experiment: experiment.displayName, shown: value && show(value) }, { span: path.segments[1].span });
      return undefined;
    }
    const inner = this.componentPath(value.component, path, 1, text);
    if (!inner) return undefined;
    return {
      path: text,
      span: path.span,
      schema: inner.schema,
      owner: inner.owner,
      apply: (exp, entry) => {
        const current = exp.field(head)?.value;
        if (current?.type !== "component") return exp;
        const replaced = inner.apply(current.component, entry);
        const outer: FieldEntry = { name: head, value: { type: "component", component: replaced, span: entry.span }, nameSpan: entry.nameSpan, span: entry.span, owner: exp };
        return exp.refine(entry.span, new Map([[head, outer]]));
      },
      read: (exp) => {
        const current = exp.field(head)?.value;
        return current?.type === "component" ? inner.read(current.component) : undefined;
      },
    };
  }

  /** The experiment's `seed` field as the target of the implicit axis of `repeats`. */
  private seedTarget(experiment: Component, span: Span): Target {
    return {
      path: "seed",
      span,
      schema: experiment.family.fields.seed,
      owner: experiment,
      apply: (exp, entry) => exp.refine(entry.span, new Map([["seed", { ...entry, name: "seed", owner: exp }]])),
      read: (exp) => exp.field("seed")?.value,
    };
  }

  /** A path from segment `from` on into a component's fields (`connector.depth`, `schedule.warmup`). */
  private componentPath(
    component: Component,
    path: A.Path,
    from: number,
    text: string,
  ): { schema: FieldSchema; owner: Component; apply(c: Component, entry: FieldEntry): Component; read(c: Component): Value | undefined } | undefined {
    const segment = path.segments[from];
    const name = segment.text;
    const schema = component.family.fields[name];
    if (!schema) {
      const guess = suggest(name, Object.keys(component.family.fields));
      this.diagnostics.report(M.axisUnknownField, { path: text, owner: component.describe(), field: name, guess, fields: Object.keys(component.family.fields) }, { span: segment.span, fixes: guess ? [{ span: segment.span, text: guess }] : undefined });
      return undefined;
    }
    if (from === path.segments.length - 1) {
      return {
        schema,
        owner: component,
        apply: (c, entry) => this.memo(`${c.id}|${text}|${this.valueId(entry.value)}`, () => c.refine(entry.span, new Map([[name, { ...entry, name, owner: c }]]))),
        read: (c) => c.field(name)?.value,
      };
    }
    // a component-valued field left at its default (a stage's `schedule`) is varied from that default
    const fieldValue = (c: Component): Value | undefined =>
      c.field(name)?.value ?? (schema.mmfmKind && typeof schema.default === "string" ? this.evaluator.defaultValue(schema.default, schema, segment.span) : undefined);
    const value = fieldValue(component);
    if (value?.type !== "component") {
      this.diagnostics.report(M.axisFieldWithoutFields, { path: text, field: name, owner: component.describe() }, { span: path.segments[from + 1].span });
      return undefined;
    }
    const inner = this.componentPath(value.component, path, from + 1, text);
    if (!inner) return undefined;
    return {
      schema: inner.schema,
      owner: inner.owner,
      apply: (c, entry) =>
        this.memo(`${c.id}|${text}|${from}|${this.valueId(entry.value)}`, () => {
          const current = fieldValue(c);
          if (current?.type !== "component") return c;
          const replaced = inner.apply(current.component, entry);
          const wrapped: FieldEntry = { name, value: { type: "component", component: replaced, span: entry.span }, nameSpan: entry.nameSpan, span: entry.span, owner: c };
          return c.refine(entry.span, new Map([[name, wrapped]]));
        }),
      read: (c) => {
        const current = fieldValue(c);
        return current?.type === "component" ? inner.read(current.component) : undefined;
      },
    };
  }

  // ---- axes and labels ---------------------------------------------------------------------------

  private label(value: Value): string | undefined {
    switch (value.type) {
      case "component":
        return value.component.displayName;
      case "int":
      case "float":
        return signSpelt(value.text ?? show(value));
      case "string":
        return value.value;
      case "bool":
        return String(value.value);
      case "symbol":
        return value.name;
      case "list": {
        const parts = value.items.map((v) => this.label(v));
        return parts.every((p) => p !== undefined) ? parts.join("+") : undefined;
      }
      default:
        return undefined;
    }
  }

  /** `zipped`: the axis is paired with others, so its rules between fields are checked per row (`checkRow`). */
  private axis(experiment: Component, node: A.Axis, used: Set<Component>, zipped = false): Axis | undefined {
    const target = this.target(experiment, node.path, used);
    // evaluate the values even when the path is wrong, to report their own errors
    const expect = target?.schema;
    const values: AxisValue[] = [];
    const expr = node.values;
    if (expr.kind === "List") {
      for (const item of expr.items) {
        const value = this.evaluator.evaluate(item, this.module, expect);
        const label = this.label(value);
        if (label === undefined) {
          if (value.type !== "error") {
            this.diagnostics.report(M.noLabel, { shown: show(value), path: pathText(node.path) }, { span: item.span });
          }
          continue;
        }
        values.push({ label, value });
      }
    } else if (expr.kind === "Record") {
      for (const entry of expr.entries) values.push({ label: entry.key.text, value: this.evaluator.evaluate(entry.value, this.module, expect), labelSpan: entry.key.span });
    } else {
      const value = this.evaluator.evaluate(expr, this.module);
      if (value.type !== "error") {
        this.diagnostics.report(M.axisNotListOrRecord, { path: pathText(node.path), shown: show(value) }, { span: expr.span });
      }
      return undefined;
    }
    if (!target) return undefined;
    if (values.length === 0 && (expr.kind === "List" ? expr.items.length === 0 : expr.kind === "Record" && expr.entries.length === 0)) {
      this.diagnostics.report(M.axisWithoutValues, { path: target.path }, { span: expr.span });
      return undefined;
    }
    let ok = true;
    for (const v of values) {
      if (v.value.type === "error") ok = false;
      if (!this.checkLabel(v)) ok = false;
      if (!this.checkValue(target, v.value, onBehalf.axis(target.path), !zipped)) ok = false;
    }
    return ok ? { target, values, span: node.span } : undefined;
  }

  /**
   * Whether a label can be part of a variant id and folder name (E0408): letters, digits and
   * `_ . + = @ -`, not starting with `.` or `-` (a folder named `-1-clip` reads as a command-line
   * flag), not `default`. A written label that starts with `-` gets the fix `neg...`.
   */
  private checkLabel(v: AxisValue): boolean {
    if (safeLabel.test(v.label) && v.label !== "default") return true;
    const span = v.labelSpan ?? v.value.span;
    const spelt = v.labelSpan && v.label.startsWith("-") ? signSpelt(v.label) : undefined;
    const fixed = spelt !== undefined && safeLabel.test(spelt) ? spelt : undefined;
    const fixes = fixed ? [{ span, text: /^[A-Za-z_][A-Za-z0-9_]*$/.test(fixed) ? fixed : JSON.stringify(fixed) }] : undefined;
    this.diagnostics.report(M.unsafeLabel, { label: v.label, fixed }, { span, fixes });
    return false;
  }

  /**
   * Two values of one crossed axis with the same label would give two variants one id (E0405). In a
   * zip (`ablate zip` or a `zip { }` group) the rows' other labels may tell them apart, so there two
   * rows collide only when all their labels are the same.
   */
  private distinctLabels(axes: readonly Axis[]): boolean {
    let ok = true;
    if (axes.length === 1) {
      const labels = new Map<string, Span>();
      for (const v of axes[0].values) {
        const first = labels.get(v.label);
        if (first) {
          this.diagnostics.report(M.sameLabel, { path: axes[0].target.path, label: v.label }, { span: v.value.span, secondary: [{ span: first, text: L.sameLabelHere }] });
          ok = false;
        } else labels.set(v.label, v.value.span);
      }
      return ok;
    }
    const rows = new Map<string, number>();
    for (let i = 0; i < (axes[0]?.values.length ?? 0); i++) {
      const labels = axes.map((a) => a.values[i].label);
      const key = labels.join("\u0000");
      const first = rows.get(key);
      if (first !== undefined) {
        const last = axes[axes.length - 1];
        this.diagnostics.report(
          M.sameRowLabels,
          { labels: labels.join("-"), row: i + 1, first: first + 1 },
          { span: last.values[i].value.span, secondary: [{ span: last.values[first].value.span, text: L.sameLabelsHere }] },
        );
        ok = false;
      } else rows.set(key, i);
    }
    return ok;
  }

  /**
   * Whether a value fits the field it replaces (type, range, kind and, with `shapes`, the rules
   * between fields): checked once, on the base owner with the value in place. A zipped value's rules
   * between fields are checked with the rest of its row instead (`checkRow`): heads 12 fits width
   * 3072, not the base's 2048.
   */
  private checkValue(target: Target, value: Value, what: string, shapes = true): boolean {
    if (value.type === "error") return false;
    return this.checkInOwner(target.owner, [{ target, value }], () => what, shapes);
  }

  /** Whether a row of zipped values fits, the values of each owner checked together with its rules between fields. */
  private checkRow(choices: readonly { axis: Axis; choice: AxisValue }[]): boolean {
    const byOwner = new Map<Component, { target: Target; value: Value }[]>();
    for (const { axis, choice } of choices) {
      const list = byOwner.get(axis.target.owner) ?? [];
      list.push({ target: axis.target, value: choice.value });
      byOwner.set(axis.target.owner, list);
    }
    let ok = true;
    for (const [owner, values] of byOwner) {
      const what = (v: Value) => onBehalf.axis(values.find((x) => x.value === v)!.target.path);
      if (!this.checkInOwner(owner, values, what, true)) ok = false;
    }
    return ok;
  }

  /**
   * Checks values in place of their fields in one owner, reporting only what the owner alone does not
   * already have; a diagnostic is placed on the value it points into (else the first), named by `what`.
   */
  private checkInOwner(owner: Component, values: readonly { target: Target; value: Value }[], what: (value: Value) => string, shapes: boolean): boolean {
    const fields = new Map(values.map(({ target, value }) => [lastSegment(target.path), this.entry(target, value, owner)] as const));
    const probe = new Probe(owner, values[0].value.span, fields);
    const local = new Diagnostics();
    checkSchema(probe, local);
    if (shapes) checkShapes(probe, local);
    const before = new Diagnostics();
    checkSchema(owner, before);
    if (shapes) checkShapes(owner, before);
    const known = new Set(before.items.map((d) => `${d.code}|${d.span?.start}|${d.span?.end}`));
    let ok = true;
    for (const d of local.items) {
      if (known.has(`${d.code}|${d.span?.start}|${d.span?.end}`)) continue;
      ok = false;
      const at = d.span;
      const value = values.find(({ value: v }) => at && at.file === v.span.file && at.start >= v.span.start && at.end <= v.span.end)?.value ?? values[0].value;
      // labels at the probe's span point at the value, which onBehalfOf labels itself; in a row, the
      // first value's span is the probe's too, and its first label (`width` set here) is kept
      const secondary = values.length === 1 ? d.secondary.filter((l) => l.span !== probe.span) : d.secondary.filter((l, i, all) => all.findIndex((x) => x.span === l.span) === i);
      this.diagnostics.add(onBehalfOf(d, what(value), value.span, secondary));
    }
    return ok;
  }

  private entry(target: Target, value: Value, owner: Component): FieldEntry {
    return { name: lastSegment(target.path), value, nameSpan: target.span, span: value.span, owner };
  }

  // ---- expansion ---------------------------------------------------------------------------------

  /** An experiment's grid: its variants, or undefined when a part of it is broken (reported). */
  expand(experiment: Component, overrides: { sets?: readonly SetOverride[]; only?: readonly OnlyFilter[] } = {}): ExperimentGrid | undefined {
    const { blocks, excludes } = gridMembers(experiment);
    const used = this.used(experiment, blocks);
    const sets = this.setOverrides(experiment, blocks, used, overrides.sets ?? []);
    if (!sets) return undefined;
    const grid = this.points(experiment, blocks, used);
    if (!grid) {
      this.checkConditions(experiment, blocks, excludes);
      return undefined;
    }
    const repeated = this.repeat(experiment, blocks, grid, sets);
    if (!repeated) return undefined;
    const made = this.apply(experiment, repeated.points, repeated.sets);
    const kept = this.exclude(experiment, excludes, made, axisPaths(blocks));
    if (!kept) return undefined;
    const only = this.only(experiment, overrides.only ?? [], made, kept, repeated.axes);
    if (!only) return undefined;
    const variants = this.variants(experiment, only, repeated.axes);
    if (!variants) return undefined;
    return { name: experiment.displayName, component: experiment, axes: repeated.axes, variants, ...(repeated.count ? { repeats: repeated.count } : {}) };
  }

  /**
   * `repeats = N`: an implicit `seed` axis after the others (compiler/repeats.ts), each point once per
   * seed; a `--set seed=S` then only chose the first seed. Undefined on error (with a `seed` axis too).
   */
  private repeat(
    experiment: Component,
    blocks: readonly A.Ablate[],
    grid: { readonly points: readonly Point[]; readonly axes: readonly string[] },
    sets: readonly Override[],
  ): { points: Point[]; axes: string[]; sets: Override[]; count: number } | undefined {
    const overridden = new Map(sets.map((s) => [s.target.path, s.value]));
    const seedAxisSpan = blocks.flatMap((b) => ablateAxes(b)).find((a) => pathText(a.path) === "seed")?.path.span;
    const repeats = repeatsAxis(experiment, overridden, seedAxisSpan, this.diagnostics);
    if (repeats === "error") return undefined;
    if (!repeats) return { points: [...grid.points], axes: [...grid.axes], sets: [...sets], count: 0 };
    const axis: Axis = { target: this.seedTarget(experiment, repeats.span), values: repeats.values, span: repeats.span };
    return {
      points: grid.points.flatMap((p) => repeats.values.map((choice) => ({ choices: [...p.choices, { axis, choice }] }))),
      axes: [...grid.axes, "seed"],
      sets: sets.filter((s) => s.target.path !== "seed"),
      count: repeats.values.length,
    };
  }

  /** Components an experiment uses: its model and stages, and everything they refer to. */
  private used(experiment: Component, blocks: readonly A.Ablate[]): Set<Component> {
    const out = new Set<Component>();
    const visit = (v: Value | undefined) => {
      if (!v) return;
      if (v.type === "list") v.items.forEach(visit);
      if (v.type === "record") v.entries.forEach((e) => visit(e.value));
      if (v.type !== "component" || out.has(v.component)) return;
      for (let c: Component | undefined = v.component; c; c = c.base) {
        out.add(c);
        for (const f of c.own.values()) visit(f.value);
      }
    };
    visit(experiment.field("model")?.value);
    visit(experiment.field("stages")?.value);
    // stages and models named in `stages:` and `model:` axes count as used too, and the declarations
    // other axes choose (`model.vision: [clip, dino]`: a --set of `dino.weights` reaches the dino variants)
    for (const block of blocks) {
      for (const axis of ablateAxes(block)) {
        const head = axis.path.segments[0].text;
        const values = axis.values.kind === "List" ? axis.values.items : axis.values.kind === "Record" ? axis.values.entries.map((e) => e.value) : [];
        if (axis.path.segments.length === 1 && (head === "stages" || head === "model")) {
          for (const e of values) visit(this.evaluator.evaluate(e, this.module));
        } else {
          for (const e of values) for (const c of this.declarationsNamed(e)) visit({ type: "component", component: c, span: e.span });
        }
      }
    }
    return out;
  }

  /** The declarations an axis value names, as itself or as the base of a refinement (no evaluation, so no diagnostics). */
  private declarationsNamed(e: A.Expr): Component[] {
    if (e.kind === "Paren") return this.declarationsNamed(e.expr);
    if (e.kind === "Refine") return this.declarationsNamed(e.base);
    if (e.kind === "List") return e.items.flatMap((x) => this.declarationsNamed(x));
    if (e.kind !== "Path" || e.segments.length !== 1) return [];
    const binding = this.evaluator.lookup(this.module, e.segments[0].text);
    const declared = binding?.kind === "decl" ? this.evaluator.declaration(binding) : undefined;
    return declared ? [declared] : [];
  }

  /** The --set overrides of this experiment, each checked like an axis value; undefined on an error. */
  private setOverrides(experiment: Component, blocks: readonly A.Ablate[], used: Set<Component>, sets: readonly SetOverride[]): Override[] | undefined {
    const axes = axisPaths(blocks);
    const out: Override[] = [];
    for (const set of sets) {
      const path = pathText(set.path);
      if (axes.has(path)) {
        this.diagnostics.report(M.setOnAxis, { raw: set.raw, path, experiment: experiment.displayName }, { span: set.path.span });
        return undefined;
      }
      const head = this.module.scope.get(set.path.segments[0].text);
      // a declaration this experiment does not use: the --set is for another experiment of the file
      if (set.path.segments.length > 1 && !(set.path.segments[0].text in experiment.family.fields) && head?.kind === "decl") {
        const declared = this.evaluator.declaration(head);
        if (declared && !used.has(declared)) continue;
      }
      const target = this.target(experiment, set.path, used);
      if (!target) return undefined;
      const value = this.evaluator.evaluate(set.value, this.module, target.schema);
      if (!this.checkValue(target, value, onBehalf.set(set.raw))) return undefined;
      this.usedSets.add(set);
      out.push({ target, value });
    }
    return out;
  }

  /**
   * The grid points of every `ablate` block (the union of the blocks' grids) and the axis paths in
   * order of first appearance; undefined when an axis is broken. The axes of every block are checked
   * even after a broken one, to report their own errors.
   */
  private points(experiment: Component, blocks: readonly A.Ablate[], used: Set<Component>): { points: Point[]; axes: string[] } | undefined {
    const points: Point[] = [];
    const order: string[] = [];
    let broken = false;
    for (const block of blocks) {
      const { axes, ok } = this.blockAxes(experiment, block, used, order);
      if (!ok) broken = true;
      if (broken || axes.size === 0) continue;
      const made = this.blockPoints(block, axes);
      if (made) for (const p of made) points.push(p); // not push(...made): a million arguments overflow the stack
      else broken = true;
    }
    if (broken) return undefined;
    if (blocks.length === 0) points.push({ choices: [] });
    return { points, axes: order };
  }

  /**
   * The axes of one `ablate` block (its `zip` groups' included), by their syntax; `ok` is false when
   * one is broken or given twice. Adds new paths to `order`.
   */
  private blockAxes(experiment: Component, block: A.Ablate, used: Set<Component>, order: string[]): { axes: Map<A.Axis, Axis>; ok: boolean } {
    const axes = new Map<A.Axis, Axis>();
    const seen = new Map<string, Span>();
    // axes paired with others: their rows are checked together
    const zipped = new Set<A.Axis>();
    if (block.zip && block.members.length > 1) for (const m of block.members) if (m.kind === "Axis") zipped.add(m);
    for (const m of block.members) if (m.kind === "ZipGroup" && m.axes.length > 1) for (const a of m.axes) zipped.add(a);
    let ok = true;
    if (block.zip) {
      for (const m of block.members) {
        if (m.kind !== "ZipGroup") continue;
        this.diagnostics.report(M.zipInZip, {}, { span: { ...m.span, end: m.span.start + 3 } });
        ok = false;
      }
    }
    for (const node of ablateAxes(block)) {
      const path = pathText(node.path);
      const first = seen.get(path);
      if (first) {
        this.diagnostics.report(M.axisTwice, { path }, { span: node.path.span, secondary: [{ span: first, text: L.firstGivenHere }] });
        ok = false;
        continue;
      }
      seen.set(path, node.path.span);
      const axis = this.axis(experiment, node, used, zipped.has(node));
      if (axis) axes.set(node, axis);
      else ok = false;
      if (!order.includes(path)) order.push(path);
    }
    return { axes, ok };
  }

  /**
   * A block's points: every combination of its members' values, the first varying slowest, where a
   * member is an axis or a `zip` group (the i-th values of its axes together); with `ablate zip`, the
   * i-th value of every axis.
   */
  private blockPoints(block: A.Ablate, axes: ReadonlyMap<A.Axis, Axis>): Point[] | undefined {
    const built = (nodes: readonly A.Axis[]) => nodes.map((n) => axes.get(n)!);
    const factors = block.zip
      ? [{ axes: built(ablateAxes(block)), group: false }]
      : block.members.map((m) => (m.kind === "Axis" ? { axes: built([m]), group: false } : { axes: built(m.axes), group: true }));
    const options: Point[][] = [];
    for (const factor of factors) {
      if (factor.axes.length === 0) continue; // an empty `zip { }` group varies nothing
      const zipped = this.zipped(factor.axes, factor.group);
      if (!zipped || !this.distinctLabels(factor.axes)) return undefined;
      options.push(zipped);
    }
    return crossed(options);
  }

  /** The i-th values of the axes together (all need the same number of values); one axis alone is its values. */
  private zipped(axes: readonly Axis[], group: boolean): Point[] | undefined {
    const n = axes[0].values.length;
    const bad = axes.find((a) => a.values.length !== n);
    if (bad) {
      this.diagnostics.report(
        M.zipLengths,
        { first: axes[0].target.path, n, other: bad.target.path, m: bad.values.length, group },
        { span: bad.span, secondary: [{ span: axes[0].span, text: L.valueCount(n) }] },
      );
      return undefined;
    }
    const rows = Array.from({ length: n }, (_, i) => ({ choices: axes.map((axis) => ({ axis, choice: axis.values[i] })) }));
    if (axes.length > 1) {
      let ok = true;
      for (const row of rows) if (!this.checkRow(row.choices)) ok = false;
      if (!ok) return undefined;
    }
    return rows;
  }

  /** `label(PATH)` of a path that is not an axis: E0401 with the nearest axis as its fix. */
  private unknownLabelAxis(path: A.Path, axes: ReadonlySet<string>, experiment: Component): void {
    const text = pathText(path);
    const guess = suggest(text, [...axes]);
    this.diagnostics.report(M.unknownAxisInExclude, { path: text, guess, experiment: experiment.displayName, axes: [...axes] }, { span: path.span, fixes: guess ? [{ span: path.span, text: guess }] : undefined });
  }

  /** With a broken grid, still the `exclude` conditions' own errors (unknown names), every axis read as unknown. */
  private checkConditions(experiment: Component, blocks: readonly A.Ablate[], excludes: readonly A.Exclude[]): void {
    const axes = axisPaths(blocks);
    const env: Env = {
      lookupPath: (path, span) => (axes.has(path) || path.split(".")[0] in experiment.family.fields ? { type: "error", span } : undefined),
      label: (path, span) => {
        const text = pathText(path);
        if (!axes.has(text)) this.unknownLabelAxis(path, axes, experiment);
        return { type: "error", span };
      },
    };
    for (const ex of excludes) this.evaluator.evaluate(ex.condition, this.module, undefined, env);
  }

  /** Each point's experiment: its values applied, deepest paths last (so `finetune.lr` applies to the chosen `stages`), then the --set values. */
  private apply(experiment: Component, points: readonly Point[], sets: readonly Override[]): Applied[] {
    const depth = new Map<Axis, number>();
    for (const point of points) for (const { axis } of point.choices) if (!depth.has(axis)) depth.set(axis, axis.target.path.split(".").length);
    return points.map((point) => {
      const ordered = [...point.choices].sort((a, b) => depth.get(a.axis)! - depth.get(b.axis)!);
      let exp = experiment;
      for (const { axis, choice } of ordered) exp = axis.target.apply(exp, this.entry(axis.target, choice.value, exp));
      for (const { target, value } of sets) exp = target.apply(exp, this.entry(target, value, exp));
      return { point, experiment: exp };
    });
  }

  /** The points no `exclude` drops; undefined when a condition has an error or they drop every point. */
  private exclude(experiment: Component, excludes: readonly A.Exclude[], made: Applied[], axes: ReadonlySet<string>): Applied[] | undefined {
    let kept = made;
    for (const ex of excludes) {
      let dropped = 0;
      let errors = false;
      const next: Applied[] = [];
      for (const m of kept) {
        const result = this.condition(ex, m.point, m.experiment, axes);
        if (result === undefined) errors = true;
        if (result === true) dropped++;
        else next.push(m);
      }
      if (errors) return undefined;
      if (dropped === 0) {
        this.diagnostics.report(M.excludeDropsNothing, { experiment: experiment.displayName }, { span: { ...ex.span, end: ex.span.start + 7 } });
      }
      kept = next;
    }
    if (made.length > 0 && kept.length === 0 && excludes.length > 0) {
      this.diagnostics.report(M.excludeDropsAll, { experiment: experiment.displayName, before: made.length }, { span: excludes[excludes.length - 1].span });
      return undefined;
    }
    return kept;
  }

  /** The kept points --only keeps (their label or value on its axis matches); undefined when it names no axis. */
  private only(experiment: Component, filters: readonly OnlyFilter[], made: readonly Applied[], kept: Applied[], axes: readonly string[]): Applied[] | undefined {
    for (const only of filters) {
      const axis = made[0]?.point.choices.find((c) => c.axis.target.path === only.path)?.axis;
      if (!axis) {
        this.diagnostics.report(M.onlyNotAnAxis, { path: only.path, experiment: experiment.displayName, guess: suggest(only.path, axes), axes });
        return undefined;
      }
      kept = kept.filter((m) => {
        const c = m.point.choices.find((x) => x.axis.target.path === only.path);
        if (!c) return false;
        return c.choice.label === only.value || only.matches(c.choice.value);
      });
    }
    return kept;
  }

  /**
   * The variants of the points: each resolved, named by its labels in axis order and hashed; a
   * configuration reached twice is one variant. Undefined on an id clash, or when none resolves.
   */
  private variants(experiment: Component, kept: readonly Applied[], order: readonly string[]): Variant[] | undefined {
    const name = experiment.displayName;
    const variants: Variant[] = [];
    const byHash = new Map<string, Variant>();
    const byId = new Map<string, Variant>();
    for (const m of kept) {
      const config = this.configurer.variant(m.experiment);
      if (!config) continue;
      const axes: Record<string, string> = {};
      for (const path of order) {
        const c = m.point.choices.find((x) => x.axis.target.path === path);
        if (c) axes[path] = c.choice.label;
      }
      const id = variantId(name, Object.values(axes));
      const hash = contentHash(config.json);
      const same = byHash.get(hash);
      if (same) {
        if (same.id !== id && sameBlock(same, axes)) {
          this.diagnostics.report(M.sameConfiguration, { first: same.id, second: id }, { span: m.point.choices[0]?.choice.value.span });
        }
        continue;
      }
      if (byId.has(id)) {
        this.diagnostics.report(M.sameId, { id }, { span: m.point.choices[m.point.choices.length - 1]?.choice.value.span ?? experiment.span });
        return undefined;
      }
      const variant: Variant = { id, axes, experiment: m.experiment, config, hash };
      byHash.set(hash, variant);
      byId.set(id, variant);
      variants.push(variant);
    }
    if (kept.length > 0 && variants.length === 0) return undefined;
    return variants;
  }

  /** The value of an `exclude` condition at one grid point; undefined on error. */
  private condition(ex: A.Exclude, point: Point, experiment: Component, axes: ReadonlySet<string>): boolean | undefined {
    const env: Env = {
      label: (path, span) => {
        const text = pathText(path);
        const c = point.choices.find((x) => x.axis.target.path === text);
        if (c) return { type: "string", value: c.choice.label, span };
        // an axis of another `ablate` block: this point does not vary it
        if (axes.has(text)) return { type: "string", value: "", span };
        this.unknownLabelAxis(path, axes, experiment);
        return { type: "error", span };
      },
      lookupPath: (path, span) => {
        const c = point.choices.find((x) => x.axis.target.path === path);
        if (c) return { ...c.choice.value, span } as Value;
        const first = path.split(".")[0];
        if (first in experiment.family.fields) {
          const v = this.readPath(experiment, path);
          if (v) return { ...v, span } as Value;
          const known = [...point.choices.map((x) => x.axis.target.path), ...Object.keys(experiment.family.fields)];
          const guess = suggest(path, known);
          this.diagnostics.report(M.unknownAxisInExclude, { path, guess, experiment: experiment.displayName, axes: point.choices.map((x) => x.axis.target.path) }, { span, fixes: guess ? [{ span, text: guess }] : undefined });
          return { type: "error", span };
        }
        return undefined;
      },
    };
    const value = this.evaluator.evaluate(ex.condition, this.module, undefined, env);
    if (value.type === "error") return undefined;
    if (value.type !== "bool") {
      this.diagnostics.report(
        M.excludeNotBoolean,
        { type: value.type, kind: value.type === "component" ? value.component.kind : undefined, shown: show(value) },
        { span: ex.condition.span },
      );
      return undefined;
    }
    return value.value;
  }

  private readPath(experiment: Component, path: string): Value | undefined {
    let v: Value | undefined = undefined;
    let c: Component | undefined = experiment;
    for (const segment of path.split(".")) {
      if (!c) return undefined;
      v = c.field(segment)?.value;
      c = v?.type === "component" ? v.component : undefined;
    }
    return v;
  }
}

/** The `ablate` blocks and `exclude`s of an experiment's block and its bases' blocks, bases first. */
function gridMembers(experiment: Component): { blocks: A.Ablate[]; excludes: A.Exclude[] } {
  const chain: Component[] = [];
  for (let c: Component | undefined = experiment; c; c = c.base) chain.unshift(c);
  const seen = new Set<A.Block>();
  const members: A.Member[] = [];
  for (const c of chain) {
    if (c.block && !seen.has(c.block)) {
      seen.add(c.block);
      for (const m of c.block.members) members.push(m);
    }
  }
  return {
    blocks: members.filter((m): m is A.Ablate => m.kind === "Ablate"),
    excludes: members.filter((m): m is A.Exclude => m.kind === "Exclude"),
  };
}

function axisPaths(blocks: readonly A.Ablate[]): Set<string> {
  return new Set(blocks.flatMap((b) => ablateAxes(b).map((a) => pathText(a.path))));
}

/** Every combination of one option of each factor (an axis's values, or a zip's rows), the first varying slowest. */
function crossed(factors: readonly (readonly Point[])[]): Point[] {
  let points: Point[] = [{ choices: [] }];
  for (const options of factors) points = points.flatMap((p) => options.map((o) => ({ choices: [...p.choices, ...o.choices] })));
  return points;
}

/** A label with its leading minus spelt out (`-2` gives `neg2`): ids and folders never start with `-`. */
function signSpelt(text: string): string {
  return text.startsWith("-") ? `neg${text.slice(1)}` : text;
}

function lastSegment(path: string): string {
  const parts = path.split(".");
  return parts[parts.length - 1];
}

function sameBlock(a: Variant, axes: Record<string, string>): boolean {
  const ka = Object.keys(a.axes).join("|");
  const kb = Object.keys(axes).join("|");
  return ka === kb;
}

/** `--set PATH=VALUE`: a path and a value expression parsed from the command line. */
export interface SetOverride {
  readonly path: A.Path;
  readonly value: A.Expr;
  /** the flag's text, for messages */
  readonly raw: string;
}

/** `--only PATH=VALUE`: keeps variants whose label (or value) on that axis matches. */
export interface OnlyFilter {
  readonly path: string;
  readonly value: string;
  matches(value: Value): boolean;
}

export { equalValues };
