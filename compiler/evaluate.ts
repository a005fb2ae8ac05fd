/**
 * Evaluate: declarations, `let` constants and expressions -> components and values, with exact
 * integer arithmetic. Names resolve lazily (a file's names are visible before their declaration);
 * a definition that needs itself is reported once. Field values are evaluated against the schema of
 * the field when it is known, so `linear` means the connector or the schedule as the field expects,
 * and `train = [connector]` reads `connector` as a component name.
 */
import type * as A from "../grammar/ast.js";
import { ablateAxes, assertNever, pathText } from "../grammar/ast.js";
import { parseSource } from "../grammar/index.js";
import { Diagnostics, type Message } from "../core/diagnostics.js";
import { L, M } from "../core/messages.js";
import { familiesNamed, familyNames, implicitFamily, needsFamily, type Family, type FieldSchema, type ValueKind } from "./families.js";
import type { Binding, Module, Program } from "./resolve.js";
import { SourceFile, type Span } from "../core/source.js";
import { suggest } from "../core/suggest.js";
import { Component, equalValues, isNumeric, numberOf, show, typeName, type FieldEntry, type Value } from "./values.js";

const componentNames = ["vision", "connector", "language"];

/** The words LLaVA's code and papers use for the components (`mm_projector`, `vision_tower`, "the LLM"). */
const componentWords: Readonly<Record<string, string>> = {
  projector: "connector",
  mm_projector: "connector",
  adapter: "connector",
  mlp: "connector",
  llm: "language",
  lm: "language",
  decoder: "language",
  text: "language",
  vit: "vision",
  encoder: "vision",
  tower: "vision",
  vision_tower: "vision",
  image: "vision",
};

/**
 * The schema a field's value is read against: the field's, or for an unknown field the field it most
 * likely misspells, so `trian = [connector]` reads `connector` as `train` would and the mistake is the
 * unknown field (E0203, "did you mean `train`"), not its value.
 */
function fieldSchema(family: Family, name: string): FieldSchema | undefined {
  const schema = family.fields[name];
  if (schema) return schema;
  const guess = suggest(name, Object.keys(family.fields));
  return guess === undefined ? undefined : family.fields[guess];
}

/** Whether a schema takes a component name (an item of `train`). */
function isComponentName(schema: FieldSchema | undefined): boolean {
  return schema?.enum !== undefined && componentNames.every((c) => schema.enum!.includes(c));
}

/** Extra names visible while evaluating an `exclude` condition or a command-line value. */
export interface Env {
  /** the value of an axis or experiment path (`model.vision`), if the path names one */
  lookupPath?(path: string, span: Span): Value | undefined;
  /** `label(PATH)`: the label of axis PATH at this grid point (reporting a path that is not an axis) */
  label?(path: A.Path, span: Span): Value;
}

function expectedKinds(expect: FieldSchema | undefined): readonly ValueKind[] | undefined {
  if (!expect?.mmfmKind) return undefined;
  return typeof expect.mmfmKind === "string" ? [expect.mmfmKind] : expect.mmfmKind;
}

export class Evaluator {
  private readonly decls = new Map<A.Decl, Component | undefined>();
  private readonly lets = new Map<A.Let, Value>();
  private readonly active = new Set<A.Decl | A.Let>();
  /** every component made, named or anonymous, in creation order (the checker visits them all) */
  readonly components: Component[] = [];
  /** per module, the bindings its expressions and bases referred to (unused-`let` and -import warnings) */
  private readonly usedBy = new Map<Module, Set<Binding>>();

  /** Looks a name up in a module's scope, remembering that the module used it. */
  lookup(module: Module, name: string): Binding | undefined {
    const binding = module.scope.get(name);
    if (binding) {
      let set = this.usedBy.get(module);
      if (!set) this.usedBy.set(module, (set = new Set()));
      set.add(binding);
    }
    return binding;
  }

  /** The bindings `module` referred to. */
  usedIn(module: Module): ReadonlySet<Binding> {
    return this.usedBy.get(module) ?? new Set();
  }

  constructor(
    readonly program: Program,
    readonly diagnostics: Diagnostics,
  ) {}

