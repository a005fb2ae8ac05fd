/**
 * What is at an offset of a file: the innermost name of the tree there, with the context that gives
 * it a meaning (the block a field is set in, the experiment an axis belongs to, the field a value is
 * assigned to). Then what it refers to, through the compilation: a declaration or `let`, a family, a
 * field of a component, or an axis of an experiment.
 */
import type * as A from "../grammar/ast.js";
import { ablateAxes } from "../grammar/ast.js";
import type { Compilation } from "../compiler/pipeline.js";
import type { Binding, Module } from "../compiler/resolve.js";
import { familiesNamed, type Family, type FieldSchema, type ValueKind } from "../compiler/families.js";
import type { Component, Value } from "../compiler/values.js";

/** The block a field is set in: a declaration's body or a refinement's (`cosine { warmup = 0.03 }`). */
export type Owner = { readonly kind: "decl"; readonly decl: A.Decl } | { readonly kind: "refine"; readonly refine: A.Refine };

/** Where a path is written, which decides how it is read. */
export type PathContext =
  | { readonly kind: "base"; readonly decl: A.Decl }
  | { readonly kind: "value"; readonly owner?: Owner; readonly field?: A.Field }
  | { readonly kind: "axis"; readonly decl: A.Decl; readonly axis: A.Axis }
  | { readonly kind: "axisValue"; readonly decl: A.Decl; readonly axis: A.Axis }
  | { readonly kind: "exclude"; readonly decl: A.Decl };

export type Found =
  | { readonly kind: "declName"; readonly decl: A.Decl }
  | { readonly kind: "declKeyword"; readonly decl: A.Decl }
  | { readonly kind: "letName"; readonly node: A.Let }
  | { readonly kind: "import"; readonly item: A.Import }
  | { readonly kind: "fieldName"; readonly field: A.Field; readonly owner: Owner }
  | { readonly kind: "path"; readonly path: A.Path; readonly index: number; readonly context: PathContext };

const inside = (span: { start: number; end: number }, offset: number) => offset >= span.start && offset <= span.end;

export function locate(file: A.File, offset: number): Found | undefined {
  for (const item of file.items) {
    if (!inside(item.span, offset)) continue;
    switch (item.kind) {
      case "Import":
        return { kind: "import", item };
      case "Let":
        if (inside(item.name.span, offset)) return { kind: "letName", node: item };
        return expression(item.value, offset, { kind: "value" });
      case "Decl":
        if (inside(item.keywordSpan, offset)) return { kind: "declKeyword", decl: item };
        if (inside(item.name.span, offset)) return { kind: "declName", decl: item };
        if (item.base && inside(item.base.span, offset)) return path(item.base, offset, { kind: "base", decl: item });
        if (item.body && inside(item.body.span, offset)) return block(item.body, offset, { kind: "decl", decl: item }, item);
        return undefined;
    }
  }
  return undefined;
}

function block(body: A.Block, offset: number, owner: Owner, decl?: A.Decl): Found | undefined {
  for (const member of body.members) {
    if (!inside(member.span, offset)) continue;
    switch (member.kind) {
      case "Field":
        if (inside(member.name.span, offset)) return { kind: "fieldName", field: member, owner };
        return expression(member.value, offset, { kind: "value", owner, field: member }, decl);
      case "Ablate":
        if (!decl) return undefined;
        for (const axis of ablateAxes(member)) {
          if (inside(axis.path.span, offset)) return path(axis.path, offset, { kind: "axis", decl, axis });
          if (inside(axis.values.span, offset)) return expression(axis.values, offset, { kind: "axisValue", decl, axis }, decl);
        }
        return undefined;
      case "Exclude":
        return decl ? expression(member.condition, offset, { kind: "exclude", decl }, decl) : undefined;
    }
  }
  return undefined;
}

function path(p: A.Path, offset: number, context: PathContext): Found | undefined {
  const index = p.segments.findIndex((s) => inside(s.span, offset));
  return index < 0 ? undefined : { kind: "path", path: p, index, context };
}

function expression(e: A.Expr, offset: number, context: PathContext, decl?: A.Decl): Found | undefined {
  if (!inside(e.span, offset)) return undefined;
  switch (e.kind) {
    case "Path":
      return path(e, offset, context);
    case "List":
      for (const item of e.items) if (inside(item.span, offset)) return expression(item, offset, context, decl);
      return undefined;
    case "Record":
      for (const entry of e.entries) if (inside(entry.value.span, offset)) return expression(entry.value, offset, context, decl);
      return undefined;
    case "Unary":
      return expression(e.operand, offset, context, decl);
    case "Binary":
      return expression(e.left, offset, context, decl) ?? expression(e.right, offset, context, decl);
    case "In":
      return expression(e.value, offset, context, decl) ?? expression(e.list, offset, context, decl);
    case "Paren":
      return expression(e.expr, offset, context, decl);
    case "Refine":
      if (inside(e.base.span, offset)) return expression(e.base, offset, context, decl);
      // a refinement's block holds fields only (`ablate` belongs to the experiment's own block)
      return block(e.body, offset, { kind: "refine", refine: e });
    default:
      return undefined;
  }
}

// ---- meaning --------------------------------------------------------------------------------------

