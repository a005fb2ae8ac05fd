/**
 * Where the cursor is, for completion. While a spec is being typed it rarely parses, so the place is
 * read from the tokens before the cursor (the compiler's lexer never fails): a small state machine
 * follows the brackets and tells a field name from a value, a declaration's base from an `ablate`
 * axis, and resolves, through the last check, the family of each block and the schema of each value.
 */
import { tokenMatcher, type IToken } from "chevrotain";
import type * as A from "../grammar/ast.js";
import { lex } from "../grammar/lexer.js";
import * as t from "../grammar/tokens.js";
import { Diagnostics } from "../core/diagnostics.js";
import { familiesNamed, implicitFamily, needsFamily, type Family, type FieldSchema, type ValueKind } from "../compiler/families.js";
import { SourceFile } from "../core/source.js";
import { axisComponent } from "./locate.js";
import type { Analysis } from "./workspace.js";

type State = "item" | "declName" | "afterDeclName" | "base" | "letName" | "afterLetName" | "import" | "member" | "name" | "ablateKeyword" | "value";

interface Frame {
  readonly kind: "top" | "block" | "ablate" | "list" | "record" | "paren";
  /** block: the family whose fields are set */
  readonly family?: Family;
  /** block or ablate of an experiment: its declaration */
  readonly experiment?: A.Decl;
  /** list, record, paren: the schema of the values inside */
  readonly schema?: FieldSchema;
  state: State;
  declKind?: A.DeclKind;
  declName?: string;
  /** the field or axis being written (its segments for an axis) */
  name: string[];
  expectOperand: boolean;
  /** the path just read as a value (a refinement's base when `{` follows) */
  path: string[];
  readonly seen: Set<string>;
  /** block of a declaration: the fields it set at the last check */
  readonly set?: ReadonlySet<string>;
}

export type Place =
  | { readonly kind: "item" }
  | { readonly kind: "base"; readonly declKind: A.DeclKind; readonly declName?: string }
  | { readonly kind: "field"; readonly family?: Family; readonly seen: ReadonlySet<string>; readonly experiment: boolean }
  /** a value; `exclude`: in an experiment's `exclude` condition, where its axes are names too */
  | { readonly kind: "value"; readonly schema?: FieldSchema; readonly prefix: readonly string[]; readonly exclude?: A.Decl }
  | { readonly kind: "axis"; readonly experiment: A.Decl; readonly prefix: readonly string[] }
  | { readonly kind: "import" }
  | { readonly kind: "none" };

const isKind = (tok: IToken) => tokenMatcher(tok, t.KindKeyword);
/** A name: an identifier, or a declaration kind used as a field name or path segment (`model.vision`). */
const isName = (tok: IToken) => tok.tokenType === t.Identifier || isKind(tok);
const isString = (tok: IToken) => tokenMatcher(tok, t.StringLiteral);
const endOf = (tok: IToken) => tok.startOffset + tok.image.length;
const isOperand = (tok: IToken) =>
  isName(tok) || [t.NumberLiteral, t.StringLiteral, t.UnterminatedString, t.True, t.False].includes(tok.tokenType);
const operators = new Set([t.Plus, t.Minus, t.Star, t.Slash, t.EqEq, t.NotEq, t.And, t.Or, t.Not, t.In]);

export function schemaKinds(schema: FieldSchema | undefined): readonly ValueKind[] | undefined {
  const k = schema?.mmfmKind ?? (schema?.items as FieldSchema | undefined)?.mmfmKind;
  return k === undefined ? undefined : typeof k === "string" ? [k] : k;
}

/** What the values inside `[...]` written for a field are. */
function itemSchema(schema: FieldSchema | undefined): FieldSchema | undefined {
  if (schema?.type === "array") return { description: schema.description, ...(schema.items as object) } as FieldSchema;
  return schema;
}

/** Reads where the cursor is from the tokens before the word it is in. */
export class PlaceReader {
  private readonly stack: Frame[] = [];

  constructor(private readonly analysis: Analysis) {
    this.stack.push(this.frame("top", {}, "item"));
  }

  private frame(kind: Frame["kind"], extra: Partial<Frame>, state: State = "member"): Frame {
    return { kind, state, name: [], expectOperand: false, path: [], seen: new Set(), ...extra };
  }

  private get top(): Frame {
    return this.stack[this.stack.length - 1];
  }

  /** The schema of the value being written in a frame. */
  private valueSchema(f: Frame): FieldSchema | undefined {
    if (f.kind === "block") return f.family?.fields[f.name[0]];
    if (f.kind === "ablate") return f.experiment ? this.axisSchema(f.experiment, f.name) : undefined;
    if (f.kind === "top") return undefined;
    return f.schema;
  }

  private axisSchema(experiment: A.Decl, segments: readonly string[]): FieldSchema | undefined {
    const owner = axisComponent(this.analysis.compilation, this.analysis.module, experiment, segments.slice(0, -1));
    return owner?.family.fields[segments[segments.length - 1]];
  }