  /**
   * Evaluates every declaration and `let` of every module, each after the names it refers to (see
   * `evaluationOrder`), so that evaluating one never recurses down a long chain of definitions.
   */
  evaluateAll(): void {
    for (const module of this.program.modules) {
      for (const binding of evaluationOrder(module)) {
        if (binding.kind === "decl") this.declaration(binding);
        else this.letValue(binding);
      }
    }
  }

  declaration(binding: Extract<Binding, { kind: "decl" }>): Component | undefined {
    const decl = binding.node;
    if (this.decls.has(decl)) return this.decls.get(decl);
    if (this.active.has(decl)) {
      this.diagnostics.report(M.declarationCycle, { name: decl.name.text }, { span: decl.name.span });
      this.decls.set(decl, undefined);
      return undefined;
    }
    this.active.add(decl);
    const component = this.makeDeclaration(decl, binding.module);
    this.active.delete(decl);
    this.decls.set(decl, component);
    return component;
  }

  private makeDeclaration(decl: A.Decl, module: Module): Component | undefined {
    let family: Family | undefined;
    let base: Component | undefined;
    if (decl.base) {
      const resolved = this.resolveBase(decl, module);
      if (!resolved) return undefined;
      ({ family, base } = resolved);
    } else if (needsFamily(decl.declKind)) {
      this.diagnostics.report(M.needsFamily, { kind: decl.declKind, name: decl.name.text, families: familyNames(decl.declKind) }, { span: decl.name.span });
      return undefined;
    } else {
      family = implicitFamily(decl.declKind)!;
    }
    const own = new Map<string, FieldEntry>();
    const component = new Component(decl.declKind, family, decl.name.text, decl.span, base, own, decl.body);
    if (decl.body) this.block(decl.body, component, own, module);
    this.components.push(component);
    return component;
  }

  private resolveBase(decl: A.Decl, module: Module): { family: Family; base?: Component } | undefined {
    const path = decl.base!;
    const kind = decl.declKind;
    if (path.segments.length !== 1) {
      this.diagnostics.report(M.baseNotAName, { kind, name: decl.name.text }, { span: path.span });
      return undefined;
    }
    const name = path.segments[0].text;
    const binding = this.lookup(module, name);
    const sameName = binding?.kind === "decl" && binding.node === decl;
    if (binding && !sameName) {
      const value = this.bindingValue(binding, path.span);
      if (value.type === "error") return undefined;
      if (value.type === "component" && value.component.kind === kind) return { family: value.component.family, base: value.component };
      const families = familiesNamed(name).filter((f) => f.kind === kind);
      if (families.length === 0) {
        this.diagnostics.report(M.baseOfWrongType, { name, type: typeName(value), kind, families: familyNames(kind) }, {
          span: path.span,
          secondary: [{ span: bindingSpanOf(binding), text: L.declaredHere(name) }],
        });
        return undefined;
      }
    }
    const families = familiesNamed(name).filter((f) => f.kind === kind);
    if (families.length === 1) return { family: families[0] };
    const other = familiesNamed(name)[0];
    if (other) {
      this.diagnostics.report(M.baseFamilyOfWrongKind, { name, actual: other.kind, kind, families: familyNames(kind) }, { span: path.span });
      return undefined;
    }
    const candidates = [...familyNames(kind), ...this.namesOfKind(module, kind)];
    const guess = suggest(name, candidates);
    this.diagnostics.report(M.unknownBase, { kind, name, guess, families: familyNames(kind), importsStd: this.importsStd(module) }, {
      span: path.span,
      fixes: guess ? [{ span: path.span, text: guess }] : this.importsStd(module) ? undefined : [{ span: path.span.file.span(0, 0), text: 'import "std"\n' }],
    });
    return undefined;
  }

  private importsStd(module: Module): boolean {
    return [...module.scope.values()].some((b) => b.module.isStd);
  }

  private namesOfKind(module: Module, kind: ValueKind): string[] {
    const out: string[] = [];
    for (const [name, b] of module.scope) if (b.kind === "decl" && b.node.declKind === kind) out.push(name);
    return out;
  }

