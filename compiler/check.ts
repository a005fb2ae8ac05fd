/**
 * Check: every component against its family's JSON Schema (with ajv), then the shape rules a schema
 * cannot say (width divisible by heads, image by patch, ...). Each ajv error is mapped back to the span
 * of the field that caused it; errors about inherited values also point at the declaration using them.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { diagnostic, listNames, type Diagnostics, type Label } from "./diagnostics.js";
import { benchmarkFamilies, jsonSchema, type Family, type FieldSchema } from "./families.js";
import type { Span } from "./source.js";
import { suggest } from "./suggest.js";
import { show, typeName, type Component, type FieldEntry, type Value } from "./values.js";
import { article } from "./evaluate.js";

let ajv: Ajv | undefined;
const validators = new Map<Family, ValidateFunction>();

function validatorFor(family: Family): ValidateFunction {
  let v = validators.get(family);
  if (!v) {
    if (!ajv) {
      ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
      ajv.addKeyword({
        keyword: "mmfmKind",
        schemaType: ["string", "array"],
        errors: true,
        validate: function kindCheck(schema: string | string[], data: unknown) {
          const kinds = typeof schema === "string" ? [schema] : schema;
          const ok = typeof data === "object" && data !== null && kinds.includes((data as { $kind?: string }).$kind ?? "");
          if (!ok) (kindCheck as { errors?: unknown[] }).errors = [{ keyword: "mmfmKind", params: { kinds }, message: "wrong kind" }];
          return ok;
        },
      });
      ajv.addVocabulary(["mmfmSingleOk", "mmfmDefault"]);
    }
    v = ajv.compile(jsonSchema(family));
    validators.set(family, v);
  }
  return v;
}

/** The JSON instance ajv sees for a component, with the spans of its values by JSON pointer. */
interface Instance {
  json: Record<string, unknown>;
  spans: Map<string, Span>;
  entries: Map<string, FieldEntry>;
}

function toInstance(component: Component, diagnostics: Diagnostics): Instance {
  const json: Record<string, unknown> = {};
  const spans = new Map<string, Span>();
  const entries = new Map<string, FieldEntry>();
  for (const [name, entry] of component.fields) {
    entries.set(name, entry);
    const schema = component.family.fields[name];
    const converted = convert(entry.value, schema, `/${name}`, spans, diagnostics, component, entry);
    if (converted !== undefined) json[name] = converted;
  }
  return { json, spans, entries };
}

/** Value -> JSON for ajv. Reports what ajv cannot see (an integer expected, a float given). */
function convert(
  value: Value,
  schema: FieldSchema | undefined,
  pointer: string,
  spans: Map<string, Span>,
  diagnostics: Diagnostics,
  component: Component,
  entry: FieldEntry,
): unknown {
  spans.set(pointer, value.span);
  switch (value.type) {
    case "error":
      return undefined;
    case "int":
      return Number(value.value);
    case "float":
      if (schema?.type === "integer") {
        diagnostics.add(
          diagnostic("E0301", `\`${entry.name}\` must be an integer, found float \`${show(value)}\``, {
            span: value.span,
            secondary: inheritedLabel(component, entry),
            help: Number.isInteger(value.value) ? `write \`${value.value}\`` : undefined,
          }),
        );
        return undefined;
      }
      return value.value;
    case "string":
      return value.value;
    case "bool":
      return value.value;
    case "symbol":
      return value.name;
    case "list": {
      const items = schema?.type === "array" ? (schema.items as FieldSchema | undefined) : undefined;
      const out: unknown[] = [];
      for (let i = 0; i < value.items.length; i++) {
        const c = convert(value.items[i], items, `${pointer}/${i}`, spans, diagnostics, component, entry);
        // an item that already produced an error silences the field
        if (c === undefined) return undefined;
        out.push(c);
      }
      return out;
    }
    case "record": {
      const out: Record<string, unknown> = {};
      for (const e of value.entries) out[e.key] = convert(e.value, undefined, `${pointer}/${e.key}`, spans, diagnostics, component, entry);
      return out;
    }
    case "component": {
      const ref = { $kind: value.component.kind, $family: value.component.family.name, $name: value.component.displayName };
      if (schema?.mmfmSingleOk && schema.type === "array") {
        spans.set(`${pointer}/0`, value.span);
        return [ref];
      }
      return ref;
    }
  }
}

/** A secondary label when the field was set in a base, not in the component being checked. */
function inheritedLabel(component: Component, entry: FieldEntry): Label[] {
  if (entry.owner === component) return [];
  return [{ span: component.span, text: `used by ${component.describe()}` }];
}

