/**
 * Compile-time values. Integers are exact (bigint), floats are doubles, declarations are components
 * compared by identity. Every value remembers the span it was written at, for diagnostics.
 */
import type * as A from "../grammar/ast.js";
import type { Family, ValueKind } from "./families.js";
import type { Span } from "../core/source.js";

export type Value =
  | { readonly type: "int"; readonly value: bigint; readonly span: Span; readonly text?: string }
  | { readonly type: "float"; readonly value: number; readonly span: Span; readonly text?: string }
  | { readonly type: "string"; readonly value: string; readonly span: Span }
  | { readonly type: "bool"; readonly value: boolean; readonly span: Span }
  | { readonly type: "list"; readonly items: readonly Value[]; readonly span: Span }
  | { readonly type: "record"; readonly entries: readonly RecordEntryValue[]; readonly span: Span }
  | { readonly type: "component"; readonly component: Component; readonly span: Span }
  /** a component name (`vision`, `connector`, `language`) where one is expected, as in `train = [connector]` */
  | { readonly type: "symbol"; readonly name: string; readonly span: Span }
  /** the result of an expression that already produced an error: silences follow-up errors */
  | { readonly type: "error"; readonly span: Span };

export interface RecordEntryValue {
  readonly key: string;
  readonly keySpan: Span;
  readonly value: Value;
}

/** A field as set in a block: the value, and where. */
export interface FieldEntry {
  readonly name: string;
  readonly value: Value;
  readonly nameSpan: Span;
  /** the whole `name = value` */
  readonly span: Span;
  /** the component whose block set it */
  readonly owner: Component;
}

let nextId = 1;

/**
 * A declaration, named or anonymous: a family (or an implicit kind) and the fields set on it, over
 * an optional base declaration whose fields it inherits.
 */
export class Component {
  readonly id = nextId++;
  private resolvedFields: Map<string, FieldEntry> | undefined;

  constructor(
    readonly kind: ValueKind,
    readonly family: Family,
    /** the declared name; undefined for refinements and other anonymous components */
    readonly name: string | undefined,
    /** the declaration or refinement */
    readonly span: Span,
    readonly base: Component | undefined,
    readonly own: ReadonlyMap<string, FieldEntry>,
    /** experiments keep their block for `ablate` and `exclude` */
    readonly block?: A.Block,
  ) {}

  /**
   * Whether this component is `declared` itself or a rebuilt copy of it (not a refinement).
   * Substituting a component it uses (an axis over `train_data.size` rebuilds the stages that read
   * `train_data`) makes a copy with the same name, family and source span (the span object of the
   * declaration, which no other component holds), so that a second axis or `--set` on the
   * declaration (`finetune.epochs`) still finds it.
   */
  isCopyOf(declared: Component): boolean {
    return this === declared || (this.span === declared.span && this.name === declared.name && this.family === declared.family);
  }

  /**
   * Every field set on this component or a base, the nearest setting winning. A declaration keeps
   * its merged fields (a chain of declared bases can be long); an anonymous refinement, which a grid
   * makes for every variant, merges them when asked, over its nearest declared base.
   */
  get fields(): ReadonlyMap<string, FieldEntry> {
    if (this.resolvedFields) return this.resolvedFields;
    // from the farthest base not yet merged down, by a loop
    const chain: Component[] = [];
    for (let c: Component | undefined = this; c && !c.resolvedFields; c = c.base) chain.push(c);
    let merged: ReadonlyMap<string, FieldEntry> = chain[chain.length - 1].base?.resolvedFields ?? new Map();
    for (let i = chain.length - 1; i >= 0; i--) {
      const c = chain[i];
      const next = new Map(merged);
      for (const [k, v] of c.own) next.set(k, v);
      merged = next;
      if (c.name !== undefined || !c.base) c.resolvedFields = next;
    }
    return merged;
  }