export type Target =
  | { readonly kind: "binding"; readonly binding: Binding }
  | { readonly kind: "family"; readonly families: readonly Family[] }
  | { readonly kind: "field"; readonly component: Component; readonly name: string; readonly schema?: FieldSchema }
  | { readonly kind: "axis"; readonly decl: A.Decl; readonly axis: A.Axis }
  | { readonly kind: "symbol"; readonly name: string };

/** The component a declaration made (undefined when it has errors). */
export function declComponent(compilation: Compilation, module: Module | undefined, decl: A.Decl): Component | undefined {
  const modules = module ? [module, ...compilation.program.modules] : compilation.program.modules;
  for (const m of modules) {
    const binding = m.own.get(decl.name.text);
    if (binding?.kind === "decl" && binding.node === decl) return compilation.evaluator.declaration(binding);
  }
  return undefined;
}

/** The component a refinement made, found by its span. */
export function refineComponent(compilation: Compilation, refine: A.Refine): Component | undefined {
  const s = refine.span;
  return compilation.evaluator.components.find((c) => c.span.file === s.file && c.span.start === s.start && c.span.end === s.end);
}

export function ownerComponent(compilation: Compilation, module: Module | undefined, owner: Owner): Component | undefined {
  return owner.kind === "decl" ? declComponent(compilation, module, owner.decl) : refineComponent(compilation, owner.refine);
}

function kindsOf(schema: FieldSchema | undefined): readonly ValueKind[] | undefined {
  const k = schema?.mmfmKind ?? (schema?.items as FieldSchema | undefined)?.mmfmKind;
  if (!k) return undefined;
  return typeof k === "string" ? [k] : k;
}

/** The schema of the field a value is assigned to, when the context has one. */
export function expectedSchema(compilation: Compilation, module: Module | undefined, context: PathContext): FieldSchema | undefined {
  if (context.kind === "value" && context.owner && context.field) {
    return ownerComponent(compilation, module, context.owner)?.family.fields[context.field.name.text];
  }
  if (context.kind === "axisValue") return axisSchema(compilation, module, context.decl, context.axis.path.segments.map((s) => s.text));
  if (context.kind === "base") return { mmfmKind: context.decl.declKind, description: "" };
  return undefined;
}

/** The value of a component's field, the component itself when it holds one. */
function fieldComponent(c: Component | undefined, name: string): Component | undefined {
  const v: Value | undefined = c?.field(name)?.value;
  return v?.type === "component" ? v.component : undefined;
}

/** The component an axis path's segments before `upTo` lead to, from the experiment. */
export function axisComponent(compilation: Compilation, module: Module | undefined, decl: A.Decl, segments: readonly string[]): Component | undefined {
  const experiment = declComponent(compilation, module, decl);
  if (!experiment || segments.length === 0) return experiment;
  let c: Component | undefined;
  if (segments[0] in experiment.family.fields) c = fieldComponent(experiment, segments[0]);
  else {
    const b = module?.scope.get(segments[0]);
    c = b?.kind === "decl" ? compilation.evaluator.declaration(b) : undefined;
  }
  for (const s of segments.slice(1)) c = fieldComponent(c, s);
  return c;
}

function axisSchema(compilation: Compilation, module: Module | undefined, decl: A.Decl, segments: readonly string[]): FieldSchema | undefined {
  const last = segments[segments.length - 1];
  const owner = axisComponent(compilation, module, decl, segments.slice(0, -1));
  return owner?.family.fields[last];
}

/** What the segment `found.index` of a path refers to. */
export function resolvePath(compilation: Compilation, module: Module | undefined, found: Extract<Found, { kind: "path" }>): Target | undefined {
  const { path, index, context } = found;
  const segments = path.segments.map((s) => s.text);
  if (context.kind === "axis" || context.kind === "exclude") {
    const text = segments.join(".");
    if (context.kind === "axis" && index === segments.length - 1) return { kind: "axis", decl: context.decl, axis: context.axis };
    if (context.kind === "exclude") {
      const axis = axesOf(context.decl).find((a) => a.path.segments.map((s) => s.text).join(".") === text);
      if (axis) return { kind: "axis", decl: context.decl, axis };
    }
    const experiment = declComponent(compilation, module, context.decl);
    if (experiment && segments[0] in experiment.family.fields) {
      const owner = axisComponent(compilation, module, context.decl, segments.slice(0, index));
      return owner ? { kind: "field", component: owner, name: segments[index], schema: owner.family.fields[segments[index]] } : undefined;
    }
  }
  const binding = module?.scope.get(segments[0]);
  if (index === 0) {
    if (binding) return { kind: "binding", binding };
    const kinds = kindsOf(expectedSchema(compilation, module, context));
    let families = familiesNamed(segments[0]);
    if (kinds) families = families.filter((f) => kinds.includes(f.kind));
    if (families.length) return { kind: "family", families };
    if (["vision", "connector", "language"].includes(segments[0])) return { kind: "symbol", name: segments[0] };
    return undefined;
  }
  let c = binding?.kind === "decl" ? compilation.evaluator.declaration(binding) : undefined;
  for (const s of segments.slice(1, index)) c = fieldComponent(c, s);
  return c ? { kind: "field", component: c, name: segments[index], schema: c.family.fields[segments[index]] } : undefined;
}

export function axesOf(decl: A.Decl): A.Axis[] {
  return (decl.body?.members ?? []).flatMap((m) => (m.kind === "Ablate" ? ablateAxes(m) : []));
}
