/**
 * Completion: what may be written where the cursor is (place.ts), from the last check: the fields of
 * the block's family (with types and defaults), values by the field's type (declarations of the
 * right kind and constants in scope, families, the standard library's presets with `import "std"`
 * added when it is missing, enum values), `ablate` paths into the experiment, imports.
 */
import { readdirSync } from "node:fs";
import { basename, dirname } from "node:path";
import { CompletionItemKind, type CompletionItem, type Range, type TextEdit } from "vscode-languageserver";
import { fieldDefault, fieldType } from "../compiler/doc.js";
import { families as allFamilies, implicitFamily, type Family, type FieldSchema, type ValueKind } from "../compiler/families.js";
import type { Binding } from "../compiler/resolve.js";
import { show } from "../compiler/values.js";
import { position } from "./convert.js";
import { axesOf, axisComponent, declComponent } from "./locate.js";
import { readPlace, schemaKinds, type Place } from "./place.js";
import type { Analysis } from "./workspace.js";

const keywordItems = ["import", "let", "vision", "connector", "language", "dataset", "stage", "eval", "model", "experiment"];

interface Word {
  /** the range the chosen item replaces */
  readonly range: Range;
  /** whether the cursor is inside a string literal (the range then covers the whole literal) */
  readonly inString: boolean;
}

function bindingDetail(b: Binding, showPath: (p: string) => string): string {
  if (b.kind === "let") return `let = ${b.node.value.span.file.text.slice(b.node.value.span.start, b.node.value.span.end).slice(0, 40)}`;
  const base = b.node.base ? ` = ${b.node.base.segments.map((s) => s.text).join(".")}` : "";
  const file = b.node.span.file.absolutePath;
  return `${b.node.declKind}${base}${b.module.isStd && file ? ` (${showPath(file)})` : ""}`;
}

export interface CompletionContext {
  readonly showPath: (absolute: string) => string;
  /** the std module's bindings, for presets offered with `import "std"` added */
  readonly stdBindings: () => ReadonlyMap<string, Binding> | undefined;
}

export function complete(analysis: Analysis, text: string, offset: number, context: CompletionContext): CompletionItem[] {
  const at = readPlace(analysis, text, offset);
  if (!at) return [];
  const word: Word = { range: { start: position(at.source, at.start), end: position(at.source, at.end) }, inString: at.inString };
  return candidates(analysis, at.place, word, context);
}

function item(label: string, kind: CompletionItemKind, word: Word, extra: Partial<CompletionItem> = {}, insert = label): CompletionItem {
  const textEdit: TextEdit = { range: word.range, newText: insert };
  return { label, kind, textEdit, ...extra };
}