  /** Evaluates a block's members into `own`. */
  private block(block: A.Block, owner: Component, own: Map<string, FieldEntry>, module: Module, env?: Env): void {
    for (const member of block.members) {
      if (member.kind === "Field") {
        const name = member.name.text;
        const previous = own.get(name);
        if (previous) {
          this.diagnostics.report(M.fieldSetTwice, { field: name }, { span: member.name.span, secondary: [{ span: previous.nameSpan, text: L.firstSetHere }] });
          continue;
        }
        const value = this.evaluate(member.value, module, fieldSchema(owner.family, name), env);
        own.set(name, { name, value, nameSpan: member.name.span, span: member.span, owner });
      } else if (owner.kind !== "experiment") {
        const what = member.kind === "Ablate" ? "ablate" : "exclude";
        this.diagnostics.report(M.gridOutsideExperiment, { member: what, kind: owner.kind, example: owner.name ?? owner.kind }, {
          span: member.kind === "Ablate" ? { ...member.span, end: member.span.start + 6 } : { ...member.span, end: member.span.start + 7 },
        });
      }
    }
  }

  letValue(binding: Extract<Binding, { kind: "let" }>): Value {
    const node = binding.node;
    const cached = this.lets.get(node);
    if (cached) return cached;
    if (this.active.has(node)) {
      this.diagnostics.report(M.letCycle, { name: node.name.text }, { span: node.name.span });
      const err: Value = { type: "error", span: node.value.span };
      this.lets.set(node, err);
      return err;
    }
    this.active.add(node);
    const value = this.evaluate(node.value, binding.module);
    this.active.delete(node);
    this.lets.set(node, value);
    return value;
  }

  private bindingValue(binding: Binding, span: Span): Value {
    if (binding.kind === "let") return { ...this.letValue(binding), span } as Value;
    const component = this.declaration(binding);
    return component ? { type: "component", component, span } : { type: "error", span };
  }

  /** Evaluates an expression; `expect` is the schema of the field it is assigned to, when known. */
  evaluate(expr: A.Expr, module: Module, expect?: FieldSchema, env?: Env): Value {
    switch (expr.kind) {
      case "Int":
        return { type: "int", value: expr.value, span: expr.span, text: expr.text.replace(/_/g, "") };
      case "Float":
        return { type: "float", value: expr.value, span: expr.span, text: expr.text.replace(/_/g, "") };
      case "String":
        return { type: "string", value: expr.value, span: expr.span };
      case "Bool":
        return { type: "bool", value: expr.value, span: expr.span };
      case "List": {
        const itemExpect = expect?.type === "array" ? (expect.items as FieldSchema | undefined) : expect?.mmfmSingleOk ? expect : undefined;
        return { type: "list", items: expr.items.map((e) => this.evaluate(e, module, itemExpect, env)), span: expr.span };
      }
      case "Record": {
        const seen = new Map<string, Span>();
        const entries = [];
        for (const e of expr.entries) {
          const first = seen.get(e.key.text);
          if (first) {
            this.diagnostics.report(M.keyTwice, { key: e.key.text }, { span: e.key.span, secondary: [{ span: first, text: L.firstHere }] });
            continue;
          }
          seen.set(e.key.text, e.key.span);
          entries.push({ key: e.key.text, keySpan: e.key.span, value: this.evaluate(e.value, module, undefined, env) });
        }
        return { type: "record", entries, span: expr.span };
      }
      case "Path":
        return this.path(expr, module, expect, env);
      case "Paren":
        return { ...this.evaluate(expr.expr, module, expect, env), span: expr.span } as Value;
      case "Unary":
        return this.unary(expr, module, env);
      case "Binary":
        return this.binary(expr, module, env);
      case "In":
        return this.inExpr(expr, module, env);
      case "Refine":
        return this.refine(expr, module, expect, env);
      case "Label":
        if (env?.label) return env.label(expr.path, expr.span);
        this.diagnostics.report(M.labelOutsideExclude, { path: pathText(expr.path) }, { span: expr.span });
        return { type: "error", span: expr.span };
      case "Missing":
        return { type: "error", span: expr.span };
      default: {
        const never: never = expr;
        return never;
      }
    }
  }

