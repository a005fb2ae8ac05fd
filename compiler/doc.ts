/**
 * `mmfmc doc`: the families, their fields, types, defaults and docs, generated from the same JSON
 * Schemas the checker uses (families.ts), so the documentation cannot drift from the language; and
 * any component resolved as documentation shows it (every field set, inherited or defaulted, exact
 * parameter counts and image tokens), which `mmfmc doc PRESET` prints for the std presets and the
 * language server's hover shows for a spec's declarations (lsp/describe.ts).
 */
import { join } from "node:path";
import type { Json, JsonObject } from "../core/json.js";
import { packageRoot } from "../core/package_root.js";
import { Configurer, SpanMap, type ModelConfig } from "./configure.js";
import { Diagnostics } from "../core/diagnostics.js";
import type { Evaluator } from "./evaluate.js";
import { families, familiesNamed, implicitFamily, type Family, type FieldSchema, type ValueKind } from "./families.js";
import { compile } from "./pipeline.js";
import { suggest } from "../core/suggest.js";
import { Component, show, type FieldEntry } from "./values.js";

export function fieldType(schema: FieldSchema): string {
  if (schema.mmfmKind) {
    const kinds = typeof schema.mmfmKind === "string" ? [schema.mmfmKind] : schema.mmfmKind;
    return kinds.join(" | ");
  }
  switch (schema.type) {
    case "integer":
      return "int";
    case "number":
      return "float";
    case "boolean":
      return "bool";
    case "string":
      return schema.enum ? schema.enum.map((e) => JSON.stringify(e)).join(" | ") : "string";
    case "array": {
      const item = schema.items as FieldSchema | undefined;
      const inner = item ? fieldType(item as FieldSchema) : "value";
      if (schema.mmfmRange) {
        const bounds = item ? range(item) : "";
        return `[min, max] of ${inner}${bounds ? ` (${bounds})` : ""}, min <= max`;
      }
      const list = `[${item?.enum ? item.enum.join(" | ") : inner}]`;
      return schema.mmfmSingleOk ? `${inner} | ${list}` : list;
    }
    default:
      return "value";
  }
}

export function fieldDefault(schema: FieldSchema, required: boolean): string {
  if (required) return "required";
  if (schema.mmfmDefault) return schema.mmfmDefault;
  if (schema.default === undefined) return "none";
  if (schema.mmfmKind && typeof schema.default === "string") return schema.default;
  return JSON.stringify(schema.default).replace(/,/g, ", ");
}

function range(schema: FieldSchema): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`>= ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) parts.push(`<= ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${schema.exclusiveMaximum}`);
  return parts.join(", ");
}

export function describeFamily(family: Family): string {
  const title = family.implicit ? `${family.kind} (no family: \`${family.kind} NAME { ... }\`)` : `${family.name} (${family.kind} family)`;
  const lines = [title, "", wrap(family.description, 100), "", "fields:"];
  const rows = Object.entries(family.fields).map(([name, s]) => {
    const extra = range(s);
    return { name, type: fieldType(s) + (extra ? ` (${extra})` : ""), def: fieldDefault(s, family.required.includes(name)), doc: s.description };
  });
  const wn = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    lines.push(`  ${r.name.padEnd(wn)}  ${r.type}`);
    lines.push(`  ${" ".repeat(wn)}  default: ${r.def}`);
    lines.push(wrap(r.doc, 96, `  ${" ".repeat(wn)}  `));
  }
  return lines.join("\n");
}

function wrap(text: string, width: number, indent = ""): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = indent;
  for (const w of words) {
    if (line.length + w.length + 1 > width + indent.length && line.trim()) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += (line.trim() ? " " : "") + w;
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines.join("\n");
}

export function overview(): string {
  const kinds = ["vision", "connector", "language", "dataset", "schedule", "optimizer", "stage", "eval", "model", "experiment"];
  const lines = ["The families of mmfm (`mmfmc doc NAME` for one in full):", ""];
  for (const kind of kinds) {
    const fs = families.filter((f) => f.kind === kind);
    const names = fs.map((f) => (f.implicit ? `${kind} NAME { ... }` : f.name)).join(", ");
    lines.push(`  ${kind.padEnd(10)}  ${names}`);
  }
  return lines.join("\n");
}

/**
 * The documentation of a family or kind and of a std preset of that name (`gqa` is both), or
 * undefined with a suggestion among both.
 */
export function docFor(name: string): { text?: string; suggestion?: string } {
  const matches = families.filter((f) => f.name === name);
  const preset = stdPresets().find((p) => p.name === name);
  const texts = [...matches.map(describeFamily), ...(preset ? [describePreset(preset)] : [])];
  if (texts.length) return { text: texts.join("\n\n") };
  return { suggestion: suggest(name, [...families.map((f) => f.name), ...stdPresets().map((p) => p.name)]) };
}