function describeType(schema: FieldSchema | undefined): string {
  if (!schema) return "a value";
  if (schema.mmfmKind) {
    const kinds = typeof schema.mmfmKind === "string" ? [schema.mmfmKind] : schema.mmfmKind;
    return kinds.map((k) => `${article(k)} ${k}`).join(" or ");
  }
  switch (schema.type) {
    case "integer":
      return "an integer";
    case "number":
      return "a number";
    case "string":
      return schema.enum ? `one of ${listNames(schema.enum.map(String))}` : "a string";
    case "boolean":
      return "`true` or `false`";
    case "array":
      return `a list of ${describeType(schema.items as FieldSchema).replace(/^an? /, "")}s`;
    default:
      return "a value";
  }
}

function schemaAt(family: Family, pointer: string): FieldSchema | undefined {
  const [, field, ...rest] = pointer.split("/");
  let s: FieldSchema | undefined = family.fields[field];
  for (const _ of rest) s = s?.items as FieldSchema | undefined;
  return s;
}

function valueAt(entries: Map<string, FieldEntry>, pointer: string): Value | undefined {
  const [, field, ...rest] = pointer.split("/");
  let v: Value | undefined = entries.get(field)?.value;
  for (const key of rest) {
    if (v?.type === "list") v = v.items[Number(key)];
    else if (v?.type === "record") v = v.entries.find((e) => e.key === key)?.value;
    else if (v?.type === "component") return v;
    else return v;
  }
  return v;
}

function mapAjvError(error: ErrorObject, component: Component, instance: Instance, diagnostics: Diagnostics): void {
  const family = component.family;
  const where = component.describe();
  const pointer = error.instancePath;
  const field = pointer.split("/")[1];
  const entry = field ? instance.entries.get(field) : undefined;
  const span = instance.spans.get(pointer) ?? entry?.span ?? component.span;
  const secondary = entry ? inheritedLabel(component, entry) : [];
  const value = valueAt(instance.entries, pointer);
  const shown = value ? `\`${show(value)}\`` : "";
  const schema = schemaAt(family, pointer);
  const fieldName = pointer.slice(1).replace(/\/(\d+)/g, "[$1]").replace(/\//g, ".");
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": {
      const name = String(p.additionalProperty);
      const e = instance.entries.get(name);
      const guess = suggest(name, Object.keys(family.fields));
      diagnostics.add(
        diagnostic("E0203", `unknown field \`${name}\` in ${where}`, {
          span: e?.nameSpan ?? component.span,
          label: guess ? `did you mean \`${guess}\`?` : undefined,
          fixes: guess && e ? [{ span: e.nameSpan, text: guess }] : undefined,
          secondary: e ? inheritedLabel(component, e) : [],
          help: guess ? undefined : `the fields of ${family.implicit ? `a ${family.kind}` : `\`${family.name}\``} are ${listNames(Object.keys(family.fields), "and")}`,
        }),
      );
      return;
    }
    case "required": {
      const name = String(p.missingProperty);
      if (instance.entries.has(name)) return; // set, but its value already had an error
      const fs = family.fields[name];
      diagnostics.add(
        diagnostic("E0204", `missing required field \`${name}\` in ${where}`, {
          span: component.name ? nameSpanOf(component) : component.span,
          label: `\`${name}\` (${describeType(fs)}) is required`,
          help: fs ? `${name}: ${fs.description}` : undefined,
        }),
      );
      return;
    }
    case "type":
    case "mmfmKind": {
      const expected = describeType(schema);
      const found = value ? (value.type === "component" ? `${article(value.component.kind)} ${value.component.kind}` : `${article(typeName(value))} ${typeName(value)}`) : "another type";
      const code = error.keyword === "mmfmKind" && value?.type === "component" ? "E0304" : "E0301";
      diagnostics.add(
        diagnostic(code, `\`${fieldName}\` of ${where} must be ${expected}, found ${found}${shown ? ` ${shown}` : ""}`, {
          span,
          label: `expected ${expected}`,
          secondary,
        }),
      );
      return;
    }
    case "enum": {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const guess = value?.type === "string" ? suggest(value.value, allowed) : undefined;
      diagnostics.add(
        diagnostic("E0303", `\`${fieldName}\` of ${where} must be one of ${listNames(allowed.map((a) => (typeof a === "string" && schema?.type === "string" && !["vision", "connector", "language"].includes(a) ? `"${a}"` : a)))}, found ${shown}`, {
          span,
          label: guess ? `did you mean \`"${guess}"\`?` : undefined,
          fixes: guess && instance.spans.has(pointer) ? [{ span, text: JSON.stringify(guess) }] : undefined,
          secondary,
        }),
      );
      return;
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const bound = { minimum: "at least", maximum: "at most", exclusiveMinimum: "greater than", exclusiveMaximum: "less than" }[error.keyword];
      diagnostics.add(
        diagnostic("E0302", `\`${fieldName}\` of ${where} must be ${bound} ${p.limit}, found ${shown}`, { span, secondary }),
      );
      return;
    }
    case "minItems":
    case "maxItems": {
      const n = (value?.type === "list" ? value.items.length : undefined) ?? "?";
      const rule = error.keyword === "minItems" ? `at least ${p.limit}` : `at most ${p.limit}`;
      diagnostics.add(
        diagnostic("E0302", `\`${fieldName}\` of ${where} needs ${rule} item${p.limit === 1 ? "" : "s"}, found ${n}`, { span, secondary }),
      );
      return;
    }
    case "uniqueItems": {
      const items = value?.type === "list" ? value.items : [];
      const twice = items[Number(p.i)];
      const first = items[Number(p.j)];
      diagnostics.add(
        diagnostic("E0314", `\`${fieldName}\` of ${where} lists \`${twice ? show(twice) : "an item"}\` twice`, {
          span: twice?.span ?? span,
          label: "listed again here",
          secondary: [...(first ? [{ span: first.span, text: "first listed here" }] : []), ...secondary],
        }),
      );
      return;
    }
    default:
      diagnostics.add(diagnostic("E0301", `\`${fieldName || "?"}\` of ${where}: ${error.message ?? "invalid value"}`, { span, secondary }));
  }
}