  private path(expr: A.Path, module: Module, expect: FieldSchema | undefined, env: Env | undefined): Value {
    const text = pathText(expr);
    const fromEnv = env?.lookupPath?.(text, expr.span);
    if (fromEnv) return fromEnv;
    const [head, ...rest] = expr.segments;
    const binding = this.lookup(module, head.text);
    let value: Value | undefined;
    if (binding) value = this.bindingValue(binding, head.span);
    else value = this.unboundName(head, module, rest.length === 0 ? expect : undefined);
    for (const segment of rest) {
      if (value.type === "error") return { type: "error", span: expr.span };
      value = this.member(value, segment, expr);
    }
    return { ...value, span: expr.span } as Value;
  }

  /** A name that is not declared: a component name, a family, or an error. */
  private unboundName(name: A.Name, module: Module, expect: FieldSchema | undefined): Value {
    const text = name.text;
    if (expect?.enum?.includes(text) && componentNames.includes(text)) return { type: "symbol", name: text, span: name.span };
    if (this.componentNameMistake(name, expect)) return { type: "error", span: name.span };
    const kinds = expectedKinds(expect);
    let families = familiesNamed(text);
    if (kinds) families = families.filter((f) => kinds.includes(f.kind));
    if (families.length === 1) {
      const family = families[0];
      const component = new Component(family.kind, family, undefined, name.span, undefined, new Map());
      this.components.push(component);
      return { type: "component", component, span: name.span };
    }
    if (families.length > 1) {
      this.diagnostics.report(M.ambiguousFamily, { name: text, kinds: families.map((f) => f.kind) }, { span: name.span });
      return { type: "error", span: name.span };
    }
    if (componentNames.includes(text) || ["dataset", "stage", "eval", "model", "experiment"].includes(text)) {
      this.diagnostics.report(M.kindAsValue, { name: text, component: componentNames.includes(text) }, { span: name.span });
      return { type: "error", span: name.span };
    }
    const candidates = new Set<string>(module.scope.keys());
    for (const k of kinds ?? []) for (const f of familyNames(k)) candidates.add(f);
    const guess = suggest(text, candidates);
    const missingStd = !this.importsStd(module) && /^(clip|dinov2|siglip|gemma|mlp2x|linear_proj|gqa|pope|mme|scienceqa|vqav2|mmvp|tiny)/.test(text);
    this.diagnostics.report(M.unknownName, { name: text, guess, missingStd }, {
      span: name.span,
      fixes: [...(guess ? [{ span: name.span, text: guess }] : []), ...(missingStd ? [{ span: name.span.file.span(0, 0), text: 'import "std"\n' }] : [])],
    });
    return { type: "error", span: name.span };
  }

  /**
   * A mistake in `train`, reported with its fix: a component name alone (`train = connector`, for
   * `[connector]`), or a name that is not a component in the list (`[conector]`, `[projector]`),
   * with the nearest by spelling or by LLaVA's word for it. False when `expect` is not `train`'s.
   */
  private componentNameMistake(name: A.Name, expect: FieldSchema | undefined): boolean {
    const list = expect?.type === "array" && isComponentName(expect.items as FieldSchema | undefined);
    if (list && componentNames.includes(name.text)) {
      this.diagnostics.report(M.componentAlone, { name: name.text }, { span: name.span, fixes: [{ span: name.span, text: `[${name.text}]` }] });
      return true;
    }
    if (!isComponentName(expect)) return false;
    const guess = suggest(name.text, componentNames) ?? componentWords[name.text.toLowerCase()];
    this.diagnostics.report(M.notAComponent, { name: name.text, guess, components: componentNames }, { span: name.span, fixes: guess ? [{ span: name.span, text: guess }] : undefined });
    return true;
  }