// ---- components as documentation shows them ---------------------------------------------------------

/** A count for people: `303,507,456 (303.5M)`. */
export function count(n: number): string {
  const s = short(n);
  return `${n.toLocaleString("en-US")}${s ? ` (${s})` : ""}`;
}

/** `303.5M`, `2.51B`; nothing under a thousand. */
function short(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : "";
}

function json(value: Json): string {
  if (value === null) return "none";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(json).join(", ")}]`;
  if (typeof value === "object") return typeof value.name === "string" ? value.name : ((value.family as string) ?? "{ ... }");
  return String(value);
}

/**
 * A backbone on its own, resolved as the vision or language part of a model whose other parts are
 * bare families: the same resolution (computed defaults, counts) a real model gives that part.
 */
function standalone(c: Component, evaluator: Evaluator): ModelConfig | undefined {
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
  return new Configurer(evaluator, new Diagnostics()).model(model, new SpanMap());
}

/** The named models of the program whose connector is `c`, with their resolutions. */
function modelsUsing(c: Component, evaluator: Evaluator): { model: Component; resolved: ModelConfig }[] {
  const resolver = new Configurer(evaluator, new Diagnostics());
  const out: { model: Component; resolved: ModelConfig }[] = [];
  for (const m of evaluator.components) {
    if (m.kind !== "model" || !m.name) continue;
    const v = m.field("connector")?.value;
    if (v?.type !== "component" || v.component !== c) continue;
    const resolved = resolver.model(m, new SpanMap());
    if (resolved) out.push({ model: m, resolved });
  }
  return out;
}

/** `name = value  // note` for every field of the component's family, set, inherited or defaulted. */
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

/** A component as documentation shows it (`mmfmc doc PRESET`, the language server's hover). */
export interface ComponentDoc {
  /** its resolved fields, when it resolves on its own (a connector's widths come from a model) */
  readonly resolved: JsonObject | undefined;
  /** `303,507,456 (303.5M) parameters · 576 image tokens per image`; a connector: one line per model using it */
  readonly counts: readonly string[];
  /** `name = value  // note`, every field of its family */
  readonly fields: readonly string[];
  /** the Hugging Face checkpoint it loads (`hub_id`), if any */
  readonly hubId: string | undefined;
  /** a backbone's or model's parameters */
  readonly params: number | undefined;
}

export function componentDoc(c: Component, evaluator: Evaluator): ComponentDoc {
  let resolved: JsonObject | undefined;
  let params: number | undefined;
  const counts: string[] = [];
  if (c.kind === "vision" || c.kind === "language") {
    const model = standalone(c, evaluator);
    if (model) {
      resolved = model.json[c.kind] as JsonObject;
      params = c.kind === "vision" ? model.params.vision : model.params.language;
      counts.push(`${count(params)} parameters${c.kind === "vision" ? ` · ${model.imageTokens} image tokens per image` : ""}`);
    }
  } else if (c.kind === "model") {
    const model = new Configurer(evaluator, new Diagnostics()).model(c, new SpanMap());
    if (model) {
      const p = model.params;
      params = p.total;
      counts.push(`${count(p.total)} parameters: vision ${count(p.vision)}, connector ${count(p.connector)}, language ${count(p.language)} · ${model.imageTokens} image tokens per image`);
    }
  } else if (c.kind === "connector") {
    const uses = modelsUsing(c, evaluator);
    for (const u of uses) {
      const io = u.resolved.json.connector as JsonObject;
      counts.push(`${count(u.resolved.params.connector)} parameters in model \`${u.model.name}\` (${io.in} → ${io.out})`);
    }
    if (uses.length) resolved = uses[0].resolved.json.connector as JsonObject;
    else counts.push("parameters depend on the widths of the model's backbones (`in` and `out` are inferred)");
  } else {
    resolved = new Configurer(evaluator, new Diagnostics()).component(c, "", new SpanMap());
  }
  const hub = resolved?.hub_id;
  return { resolved, counts, fields: fieldLines(c, resolved), hubId: typeof hub === "string" ? hub : undefined, params };
}

// ---- the std presets -----------------------------------------------------------------------------

/** A declaration of the standard library, with the comment written above it. */
export interface Preset {
  readonly name: string;
  readonly component: Component;
  /** `std/vision.mmfm` */
  readonly file: string;
  /** the `//` comment lines right above the declaration, without the slashes */
  readonly comment: string;
  readonly doc: ComponentDoc;
}

let presets: Preset[] | undefined;