function nameSpanOf(component: Component): Span {
  // a named component's span starts at its kind keyword; point at the whole first line instead
  const text = component.span.file.text;
  const lineEnd = text.indexOf("\n", component.span.start);
  const end = lineEnd < 0 ? component.span.end : Math.min(component.span.end, lineEnd);
  return { file: component.span.file, start: component.span.start, end: Math.max(end, component.span.start + 1) };
}

/** Validates one component's fields against its family schema. */
export function checkSchema(component: Component, diagnostics: Diagnostics): boolean {
  const instance = toInstance(component, diagnostics);
  const validate = validatorFor(component.family);
  if (validate(instance.json)) return true;
  for (const error of validate.errors ?? []) mapAjvError(error, component, instance, diagnostics);
  return false;
}

// ---- shape rules ---------------------------------------------------------------------------------

function intField(c: Component, name: string): { value: number; entry?: FieldEntry } | undefined {
  const entry = c.field(name);
  if (entry) return entry.value.type === "int" ? { value: Number(entry.value.value), entry } : undefined;
  const d = c.family.fields[name]?.default;
  return typeof d === "number" ? { value: d } : undefined;
}

function labelsFor(c: Component, ...fields: ({ entry?: FieldEntry } | undefined)[]): { span: Span; secondary: Label[] } {
  const set = fields.filter((f) => f?.entry).map((f) => f!.entry!);
  // the primary span is the value set closest to this component; the others are secondary
  const mine = set.find((e) => e.owner === c) ?? set[set.length - 1];
  const secondary: Label[] = [];
  for (const e of set) if (e !== mine) secondary.push({ span: e.span, text: `\`${e.name}\` set here` });
  if (mine && mine.owner !== c) secondary.push({ span: c.span, text: `in ${c.describe()}` });
  return { span: mine?.span ?? c.span, secondary };
}

/** The rules a schema cannot express, per kind. */
export function checkShapes(c: Component, diagnostics: Diagnostics): void {
  switch (c.kind) {
    case "vision":
      return checkVision(c, diagnostics);
    case "language":
      return checkLanguage(c, diagnostics);
    case "stage":
      return checkStage(c, diagnostics);
    case "eval":
      return checkEval(c, diagnostics);
    default:
      return;
  }
}

function checkDivides(
  c: Component,
  diagnostics: Diagnostics,
  code: "E0305" | "E0306",
  big: string,
  small: string,
  what: string,
): void {
  const a = intField(c, big);
  const b = intField(c, small);
  if (!a || !b || b.value <= 0 || a.value <= 0) return;
  if (a.value % b.value === 0) return;
  const { span, secondary } = labelsFor(c, a, b);
  diagnostics.error(code, `${what} in ${c.describe()}: \`${big}\` ${a.value} is not divisible by \`${small}\` ${b.value}`, {
    span,
    secondary,
    help: `${a.value} / ${b.value} = ${(a.value / b.value).toFixed(2)}; pick values where \`${small}\` divides \`${big}\``,
  });
}