  /** `value.segment`: a field of a declaration (set, inherited, or its family default). */
  private member(value: Value, segment: A.Name, expr: A.Path): Value {
    if (value.type !== "component") {
      this.diagnostics.report(M.noFields, { field: segment.text, type: typeName(value) }, { span: segment.span });
      return { type: "error", span: expr.span };
    }
    const c = value.component;
    const entry = c.field(segment.text);
    if (entry) return entry.value;
    const schema = c.family.fields[segment.text];
    if (schema && schema.default !== undefined && typeof schema.default !== "string") return literalValue(schema.default, segment.span);
    if (schema && typeof schema.default === "string" && schema.type === "string") return { type: "string", value: schema.default, span: segment.span };
    if (schema) {
      this.diagnostics.report(M.fieldHasNoValue, { field: segment.text, owner: c.describe(), computedDefault: schema.mmfmDefault }, { span: segment.span });
      return { type: "error", span: expr.span };
    }
    const guess = suggest(segment.text, Object.keys(c.family.fields));
    this.diagnostics.report(M.unknownField, { field: segment.text, owner: c.describe(), guess }, { span: segment.span, fixes: guess ? [{ span: segment.span, text: guess }] : undefined });
    return { type: "error", span: expr.span };
  }

  private refine(expr: A.Refine, module: Module, expect: FieldSchema | undefined, env: Env | undefined): Value {
    const base = this.evaluate(expr.base, module, expect, env);
    if (base.type === "error") {
      // still look inside the block for errors of its own
      for (const m of expr.body.members) if (m.kind === "Field") this.evaluate(m.value, module, undefined, env);
      return { type: "error", span: expr.span };
    }
    if (base.type !== "component") {
      this.diagnostics.report(M.cannotRefine, { type: typeName(base), shown: show(base) }, { span: expr.base.span });
      return { type: "error", span: expr.span };
    }
    const own = new Map<string, FieldEntry>();
    const parent = base.component;
    const bareFamily = !parent.name && !parent.base && parent.own.size === 0;
    if (bareFamily) {
      // `llava_json { annotations = ... }`: the bare family is only a base here, not a value to check
      const at = this.components.lastIndexOf(parent);
      if (at >= 0) this.components.splice(at, 1);
    }
    const component = new Component(parent.kind, parent.family, undefined, expr.span, bareFamily ? undefined : parent, own, parent.block);
    this.block(expr.body, component, own, module, env);
    this.components.push(component);
    return { type: "component", component, span: expr.span };
  }

  private unary(expr: A.Unary, module: Module, env: Env | undefined): Value {
    const v = this.evaluate(expr.operand, module, undefined, env);
    if (v.type === "error") return { type: "error", span: expr.span };
    if (expr.op === "not") {
      if (v.type !== "bool") return this.typeError(expr.span, M.notNeedsBoolean, { type: typeName(v) });
      return { type: "bool", value: !v.value, span: expr.span };
    }
    if (v.type === "int") return { type: "int", value: -v.value, span: expr.span, text: v.text ? `-${v.text}` : undefined };
    if (v.type === "float") return { type: "float", value: -v.value, span: expr.span, text: v.text ? `-${v.text}` : undefined };
    return this.typeError(expr.span, M.cannotNegate, { type: typeName(v) });
  }

  private typeError<Args>(span: Span, message: Message<Args>, args: Args): Value {
    this.diagnostics.report(message, args, { span });
    return { type: "error", span };
  }

  /**
   * A chain of binary operators, evaluated by a loop down its left spine: `1 + 2 + ... + 2000` is a
   * tree as deep as it is long (operators associate to the left), so recursing on the left operand
   * would overflow the stack. Right operands recurse; their depth is bounded by the nesting limit.
   */
  private binary(expr: A.Binary, module: Module, env: Env | undefined): Value {
    const spine: A.Binary[] = [];
    let leftmost: A.Expr = expr;
    while (leftmost.kind === "Binary") {
      spine.push(leftmost);
      leftmost = leftmost.left;
    }
    let l = this.evaluate(leftmost, module, undefined, env);
    for (let i = spine.length - 1; i >= 0; i--) l = this.operation(spine[i], l, this.evaluate(spine[i].right, module, undefined, env));
    return l;
  }