function candidates(analysis: Analysis, place: Place, word: Word, context: CompletionContext): CompletionItem[] {
  const scope = analysis.module?.scope ?? new Map<string, Binding>();
  const out: CompletionItem[] = [];
  const seenLabels = new Set<string>();
  const push = (i: CompletionItem) => {
    if (seenLabels.has(i.label)) return;
    seenLabels.add(i.label);
    out.push(i);
  };
  const stdImported = [...scope.values()].some((b) => b.module.isStd);
  const importStd: TextEdit[] = [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: 'import "std"\n' }];

  /** Declarations of these kinds in scope, then std presets not imported yet, then families. */
  const references = (kinds: readonly ValueKind[] | undefined, except?: string) => {
    for (const [name, b] of scope) {
      if (b.kind === "decl" && name !== except && (!kinds || kinds.includes(b.node.declKind))) {
        push(item(name, b.module.isStd ? CompletionItemKind.Module : CompletionItemKind.Variable, word, { detail: bindingDetail(b, context.showPath) }));
      }
    }
    if (!stdImported) {
      for (const [name, b] of context.stdBindings() ?? []) {
        if (b.kind === "decl" && (!kinds || kinds.includes(b.node.declKind)) && !scope.has(name)) {
          push(item(name, CompletionItemKind.Module, word, { detail: `${bindingDetail(b, context.showPath)} · adds import "std"`, additionalTextEdits: importStd, sortText: `~${name}` }));
        }
      }
    }
    for (const f of allFamilies) {
      if (f.implicit || (kinds && !kinds.includes(f.kind))) continue;
      push(item(f.name, CompletionItemKind.Class, word, { detail: `${f.kind} family`, documentation: { kind: "markdown", value: f.description } }));
    }
  };
  const constants = () => {
    for (const [name, b] of scope) if (b.kind === "let") push(item(name, CompletionItemKind.Constant, word, { detail: bindingDetail(b, context.showPath) }));
  };
  const fields = (family: Family, skip: ReadonlySet<string>, insertEquals: boolean) => {
    for (const [name, schema] of Object.entries(family.fields)) {
      if (skip.has(name)) continue;
      push(
        item(name, CompletionItemKind.Field, word, {
          detail: `${fieldType(schema)} · default: ${fieldDefault(schema, family.required.includes(name))}`,
          documentation: { kind: "markdown", value: schema.description },
          sortText: `${family.required.includes(name) ? "0" : "1"}${name}`,
        }, insertEquals ? `${name} = ` : name),
      );
    }
  };

  switch (place.kind) {
    case "none":
      return [];
    case "item":
      for (const k of keywordItems) push(item(k, CompletionItemKind.Keyword, word, k === "import" ? { detail: 'import "std"' } : {}));
      return out;
    case "import": {
      push(item('"std"', CompletionItemKind.Module, word, { detail: "the standard library" }));
      const dir = dirname(analysis.path);
      try {
        for (const f of readdirSync(dir).filter((n) => n.endsWith(".mmfm") && n !== basename(analysis.path)).sort()) {
          push(item(`"./${f}"`, CompletionItemKind.File, word));
        }
      } catch {
        // an unsaved document's folder may not exist
      }
      return out;
    }
    case "base":
      // a declaration's base: a family or another declaration of its kind, not itself
      references([place.declKind], place.declName);
      return out;
    case "field":
      if (place.family) fields(place.family, place.seen, true);
      if (place.experiment) {
        push(item("ablate", CompletionItemKind.Keyword, word, { detail: "ablate { AXIS: [VALUES] ... } (crossed)" }));
        push(item("ablate zip", CompletionItemKind.Keyword, word, { detail: "ablate zip { AXIS: [VALUES] ... } (paired)" }));
        push(item("exclude", CompletionItemKind.Keyword, word, { detail: "exclude CONDITION" }));
      }
      return out;
    case "axis":
      return axisCandidates(analysis, place, word, push, out);
    case "value":
      break;
  }

  // a value
  if (place.prefix.length) {
    const b = scope.get(place.prefix[0]);
    let c = b?.kind === "decl" ? analysis.compilation.evaluator.declaration(b) : undefined;
    for (const s of place.prefix.slice(1)) {
      const v = c?.field(s)?.value;
      c = v?.type === "component" ? v.component : undefined;
    }
    if (c) fields(c.family, new Set(), false);
    return out;
  }
  if (place.exclude) {
    for (const axis of axesOf(place.exclude)) {
      const path = axis.path.segments.map((s) => s.text).join(".");
      push(item(path, CompletionItemKind.Property, word, { detail: "axis of the experiment" }));
    }
  }
  const schema = place.schema;
  const enumValues = (schema?.enum ?? (schema?.items as FieldSchema | undefined)?.enum)?.map(String);
  if (enumValues) {
    const bare = enumValues.every((v) => ["vision", "connector", "language"].includes(v));
    for (const v of enumValues) {
      push(item(bare ? v : JSON.stringify(v), CompletionItemKind.EnumMember, word, { filterText: bare || word.inString ? undefined : v }));
    }
    return out;
  }
  if (word.inString) return [];
  if (schema?.type === "boolean") {
    push(item("true", CompletionItemKind.Keyword, word));
    push(item("false", CompletionItemKind.Keyword, word));
  }
  const kinds = schemaKinds(schema);
  if (kinds) references(kinds);
  else if (!schema || !schema.type) references(undefined);
  constants();
  return out;
}

function axisCandidates(
  analysis: Analysis,
  place: Extract<Place, { kind: "axis" }>,
  word: Word,
  push: (i: CompletionItem) => void,
  out: CompletionItem[],
): CompletionItem[] {
  const { compilation, module } = analysis;
  const experiment = declComponent(compilation, module, place.experiment);
  const family = experiment?.family ?? implicitFamily("experiment")!;
  const detail = (schema: FieldSchema) => `${fieldType(schema)}`;
  if (place.prefix.length === 0) {
    for (const [name, schema] of Object.entries(family.fields)) push(item(name, CompletionItemKind.Property, word, { detail: detail(schema) }));
    for (const part of ["vision", "connector", "language"]) push(item(`model.${part}`, CompletionItemKind.Property, word, { detail: part }));
    // the declarations the experiment uses: `STAGE.FIELD` axes
    const used = new Set<string>();
    const model = experiment?.field("model")?.value;
    const stages = experiment?.field("stages")?.value;
    const components = [
      ...(model?.type === "component" ? [model.component, ...["vision", "connector", "language"].map((p) => model.component.field(p)?.value)] : []),
      ...(stages?.type === "list" ? stages.items : []),
    ];
    for (const v of components) {
      const c = v && "type" in v ? (v.type === "component" ? v.component : undefined) : v;
      if (!c?.name || used.has(c.name)) continue;
      used.add(c.name);
      push(item(c.name, CompletionItemKind.Reference, word, { detail: `${c.kind}: axes \`${c.name}.FIELD\`` }));
      const data = c.field("data")?.value;
      for (const d of data?.type === "list" ? data.items : data ? [data] : []) {
        if (d.type === "component" && d.component.name && !used.has(d.component.name)) {
          used.add(d.component.name);
          push(item(d.component.name, CompletionItemKind.Reference, word, { detail: `dataset: axes \`${d.component.name}.FIELD\`` }));
        }
      }
    }
    return out;
  }
  const owner = axisComponent(compilation, module, place.experiment, place.prefix);
  for (const [name, schema] of Object.entries(owner?.family.fields ?? {})) {
    const current = owner?.field(name)?.value;
    push(item(name, CompletionItemKind.Property, word, { detail: `${detail(schema)}${current ? ` · here ${show(current)}` : ""}`, documentation: schema.description }));
  }
  return out;
}