function checkVision(c: Component, diagnostics: Diagnostics): void {
  // like the real models' strided convolutions, a remainder of the image is dropped (SigLIP: 384 px in
  // 14 px patches gives 27 x 27); an image smaller than one patch gives none
  const image = intField(c, "image");
  const patch = intField(c, "patch");
  if (image && patch && patch.value > image.value) {
    const { span, secondary } = labelsFor(c, image, patch);
    diagnostics.error("E0307", `the patch (${patch.value} px) is larger than the image (${image.value} px) in ${c.describe()}`, {
      span,
      secondary,
      help: "an image gives floor(image / patch)² patches; make `patch` at most `image`",
    });
  }
  checkDivides(c, diagnostics, "E0305", "width", "heads", "width not divisible by heads");
  const depth = intField(c, "depth");
  const layer = intField(c, "select_layer");
  if (depth && layer && depth.value > 0 && (layer.value > depth.value || layer.value < -(depth.value + 1))) {
    const { span, secondary } = labelsFor(c, depth, layer);
    diagnostics.error("E0312", `\`select_layer\` ${layer.value} is out of range for ${c.describe()} with ${depth.value} layers`, {
      span: layer.entry?.span ?? span,
      secondary: layer.entry ? secondary.filter((s) => s.span !== layer.entry!.span) : secondary,
      help: `hidden states are numbered 0 (embeddings) to ${depth.value}, or -1 (last) to -${depth.value + 1}`,
    });
  }
  const feature = c.field("feature");
  if (c.family.name === "siglip" && feature?.value.type === "string" && feature.value.value === "cls_patch") {
    diagnostics.error("E0318", `SigLIP has no class token, so \`feature = "cls_patch"\` is not available in ${c.describe()}`, {
      span: feature.span,
      help: 'use `feature = "patch"`: all patch tokens',
    });
  }
}

function checkLanguage(c: Component, diagnostics: Diagnostics): void {
  checkDivides(c, diagnostics, "E0305", "width", "heads", "width not divisible by heads");
  checkDivides(c, diagnostics, "E0306", "heads", "kv_heads", "query heads not divisible by key/value heads");
}

function checkStage(c: Component, diagnostics: Diagnostics): void {
  const epochs = c.field("epochs");
  const steps = c.field("steps");
  if (epochs && steps) {
    diagnostics.error("E0313", `${c.describe()} sets both \`epochs\` and \`steps\``, {
      span: steps.span,
      secondary: [{ span: epochs.span, text: "`epochs` set here" }],
      help: "give one: `epochs` passes over the data, or `steps` optimizer steps",
    });
  }
  const batch = intField(c, "batch");
  const micro = intField(c, "micro_batch");
  if (batch && micro?.entry && micro.value > 0 && batch.value % micro.value !== 0) {
    const { span, secondary } = labelsFor(c, batch, micro);
    diagnostics.error("E0315", `\`batch\` ${batch.value} is not a multiple of \`micro_batch\` ${micro.value} in ${c.describe()}`, {
      span,
      secondary,
      help: "gradients are accumulated over batch / micro_batch forward passes, which must be whole",
    });
  }
  const data = c.field("data");
  if (data?.value.type === "component" && data.value.component.kind === "dataset" && benchmarkFamilies.has(data.value.component.family.name)) {
    diagnostics.error("E0316", `${c.describe()} trains on the benchmark \`${data.value.component.displayName}\``, {
      span: data.span,
      help: "benchmarks are evaluated by an `eval`; training data is `llava_json` or `synthetic_shapes`",
    });
  }
}

function checkEval(c: Component, diagnostics: Diagnostics): void {
  const data = c.field("data");
  if (!data) return;
  const items = data.value.type === "list" ? data.value.items : [data.value];
  for (const item of items) {
    if (item.type !== "component" || item.component.kind !== "dataset") continue;
    const f = item.component.family.name;
    const fields = item.component.fields;
    const split = fields.get("split")?.value;
    const okShapes = f === "synthetic_shapes" && split?.type === "string" && split.value === "test";
    if (!benchmarkFamilies.has(f) && !okShapes) {
      diagnostics.error("E0316", `\`${item.component.displayName}\` (${f}) is not a benchmark`, {
        span: item.span,
        help: `an eval scores benchmarks: ${listNames([...benchmarkFamilies])} or \`synthetic_shapes { split = "test" }\``,
      });
    }
  }
}