  /** One binary operator on its evaluated operands. */
  private operation(expr: A.Binary, l: Value, r: Value): Value {
    if (l.type === "error" || r.type === "error") return { type: "error", span: expr.span };
    const span = expr.span;
    switch (expr.op) {
      case "and":
      case "or": {
        for (const [v, e] of [[l, expr.left], [r, expr.right]] as const) {
          if (v.type !== "bool") return this.typeError(e.span, M.logicNeedsBooleans, { op: expr.op, type: typeName(v) });
        }
        const a = (l as { value: boolean }).value;
        const b = (r as { value: boolean }).value;
        return { type: "bool", value: expr.op === "and" ? a && b : a || b, span };
      }
      case "==":
      case "!=": {
        const eq = equalValues(l, r);
        if (eq === undefined) {
          this.diagnostics.report(M.cannotCompare, { left: typeName(l), right: typeName(r), declarations: l.type === "component" || r.type === "component" }, {
            span: expr.opSpan,
            secondary: [
              { span: expr.left.span, text: L.typedValue(typeName(l), show(l)) },
              { span: expr.right.span, text: L.typedValue(typeName(r), show(r)) },
            ],
          });
          return { type: "error", span };
        }
        return { type: "bool", value: expr.op === "==" ? eq : !eq, span };
      }
      default:
        return this.arithmetic(expr, l, r);
    }
  }

  private arithmetic(expr: A.Binary, l: Value, r: Value): Value {
    const span = expr.span;
    if (!isNumeric(l) || !isNumeric(r)) {
      const bad = !isNumeric(l) ? l : r;
      this.diagnostics.report(M.notNumbers, { op: expr.op, type: typeName(bad), shown: show(bad) }, { span: bad.span });
      return { type: "error", span };
    }
    if (l.type === "int" && r.type === "int") {
      const a = l.value;
      const b = r.value;
      switch (expr.op) {
        case "+":
          return { type: "int", value: a + b, span };
        case "-":
          return { type: "int", value: a - b, span };
        case "*":
          return { type: "int", value: a * b, span };
        case "/":
          if (b === 0n) {
            this.diagnostics.report(M.divisionByZero, {}, { span: expr.right.span });
            return { type: "error", span };
          }
          if (a % b !== 0n) {
            this.diagnostics.report(M.inexactDivision, { a, b }, { span });
            return { type: "error", span };
          }
          return { type: "int", value: a / b, span };
        default:
          return { type: "error", span };
      }
    }
    const a = numberOf(l);
    const b = numberOf(r);
    let value: number;
    switch (expr.op) {
      case "+":
        value = a + b;
        break;
      case "-":
        value = a - b;
        break;
      case "*":
        value = a * b;
        break;
      case "/":
        if (b === 0) {
          this.diagnostics.report(M.divisionByZero, {}, { span: expr.right.span });
          return { type: "error", span };
        }
        value = a / b;
        break;
      default:
        return { type: "error", span };
    }
    if (!Number.isFinite(value)) {
      this.diagnostics.report(M.notFinite, {}, { span });
      return { type: "error", span };
    }
    return { type: "float", value, span };
  }

  private inExpr(expr: A.InExpr, module: Module, env: Env | undefined): Value {
    const v = this.evaluate(expr.value, module, undefined, env);
    const list = this.evaluate(expr.list, module, undefined, env);
    if (v.type === "error" || list.type !== "list") return { type: "error", span: expr.span };
    let found = false;
    for (const item of list.items) {
      if (item.type === "error") return { type: "error", span: expr.span };
      const eq = equalValues(v, item);
      if (eq === undefined) {
        this.diagnostics.report(M.cannotCompareInList, { left: typeName(v), right: typeName(item) }, { span: item.span });
        return { type: "error", span: expr.span };
      }
      if (eq) found = true;
    }
    return { type: "bool", value: found, span: expr.span };
  }

  /** A default written in mmfm (e.g. a stage's `schedule` default `cosine { warmup = 0.03 }`). */
  defaultValue(text: string, expect: FieldSchema, span: Span): Value {
    const source = new SourceFile("<built-in default>", `let default = ${text}`);
    const file = parseSource(source, new Diagnostics());
    const item = file.items[0];
    if (!item || item.kind !== "Let") return { type: "error", span };
    const empty: Module = { id: "<defaults>", files: [], scope: new Map(), own: new Map(), isStd: false };
    const value = this.evaluate(item.value, empty, expect);
    return value;
  }
}

