/**
 * Hover texts (Markdown): a component with its family, every field resolved (set, inherited or the
 * family default, computed defaults included), exact parameter counts and image tokens; a field's
 * documentation from its family's schema; a family; an axis with its values and the variants of its
 * experiment. A component's fields and counts are compiler/doc.ts's, which `mmfmc doc PRESET` prints
 * too; they come from the same resolution `mmfmc grid` uses (compiler/configure.ts).
 */
import { relative } from "node:path";
import type * as A from "../grammar/ast.js";
import { componentDoc, fieldDefault, fieldType } from "../compiler/doc.js";
import type { Family, FieldSchema } from "../compiler/families.js";
import type { Compilation } from "../compiler/pipeline.js";
import type { Binding } from "../compiler/resolve.js";
import { spanText } from "../core/source.js";
import { show, type Component, type FieldEntry } from "../compiler/values.js";

const fence = (lines: readonly string[]) => ["```mmfm", ...lines, "```"].join("\n");

/** Where a file is, for people: relative to the package's std folder or the workspace. */
export type ShowPath = (absolute: string) => string;

function where(entry: FieldEntry, showPath: ShowPath): string {
  const path = entry.span.file.absolutePath;
  return path ? ` (${showPath(path)})` : "";
}

function title(c: Component, showPath: ShowPath): string {
  const family = c.family.implicit ? "" : ` · family \`${c.family.name}\``;
  const file = c.base?.span.file.absolutePath;
  const base = c.base?.name ? ` · based on \`${c.base.name}\`${file && file !== c.span.file.absolutePath ? ` (${showPath(file)})` : ""}` : "";
  return `**${c.kind} \`${c.displayName}\`**${family}${base}`;
}

export function describeComponent(c: Component, compilation: Compilation, showPath: ShowPath): string {
  const doc = componentDoc(c, compilation.evaluator);
  const parts = [title(c, showPath), doc.counts.join("  \n")];
  if (c.kind === "experiment") parts.push(gridSummary(c, compilation));
  parts.push(fence(doc.fields));
  if (!c.family.implicit) parts.push(c.family.description);
  return parts.filter(Boolean).join("\n\n");
}

function gridSummary(c: Component, compilation: Compilation): string {
  const grid = compilation.experiments.find((g) => g.component === c);
  if (!grid) return "";
  const ids = grid.variants.map((v) => `\`${v.id}\``);
  const shown = ids.length > 12 ? [...ids.slice(0, 12), `and ${ids.length - 12} more`] : ids;
  return `${grid.variants.length} variant${grid.variants.length === 1 ? "" : "s"}${grid.axes.length ? ` over ${grid.axes.map((a) => `\`${a}\``).join(", ")}` : ""}: ${shown.join(", ")}`;
}

export function describeField(family: Family, name: string, schema: FieldSchema, entry: FieldEntry | undefined, showPath: ShowPath): string {
  const owner = family.implicit ? `a ${family.kind}` : `\`${family.name}\` (${family.kind})`;
  const lines = [
    `**\`${name}\`** · field of ${owner}`,
    `\`${fieldType(schema)}\` · default: ${fieldDefault(schema, family.required.includes(name))}`,
    schema.description,
  ];
  if (entry) lines.push(`here: \`${show(entry.value)}\`${entry.owner.name ? `, set in \`${entry.owner.name}\`` : ""}${where(entry, showPath)}`);
  return lines.join("\n\n");
}

export function describeFamily(family: Family): string {
  const head = family.implicit ? `**${family.kind}** (no family: \`${family.kind} NAME { ... }\`)` : `**${family.name}** · ${family.kind} family`;
  const rows = Object.entries(family.fields).map(([name, s]) => `| \`${name}\` | \`${fieldType(s).replace(/\|/g, "\\|")}\` | ${fieldDefault(s, family.required.includes(name)).replace(/\|/g, "\\|")} |`);
  return [head, family.description, ["| field | type | default |", "| --- | --- | --- |", ...rows].join("\n")].join("\n\n");
}

export function describeLet(binding: Extract<Binding, { kind: "let" }>, compilation: Compilation): string {
  const value = compilation.evaluator.letValue(binding);
  const written = spanText(binding.node.value.span);
  const shown = show(value);
  return fence([`let ${binding.node.name.text} = ${written}`, ...(shown !== written && value.type !== "error" ? [`// = ${shown}`] : [])]);
}

export function describeAxis(decl: A.Decl, axis: A.Axis, compilation: Compilation): string {
  const path = axis.path.segments.map((s) => s.text).join(".");
  const values = axis.values;
  const written =
    values.kind === "List"
      ? values.items.map((v) => spanText(v.span))
      : values.kind === "Record"
        ? values.entries.map((e) => `${e.quoted ? JSON.stringify(e.key.text) : e.key.text} = ${spanText(e.value.span)}`)
        : [spanText(values.span)];
  const grid = compilation.experiments.find((g) => g.component.name === decl.name.text);
  const lines = [`**axis \`${path}\`** of experiment \`${decl.name.text}\` · ${written.length} value${written.length === 1 ? "" : "s"}`, fence(written)];
  if (grid) {
    const labels = [...new Set(grid.variants.map((v) => v.axes[path]).filter((l) => l !== undefined))];
    if (labels.length) lines.push(`labels: ${labels.map((l) => `\`${l}\``).join(", ")}`);
    const ids = grid.variants.map((v) => `\`${v.id}\``);
    lines.push(`${ids.length} variant${ids.length === 1 ? "" : "s"} of \`${grid.name}\`: ${(ids.length > 12 ? [...ids.slice(0, 12), `and ${ids.length - 12} more`] : ids).join(", ")}`);
  }
  return lines.join("\n\n");
}

export const componentNames: Record<string, string> = {
  vision: "the model's vision backbone",
  connector: "the model's connector",
  language: "the model's language backbone",
};

export function relativeTo(root: string, stdDir: string): ShowPath {
  return (absolute) => {
    if (stdDir && absolute.startsWith(stdDir)) return `std/${relative(stdDir, absolute)}`;
    const rel = relative(root, absolute);
    return rel && !rel.startsWith("..") ? rel : absolute;
  };
}
