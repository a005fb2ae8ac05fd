/** Hover and go to definition: what the name under the cursor is, and where it was declared or set. */
import { dirname, extname, resolve } from "node:path";
import type { Hover, Location } from "vscode-languageserver";
import type * as A from "../grammar/ast.js";
import type { Span } from "../core/source.js";
import { familiesNamed, implicitFamily } from "../compiler/families.js";
import { location, range, type UriOf } from "./convert.js";
import { componentNames, describeAxis, describeComponent, describeFamily, describeField, describeLet, type ShowPath } from "./describe.js";
import { axisComponent, declComponent, locate, ownerComponent, resolvePath, type Found, type Target } from "./locate.js";
import type { Analysis } from "./workspace.js";

export interface NavigationContext {
  readonly uriOf: UriOf;
  readonly showPath: ShowPath;
  readonly isFile: (path: string) => boolean;
  readonly stdFiles: () => string[];
}

function nameSpan(found: Found): Span {
  switch (found.kind) {
    case "declName":
      return found.decl.name.span;
    case "declKeyword":
      return found.decl.keywordSpan;
    case "letName":
      return found.node.name.span;
    case "import":
      return found.item.path.span;
    case "fieldName":
      return found.field.name.span;
    case "path":
      return found.path.segments[found.index].span;
  }
}

function target(analysis: Analysis, found: Found): Target | undefined {
  return found.kind === "path" ? resolvePath(analysis.compilation, analysis.module, found) : undefined;
}

export function hover(analysis: Analysis, offset: number, context: NavigationContext): Hover | null {
  if (!analysis.file) return null;
  const found = locate(analysis.file, offset);
  if (!found) return null;
  const text = hoverText(analysis, found, context);
  return text ? { contents: { kind: "markdown", value: text }, range: range(nameSpan(found)) } : null;
}

function hoverText(analysis: Analysis, found: Found, context: NavigationContext): string | undefined {
  const { compilation, module } = analysis;
  switch (found.kind) {
    case "declName": {
      const c = declComponent(compilation, module, found.decl);
      return c ? describeComponent(c, compilation, context.showPath) : undefined;
    }
    case "declKeyword": {
      const family = implicitFamily(found.decl.declKind);
      if (family) return describeFamily(family);
      const families = familiesNamed(found.decl.base?.segments[0]?.text ?? "").filter((f) => f.kind === found.decl.declKind);
      return families.length ? families.map(describeFamily).join("\n\n---\n\n") : `**${found.decl.declKind}**`;
    }
    case "letName": {
      const b = module?.own.get(found.node.name.text);
      return b?.kind === "let" ? describeLet(b, compilation) : undefined;
    }
    case "import": {
      const files = importTargets(analysis, found.item, context);
      if (found.item.path.value === "std") return `**the standard library** · ${files.map((f) => `\`${context.showPath(f)}\``).join(", ")}`;
      return files.length ? `\`${context.showPath(files[0])}\`` : undefined;
    }
    case "fieldName": {
      const c = ownerComponent(compilation, module, found.owner);
      const name = found.field.name.text;
      const schema = c?.family.fields[name];
      return c && schema ? describeField(c.family, name, schema, c.field(name), context.showPath) : undefined;
    }
    case "path":
      return describeTarget(analysis, target(analysis, found), context);
  }
}

function describeTarget(analysis: Analysis, t: Target | undefined, context: NavigationContext): string | undefined {
  const { compilation } = analysis;
  if (!t) return undefined;
  switch (t.kind) {
    case "binding": {
      if (t.binding.kind === "let") return describeLet(t.binding, compilation);
      const c = compilation.evaluator.declaration(t.binding);
      if (!c) return undefined;
      const file = t.binding.node.span.file.absolutePath;
      const from = t.binding.module !== analysis.module && file ? `\n\ndeclared in \`${context.showPath(file)}\`` : "";
      return describeComponent(c, compilation, context.showPath) + from;
    }
    case "family":
      return t.families.map(describeFamily).join("\n\n---\n\n");
    case "field":
      return t.schema ? describeField(t.component.family, t.name, t.schema, t.component.field(t.name), context.showPath) : undefined;
    case "axis":
      return describeAxis(t.decl, t.axis, compilation);
    case "symbol":
      return `**\`${t.name}\`**: ${componentNames[t.name]} (a stage's \`train\` lists the components it trains)`;
  }
}

/** The files an import brings: every std file for `"std"`, else the one file it names (if it exists). */
function importTargets(analysis: Analysis, item: A.Import, context: NavigationContext): string[] {
  const spec = item.path.value;
  if (spec === "std") return context.stdFiles();
  if (!spec) return [];
  let path = resolve(dirname(analysis.path), spec);
  if (!context.isFile(path) && extname(path) !== ".mmfm" && context.isFile(path + ".mmfm")) path += ".mmfm";
  return context.isFile(path) ? [path] : [];
}

export function definition(analysis: Analysis, offset: number, context: NavigationContext): Location[] {
  if (!analysis.file) return [];
  const found = locate(analysis.file, offset);
  if (!found) return [];
  const at = (span: Span | undefined) => (span ? location(span, context.uriOf) : undefined);
  const { compilation, module } = analysis;
  let spans: (Location | undefined)[] = [];
  switch (found.kind) {
    case "declName":
      spans = [at(found.decl.name.span)];
      break;
    case "letName":
      spans = [at(found.node.name.span)];
      break;
    case "import":
      return importTargets(analysis, found.item, context).map((path) => ({
        uri: context.uriOf(path),
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      }));
    case "fieldName": {
      // where a base set the field this block overrides
      const c = ownerComponent(compilation, module, found.owner);
      spans = [at(c?.base?.field(found.field.name.text)?.nameSpan)];
      break;
    }
    case "declKeyword":
      break;
    case "path": {
      const t = target(analysis, found);
      if (t?.kind === "binding") spans = [at(t.binding.node.name.span)];
      else if (t?.kind === "field") spans = [at(t.component.field(t.name)?.nameSpan)];
      else if (t?.kind === "axis") {
        const segments = t.axis.path.segments.map((s) => s.text);
        const owner = axisComponent(compilation, module, t.decl, segments.slice(0, -1));
        spans = [at(owner?.field(segments[segments.length - 1])?.nameSpan)];
      }
      break;
    }
  }
  return spans.filter((s): s is Location => s !== undefined);
}