  private declFamily(kind: A.DeclKind, name: string | undefined, base: readonly string[]): Family | undefined {
    const { compilation, module } = this.analysis;
    const binding = name ? module?.own.get(name) : undefined;
    if (binding?.kind === "decl" && binding.node.declKind === kind) {
      const c = compilation.evaluator.declaration(binding);
      if (c) return c.family;
    }
    if (!needsFamily(kind) && base.length === 0) return implicitFamily(kind);
    return this.familyOf(base, [kind]);
  }

  /** The family of a base written as a path: a declaration's or a family of the expected kinds. */
  private familyOf(base: readonly string[], kinds: readonly ValueKind[] | undefined): Family | undefined {
    if (base.length !== 1) return undefined;
    const { compilation, module } = this.analysis;
    const binding = module?.scope.get(base[0]);
    if (binding?.kind === "decl") return compilation.evaluator.declaration(binding)?.family;
    const named = familiesNamed(base[0]).filter((f) => !kinds || kinds.includes(f.kind));
    return named.length === 1 ? named[0] : undefined;
  }

  /** The fields a declaration's block sets, as of the last check (completion leaves them out). */
  private fieldsSet(kind: A.DeclKind, name: string | undefined): ReadonlySet<string> {
    const binding = name ? this.analysis.module?.own.get(name) : undefined;
    if (binding?.kind !== "decl" || binding.node.declKind !== kind) return new Set();
    return new Set(this.analysis.compilation.evaluator.declaration(binding)?.own.keys() ?? []);
  }

  private experimentDecl(name: string | undefined): A.Decl | undefined {
    return this.analysis.file?.items.find((i): i is A.Decl => i.kind === "Decl" && i.declKind === "experiment" && i.name.text === name);
  }

  private open(tok: IToken): void {
    const f = this.top;
    if (tok.tokenType === t.LCurly) {
      if (f.kind === "top" && (f.state === "afterDeclName" || f.state === "base")) {
        const kind = f.declKind!;
        const experiment = kind === "experiment" ? this.experimentDecl(f.declName) : undefined;
        this.stack.push(this.frame("block", { family: this.declFamily(kind, f.declName, f.path), experiment, set: this.fieldsSet(kind, f.declName) }));
        f.state = "item";
        return;
      }
      if (f.state === "ablateKeyword") {
        this.stack.push(this.frame("ablate", { experiment: f.experiment }));
        f.state = "member";
        return;
      }
      const schema = this.valueSchema(f);
      if (f.state === "value" && !f.expectOperand && f.path.length) {
        this.stack.push(this.frame("block", { family: this.familyOf(f.path, schemaKinds(schema)) }));
      } else {
        this.stack.push(this.frame("record", { schema: f.kind === "ablate" ? schema : undefined }));
      }
      return;
    }
    const schema = this.valueSchema(f);
    if (tok.tokenType === t.LBracket) this.stack.push(this.frame("list", { schema: itemSchema(schema) }, "value"));
    else this.stack.push(this.frame("paren", { schema: undefined }, "value"));
    this.top.expectOperand = true;
  }

  private close(): void {
    if (this.stack.length > 1) this.stack.pop();
    const f = this.top;
    if (f.kind === "top" && f.state === "item") return;
    f.state = f.state === "member" ? "member" : "value";
    f.expectOperand = false;
    f.path = [];
  }

  /** Feeds one token. */
  read(tok: IToken): void {
    const type = tok.tokenType;
    if (type === t.LCurly || type === t.LBracket || type === t.LParen) return this.open(tok);
    if (type === t.RCurly || type === t.RBracket || type === t.RParen) return this.close();
    const f = this.top;
    switch (f.state) {
      case "item":
        if (isKind(tok)) Object.assign(f, { state: "declName", declKind: tok.image as A.DeclKind, declName: undefined, path: [] });
        else if (type === t.Let) f.state = "letName";
        else if (type === t.Import) f.state = "import";
        return;
      case "declName":
        f.declName = tok.image;
        f.state = "afterDeclName";
        return;
      case "afterDeclName":
        if (type === t.Equals) f.state = "base";
        else this.item(tok);
        return;
      case "base":
        if (isName(tok) && !isKind(tok)) f.path.push(tok.image);
        else if (type !== t.Dot) this.item(tok);
        return;
      case "letName":
        f.state = "afterLetName";
        return;
      case "afterLetName":
        if (type === t.Equals) Object.assign(f, { state: "value", expectOperand: true, path: [] });
        else this.item(tok);
        return;
      case "import":
        f.state = "item";
        return;
      case "member":
        return this.member(tok);
      case "name":
        if (type === t.Dot && f.kind === "ablate") return;
        if (isName(tok) && f.kind === "ablate") {
          f.name.push(tok.image);
          return;
        }
        if (type === t.Equals || type === t.Colon) {
          f.seen.add(f.name.join("."));
          Object.assign(f, { state: "value", expectOperand: true, path: [] });
          return;
        }
        return this.member(tok);
      case "ablateKeyword":
        if (type !== t.Zip) this.member(tok);
        return;
      case "value":
        return this.value(tok);
    }
  }