  field(name: string): FieldEntry | undefined {
    for (let c: Component | undefined = this; c; c = c.base) {
      if (c.resolvedFields) return c.resolvedFields.get(name);
      const own = c.own.get(name);
      if (own) return own;
    }
    return undefined;
  }

  /** The declared name of this component or of its nearest named base (for labels and messages). */
  get displayName(): string {
    return this.name ?? this.base?.displayName ?? this.family.name;
  }

  /** `vision \`clip\`` or `a refinement of \`clip_vit\`` for messages. */
  describe(): string {
    if (this.name) return `${this.kind} \`${this.name}\``;
    return `${this.kind} refined from \`${this.base?.displayName ?? this.family.name}\``;
  }

  /** A new anonymous component: this one with some fields replaced. */
  refine(span: Span, fields: ReadonlyMap<string, FieldEntry>): Component {
    return new Component(this.kind, this.family, undefined, span, this, fields, this.block);
  }
}

export function typeName(v: Value): string {
  switch (v.type) {
    case "int":
      return "integer";
    case "float":
      return "float";
    case "string":
      return "string";
    case "bool":
      return "boolean";
    case "list":
      return "list";
    case "record":
      return "record";
    case "component":
      return v.component.kind;
    case "symbol":
      return "component name";
    case "error":
      return "error";
  }
}

/** A short rendering of a value for messages: `2`, `"patch"`, `clip`, `[a, b]`. */
export function show(v: Value): string {
  switch (v.type) {
    case "int":
      return v.text ?? v.value.toString();
    case "float":
      return v.text ?? showFloat(v.value);
    case "string":
      return JSON.stringify(v.value);
    case "bool":
      return String(v.value);
    case "list":
      return `[${v.items.map(show).join(", ")}]`;
    case "record":
      return `{ ${v.entries.map((e) => `${e.key} = ${show(e.value)}`).join(", ")} }`;
    case "component":
      return v.component.name ?? `${v.component.displayName} { ... }`;
    case "symbol":
      return v.name;
    case "error":
      return "?";
  }
}

/** Floats as a person writes them: `0.03`, `2e-5`, `1.0`. */
export function showFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return x.toFixed(1);
  const s = String(x);
  return s.replace(/e([+-])(\d)$/, "e$1$2").replace("e+", "e");
}

export function isNumeric(v: Value): v is Extract<Value, { type: "int" | "float" }> {
  return v.type === "int" || v.type === "float";
}

export function numberOf(v: Extract<Value, { type: "int" | "float" }>): number {
  return v.type === "int" ? Number(v.value) : v.value;
}

/** Structural equality as `==` defines it: values by value, components by identity. */
export function equalValues(a: Value, b: Value): boolean | undefined {
  if (isNumeric(a) && isNumeric(b)) {
    if (a.type === "int" && b.type === "int") return a.value === b.value;
    return numberOf(a) === numberOf(b);
  }
  if (a.type !== b.type) {
    // a component name compares with a string of the same text
    if (a.type === "symbol" && b.type === "string") return a.name === b.value;
    if (a.type === "string" && b.type === "symbol") return a.value === b.name;
    return undefined;
  }
  switch (a.type) {
    case "string":
      return a.value === (b as typeof a).value;
    case "bool":
      return a.value === (b as typeof a).value;
    case "symbol":
      return a.name === (b as typeof a).name;
    case "component":
      return a.component === (b as typeof a).component;
    case "list": {
      const bl = b as typeof a;
      if (a.items.length !== bl.items.length) return false;
      for (let i = 0; i < a.items.length; i++) {
        const eq = equalValues(a.items[i], bl.items[i]);
        if (eq !== true) return eq;
      }
      return true;
    }
    case "record": {
      const br = b as typeof a;
      if (a.entries.length !== br.entries.length) return false;
      for (const e of a.entries) {
        const other = br.entries.find((x) => x.key === e.key);
        if (!other) return false;
        const eq = equalValues(e.value, other.value);
        if (eq !== true) return eq;
      }
      return true;
    }
    default:
      return undefined;
  }
}