/**
 * A module's own bindings in declaration order, each preceded by the bindings of the module it refers
 * to that are not yet placed (depth first, by a loop): `let a0 = a1`, `let a1 = a2`, ... 50,000 times
 * is evaluated from the end, one level of recursion each. Bindings on a cycle keep their place, so a
 * cycle is found and reported where it was before (at the first of them in declaration order).
 */
export function evaluationOrder(module: Module): Binding[] {
  const order: Binding[] = [];
  const placed = new Set<Binding>();
  const cyclic = new Set<Binding>();
  const uses = (b: Binding): Binding[] => {
    const out: Binding[] = [];
    for (const name of referencedNames(b.node)) {
      const dep = module.own.get(name);
      if (dep && dep !== b) out.push(dep);
    }
    return out;
  };
  for (const root of module.own.values()) {
    if (placed.has(root)) continue;
    // the path from the root, each with the dependencies still to visit
    const path: { binding: Binding; deps: Binding[] }[] = [{ binding: root, deps: uses(root) }];
    const onPath = new Set<Binding>([root]);
    while (path.length > 0) {
      const top = path[path.length - 1];
      const dep = top.deps.pop();
      if (dep === undefined) {
        path.pop();
        onPath.delete(top.binding);
        if (!cyclic.has(top.binding) || top.binding === root) {
          placed.add(top.binding);
          order.push(top.binding);
        }
        continue;
      }
      if (placed.has(dep)) continue;
      if (onPath.has(dep)) {
        // a cycle: its members are evaluated in declaration order, where the cycle is reported
        for (let i = path.length - 1; i >= 0 && path[i].binding !== dep; i--) cyclic.add(path[i].binding);
        cyclic.add(dep);
        continue;
      }
      if (cyclic.has(dep)) continue;
      path.push({ binding: dep, deps: uses(dep) });
      onPath.add(dep);
    }
  }
  for (const b of module.own.values()) if (!placed.has(b)) order.push(b);
  return order;
}

/** The first segment of every path in a declaration or `let` (the names it may refer to), by a loop over its tree. */
function referencedNames(node: A.Decl | A.Let): Set<string> {
  const names = new Set<string>();
  const pending: (A.Expr | A.Block)[] = [];
  if (node.kind === "Let") pending.push(node.value);
  else {
    if (node.base) pending.push(node.base);
    if (node.body) pending.push(node.body);
  }
  for (let n; (n = pending.pop()); ) {
    switch (n.kind) {
      case "Path":
        if (n.segments[0]) names.add(n.segments[0].text);
        break;
      case "Block":
        for (const m of n.members) {
          if (m.kind === "Field") pending.push(m.value);
          else if (m.kind === "Exclude") pending.push(m.condition);
          else for (const axis of ablateAxes(m)) pending.push(axis.values);
        }
        break;
      case "List":
        for (const item of n.items) pending.push(item);
        break;
      case "Record":
        for (const e of n.entries) pending.push(e.value);
        break;
      case "Unary":
        pending.push(n.operand);
        break;
      case "Binary":
        pending.push(n.left, n.right);
        break;
      case "In":
        pending.push(n.value, n.list);
        break;
      case "Refine":
        pending.push(n.base, n.body);
        break;
      case "Paren":
        pending.push(n.expr);
        break;
      case "Int":
      case "Float":
      case "String":
      case "Bool":
      case "Label":
      case "Missing":
        break;
      default:
        assertNever(n);
    }
  }
  return names;
}

function bindingSpanOf(b: Binding): Span {
  return b.node.name.span;
}

/** A JSON default of a schema as a value. */
export function literalValue(json: unknown, span: Span): Value {
  if (typeof json === "boolean") return { type: "bool", value: json, span };
  if (typeof json === "string") return { type: "string", value: json, span };
  if (typeof json === "number") return Number.isInteger(json) ? { type: "int", value: BigInt(json), span } : { type: "float", value: json, span };
  if (Array.isArray(json)) return { type: "list", items: json.map((j) => literalValue(j, span)), span };
  return { type: "error", span };
}
