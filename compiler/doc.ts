/**
 * `mmfmc doc`: the families, their fields, types, defaults and docs, generated from the same JSON
 * Schemas the checker uses (families.ts), so the documentation cannot drift from the language.
 */
import { families, type Family, type FieldSchema } from "./families.js";
import { suggest } from "../core/suggest.js";

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

/** The documentation of a family or kind, or undefined with a suggestion. */
export function docFor(name: string): { text?: string; suggestion?: string } {
  const matches = families.filter((f) => f.name === name);
  if (matches.length) return { text: matches.map(describeFamily).join("\n\n") };
  return { suggestion: suggest(name, families.map((f) => f.name)) };
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
