/** Document symbols (the outline): declarations with their fields and axes, `let` constants, imports. */
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver";
import type * as A from "../grammar/ast.js";
import { ablateAxes, pathText } from "../grammar/ast.js";
import { spanText } from "../core/source.js";
import { range } from "./convert.js";

const kinds: Record<A.DeclKind, SymbolKind> = {
  vision: SymbolKind.Class,
  connector: SymbolKind.Class,
  language: SymbolKind.Class,
  dataset: SymbolKind.Struct,
  stage: SymbolKind.Function,
  eval: SymbolKind.Function,
  model: SymbolKind.Module,
  experiment: SymbolKind.Namespace,
};

/** Keeps a detail short enough for an outline. */
function short(text: string): string {
  const one = text.replace(/\s+/g, " ");
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}

function members(block: A.Block | undefined): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const m of block?.members ?? []) {
    if (m.kind === "Field") {
      out.push({ name: m.name.text, detail: short(spanText(m.value.span)), kind: SymbolKind.Field, range: range(m.span), selectionRange: range(m.name.span) });
    } else if (m.kind === "Ablate") {
      out.push({
        name: m.zip ? "ablate zip" : "ablate",
        kind: SymbolKind.Array,
        range: range(m.span),
        selectionRange: range({ ...m.span, end: m.span.start + 6 }),
        children: ablateAxes(m).map((a) => ({
          name: pathText(a.path),
          detail: short(spanText(a.values.span)),
          kind: SymbolKind.Property,
          range: range(a.span),
          selectionRange: range(a.path.span),
        })),
      });
    } else {
      out.push({ name: "exclude", detail: short(spanText(m.condition.span)), kind: SymbolKind.Event, range: range(m.span), selectionRange: range({ ...m.span, end: m.span.start + 7 }) });
    }
  }
  return out;
}

export function documentSymbols(file: A.File): DocumentSymbol[] {
  return file.items.map((item): DocumentSymbol => {
    switch (item.kind) {
      case "Import":
        return { name: `import ${item.path.text}`, kind: SymbolKind.Module, range: range(item.span), selectionRange: range(item.path.span) };
      case "Let":
        return { name: item.name.text, detail: short(spanText(item.value.span)), kind: SymbolKind.Constant, range: range(item.span), selectionRange: range(item.name.span) };
      case "Decl":
        return {
          name: item.name.text,
          detail: `${item.declKind}${item.base ? ` = ${pathText(item.base)}` : ""}`,
          kind: kinds[item.declKind],
          range: range(item.span),
          selectionRange: range(item.name.span),
          children: members(item.body),
        };
    }
  });
}
