/**
 * Hover texts (Markdown): a component with its family, every field resolved (set, inherited or the
 * family default, computed defaults included), exact parameter counts and image tokens; a field's
 * documentation from its family's schema; a family; an axis with its values and the variants of its
 * experiment. Counts come from the same resolution `mmfmc grid` uses (compiler/config.ts).
 */
import { relative } from "node:path";
import type * as A from "../grammar/ast.js";
import type { Json, JsonObject } from "../core/json.js";
import { Configurer, SpanMap, type ModelConfig } from "../compiler/configure.js";
import { Diagnostics } from "../core/diagnostics.js";
import { fieldDefault, fieldType } from "../compiler/doc.js";
import { familiesNamed, implicitFamily, type Family, type FieldSchema, type ValueKind } from "../compiler/families.js";
import type { Compilation } from "../compiler/pipeline.js";
import type { Binding } from "../compiler/resolve.js";
import { spanText } from "../core/source.js";
import { Component, show, type FieldEntry } from "../compiler/values.js";

const fence = (lines: readonly string[]) => ["```mmfm", ...lines, "```"].join("\n");

export function count(n: number): string {
  const short = n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : "";
  return `${n.toLocaleString("en-US")}${short ? ` (${short})` : ""}`;
}

function json(value: Json): string {
  if (value === null) return "none";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(json).join(", ")}]`;
  if (typeof value === "object") return typeof value.name === "string" ? value.name : (value.family as string) ?? "{ ... }";
  return String(value);
}

/** Where a file is, for people: relative to the package's std folder or the workspace. */
export type ShowPath = (absolute: string) => string;

/**
 * A backbone on its own, resolved as the vision or language part of a model whose other parts are
 * bare families: the same resolution (computed defaults, counts) a real model gives that part.
 */
function standalone(c: Component, compilation: Compilation): ModelConfig | undefined {
  if (c.kind !== "vision" && c.kind !== "language") return undefined;
  const partner = (kind: ValueKind, name: string) => {
    const family = familiesNamed(name).find((f) => f.kind === kind)!;
    return new Component(kind, family, undefined, c.span, undefined, new Map());
  };
  const own = new Map<string, FieldEntry>();
  const model = new Component("model", implicitFamily("model")!, undefined, c.span, undefined, own);
  const set = (name: string, part: Component) =>
    own.set(name, { name, value: { type: "component", component: part, span: c.span }, nameSpan: c.span, span: c.span, owner: model });
  set("vision", c.kind === "vision" ? c : partner("vision", "clip_vit"));
  set("connector", partner("connector", "linear"));
  set("language", c.kind === "language" ? c : partner("language", "gemma"));
  return new Configurer(compilation.evaluator, new Diagnostics()).model(model, new SpanMap());
}

/** The models of the program whose connector is `c`, with their resolutions. */
function modelsUsing(c: Component, compilation: Compilation): { model: Component; resolved: ModelConfig }[] {
  const resolver = new Configurer(compilation.evaluator, new Diagnostics());
  const out: { model: Component; resolved: ModelConfig }[] = [];
  for (const m of compilation.evaluator.components) {
    if (m.kind !== "model" || !m.name) continue;
    const v = m.field("connector")?.value;
    if (v?.type !== "component" || v.component !== c) continue;
    const resolved = resolver.model(m, new SpanMap());
    if (resolved) out.push({ model: m, resolved });
  }
  return out;
}

function fieldLines(c: Component, resolved: JsonObject | undefined): string[] {
  const names = Object.keys(c.family.fields);
  const width = Math.max(...names.map((n) => n.length));
  return names.map((name) => {
    const schema = c.family.fields[name];
    const entry = c.field(name);
    let value: string;
    let note = "";
    if (entry) {
      value = show(entry.value);
      if (entry.owner !== c) note = `from ${entry.owner.name ?? "a base"}`;
    } else if (resolved && name in resolved && resolved[name] !== null) {
      value = json(resolved[name]);
      note = schema.mmfmDefault ? `default: ${schema.mmfmDefault}` : "default";
    } else {
      value = c.family.required.includes(name) ? "required" : fieldDefault(schema, false);
      note = value === "required" || value === "none" ? "" : "default";
    }
    return `${name.padEnd(width)} = ${value}${note ? `  // ${note.replace(/`/g, "")}` : ""}`;
  });
}

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
  const parts = [title(c, showPath)];
  let resolved: JsonObject | undefined;
  if (c.kind === "vision" || c.kind === "language") {
    const model = standalone(c, compilation);
    if (model) {
      resolved = model.json[c.kind] as JsonObject;
      const params = c.kind === "vision" ? model.params.vision : model.params.language;
      parts.push(`${count(params)} parameters${c.kind === "vision" ? ` · ${model.imageTokens} image tokens per image` : ""}`);
    }
  } else if (c.kind === "model") {
    const model = new Configurer(compilation.evaluator, new Diagnostics()).model(c, new SpanMap());
    if (model) {
      const p = model.params;
      parts.push(
        `${count(p.total)} parameters: vision ${count(p.vision)}, connector ${count(p.connector)}, language ${count(p.language)} · ${model.imageTokens} image tokens per image`,
      );
    }
  } else if (c.kind === "connector") {
    const uses = modelsUsing(c, compilation);
    if (uses.length) {
      const line = (u: (typeof uses)[number]) => {
        const io = u.resolved.json.connector as JsonObject;
        return `${count(u.resolved.params.connector)} parameters in model \`${u.model.name}\` (${io.in} → ${io.out})`;
      };
      parts.push(uses.map(line).join("  \n"));
      resolved = uses[0].resolved.json.connector as JsonObject;
    } else {
      parts.push("parameters depend on the widths of the model's backbones (`in` and `out` are inferred)");
    }
  } else {
    resolved = new Configurer(compilation.evaluator, new Diagnostics()).component(c, "", new SpanMap());
  }
  if (c.kind === "experiment") parts.push(gridSummary(c, compilation));
  parts.push(fence(fieldLines(c, resolved)));
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