  private item(tok: IToken): void {
    this.top.state = "item";
    this.read(tok);
  }

  private member(tok: IToken): void {
    const f = this.top;
    if (f.kind === "top") return this.item(tok);
    if (f.kind === "list" || f.kind === "paren") return this.value(tok);
    if (tok.tokenType === t.Ablate) {
      Object.assign(f, { state: "ablateKeyword" });
      return;
    }
    if (tok.tokenType === t.Exclude) {
      Object.assign(f, { state: "value", name: [], expectOperand: true, path: [] });
      return;
    }
    if (isName(tok)) Object.assign(f, { state: "name", name: [tok.image] });
    else if (tok.tokenType === t.StringLiteral && f.kind === "record") Object.assign(f, { state: "name", name: [] });
  }

  private value(tok: IToken): void {
    const f = this.top;
    const type = tok.tokenType;
    if (type === t.Comma || type === t.Semicolon) {
      if (f.kind === "list" || f.kind === "paren") f.expectOperand = true;
      else if (f.kind !== "top") Object.assign(f, { state: "member", expectOperand: false });
      return;
    }
    if (type === t.Dot) {
      f.expectOperand = true;
      return;
    }
    if (operators.has(type)) {
      Object.assign(f, { expectOperand: true, path: [] });
      return;
    }
    if (type === t.Ablate || type === t.Exclude) {
      f.state = "member";
      return this.member(tok);
    }
    if (f.kind === "top" && (type === t.Let || type === t.Import)) return this.item(tok);
    if (!isOperand(tok)) return;
    if (f.expectOperand) {
      f.expectOperand = false;
      if (isName(tok)) f.path = f.path.length && f.path[f.path.length - 1] !== "" ? [...f.path, tok.image] : [tok.image];
      else f.path = [];
      return;
    }
    // a value next to a value: the first one ended, this token starts the next member or item
    if (f.kind === "top") return this.item(tok);
    if (f.kind === "list" || f.kind === "paren") return;
    f.state = "member";
    this.member(tok);
  }

  /** Where a word typed after the tokens read so far would go; `prefix` is a path before it (`model.`). */
  place(prefix: readonly string[]): Place {
    const f = this.top;
    switch (f.state) {
      case "item":
        return prefix.length ? { kind: "none" } : { kind: "item" };
      case "afterDeclName":
      case "afterLetName":
        return { kind: "item" };
      case "base":
        return f.path.length && !prefix.length ? { kind: "item" } : { kind: "base", declKind: f.declKind!, declName: f.declName };
      case "import":
        return { kind: "import" };
      case "declName":
      case "letName":
      case "name":
      case "ablateKeyword":
        return { kind: "none" };
      case "member":
        break;
      case "value":
        if (f.expectOperand || f.kind === "list" || f.kind === "paren") {
          const exclude = f.kind === "block" && f.name.length === 0 ? f.experiment : undefined;
          return { kind: "value", schema: this.valueSchema(f), prefix, exclude };
        }
        break;
    }
    if (f.kind === "ablate") return f.experiment ? { kind: "axis", experiment: f.experiment, prefix } : { kind: "none" };
    if (f.kind === "block") return { kind: "field", family: f.family, seen: new Set([...f.seen, ...(f.set ?? [])]), experiment: f.experiment !== undefined };
    if (f.kind === "top") return { kind: "item" };
    return { kind: "none" };
  }
}

/** The place of the cursor and the word it is in (the range a completion replaces); undefined in a comment. */
export function readPlace(analysis: Analysis, text: string, offset: number): { place: Place; source: SourceFile; start: number; end: number; inString: boolean } | undefined {
  const source = new SourceFile("<completion>", text);
  const { tokens, comments } = lex(source, new Diagnostics());
  if (comments.some((c) => c.span.start < offset && (offset < c.span.end || (!c.block && offset === c.span.end)))) return undefined;
  const inString = tokens.find(
    (tok) => isString(tok) && tok.startOffset < offset && (offset < endOf(tok) || (tok.tokenType === t.UnterminatedString && offset === endOf(tok))),
  );
  let start = offset;
  let end = offset;
  if (inString) {
    start = inString.startOffset;
    end = endOf(inString);
  } else {
    while (start > 0 && /[A-Za-z0-9_]/.test(text[start - 1])) start--;
    while (end < text.length && /[A-Za-z0-9_]/.test(text[end])) end++;
  }
  const before = tokens.filter((tok) => endOf(tok) <= start && tok !== inString);
  // a path written up to the word (`model.connector.`), its segments and dots adjacent
  const prefix: string[] = [];
  let next = start;
  while (before.length >= 2) {
    const dot = before[before.length - 1];
    const name = before[before.length - 2];
    if (dot.tokenType !== t.Dot || endOf(dot) !== next || !isName(name) || endOf(name) !== dot.startOffset) break;
    before.length -= 2;
    prefix.unshift(name.image);
    next = name.startOffset;
  }
  const reader = new PlaceReader(analysis);
  for (const tok of before) reader.read(tok);
  return { place: reader.place(prefix), source, start, end, inString: inString !== undefined };
}