/** The std presets in the order std declares them (file by file), resolved once. */
export function stdPresets(): readonly Preset[] {
  if (presets) return presets;
  const stdDir = join(packageRoot(), "std");
  const compilation = compile(join(stdDir, "<doc>.mmfm"), { text: 'import "std"\n', grid: false });
  const std = compilation.program.modules.find((m) => m.isStd);
  presets = [];
  for (const [name, binding] of std?.own ?? []) {
    if (binding.kind !== "decl") continue;
    const component = compilation.evaluator.declaration(binding);
    if (!component) continue;
    const source = binding.node.span.file;
    const file = `std/${source.path.slice(source.path.lastIndexOf("/") + 1)}`;
    presets.push({ name, component, file, comment: commentAbove(source.text, binding.node.span.start), doc: componentDoc(component, compilation.evaluator) });
  }
  presets.sort((a, b) => (a.file === b.file ? a.component.span.start - b.component.span.start : a.file < b.file ? -1 : 1));
  return presets;
}

/** The `//` lines directly above an offset, joined. */
function commentAbove(text: string, offset: number): string {
  const lines = text.slice(0, offset).split("\n");
  lines.pop();
  const comment: string[] = [];
  while (lines.length && /^\s*\/\//.test(lines[lines.length - 1])) comment.unshift(lines.pop()!.replace(/^\s*\/\/\s?/, ""));
  return comment.join(" ");
}

/** `mmfmc doc PRESET`: the preset's kind, family, file, checkpoint, counts and every field resolved. */
export function describePreset(p: Preset): string {
  const c = p.component;
  const base = c.base?.name && c.base.name !== c.family.name ? `, based on \`${c.base.name}\`` : "";
  const lines = [`${p.name} (${c.kind} preset in ${p.file}, family \`${c.family.name}\`${base})`, ""];
  if (p.comment) lines.push(wrap(p.comment, 100), "");
  if (p.doc.hubId) lines.push(`Hugging Face: ${p.doc.hubId}`);
  lines.push(...p.doc.counts, "", "fields:", ...p.doc.fields.map((f) => `  ${f}`), "", `\`mmfmc doc ${c.family.name}\` documents the family's fields.`);
  return lines.join("\n");
}

/** `mmfmc doc --presets`: every std preset by kind, with its family, size and checkpoint or annotations file. */
export function presetsOverview(): string {
  const all = stdPresets();
  const lines = ["The presets of the standard library (`import \"std\"`; `mmfmc doc NAME` for one in full):"];
  for (const kind of ["vision", "connector", "language", "dataset", "schedule", "optimizer", "stage", "eval", "model"]) {
    const ps = all.filter((p) => p.component.kind === kind);
    if (!ps.length) continue;
    const rows = ps.map((p) => [p.name, p.component.family.name, presetSize(p), p.doc.hubId ?? annotations(p)]);
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
    lines.push("", kind);
    for (const r of rows) lines.push(`  ${r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ")}`.trimEnd());
  }
  return lines.join("\n");
}

/** A dataset preset's annotations file, for the overview. */
function annotations(p: Preset): string {
  const a = p.doc.resolved?.annotations;
  return typeof a === "string" ? a : "";
}

/** A preset's size in the overview: a backbone's parameters, a dataset's items when known. */
function presetSize(p: Preset): string {
  if (p.doc.params !== undefined) return `${short(p.doc.params) || p.doc.params} params`;
  const size = p.doc.resolved?.size;
  return typeof size === "number" ? `${size} items` : "";
}

/** A preset as JSON (`mmfmc doc PRESET --json`, `mmfmc doc --presets --json`). */
export function presetJson(p: Preset): JsonObject {
  return {
    name: p.name,
    kind: p.component.kind,
    preset: true,
    family: p.component.family.name,
    file: p.file,
    description: p.comment,
    hub_id: p.doc.hubId ?? null,
    params: p.doc.params ?? null,
    counts: [...p.doc.counts],
    fields: p.doc.resolved ?? null,
  };
}

/** docs/families.md: every family and kind with its fields (generated; a test keeps it current). */
export function familiesMarkdown(): string {
  const out = [
    "# Families and fields",
    "",
    "Generated from the JSON Schemas in `compiler/families.ts` (`npm run docs`); `mmfmc doc FAMILY` prints",
    "the same. Defaults follow the Hugging Face config classes of the real models unless said otherwise.",
    "",
  ];
  for (const f of families) {
    out.push(`## ${f.implicit ? `${f.kind} (no family)` : `${f.name} (${f.kind})`}`, "", f.description, "");
    out.push("| field | type | default | meaning |", "| --- | --- | --- | --- |");
    for (const [name, s] of Object.entries(f.fields)) {
      const extra = range(s);
      const cells = [`\`${name}\``, fieldType(s) + (extra ? ` (${extra})` : ""), fieldDefault(s, f.required.includes(name)), s.description];
      out.push(`| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}
