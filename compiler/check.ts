/**
 * Check: every component against its family's JSON Schema (with ajv), then the shape rules a schema
 * cannot say (width divisible by heads, image by patch, ...). Each ajv error is mapped back to the span
 * of the field that caused it; errors about inherited values also point at the declaration using them.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { listNames, type Diagnostics, type Secondary } from "../core/diagnostics.js";
import { article, L, M } from "../core/messages.js";
import { benchmarkFamilies, jsonSchema, SELF_DISTILL_FIELDS, type Family, type FieldSchema } from "./families.js";
import type { Span } from "../core/source.js";
import { suggest } from "../core/suggest.js";
import { isNumeric, numberOf, show, typeName, type Component, type FieldEntry, type Value } from "./values.js";

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
      ajv.addKeyword({
        keyword: "mmfmRange",
        schemaType: "boolean",
        errors: true,
        validate: function rangeCheck(schema: boolean, data: unknown) {
          const ok = !schema || !Array.isArray(data) || data.length !== 2 || !(typeof data[0] === "number" && typeof data[1] === "number" && data[0] > data[1]);
          if (!ok) (rangeCheck as { errors?: unknown[] }).errors = [{ keyword: "mmfmRange", params: {}, message: "first bound larger" }];
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
        diagnostics.report(
          M.integerExpected,
          { field: entry.name, shown: show(value), whole: Number.isInteger(value.value) ? value.value : undefined },
          { span: value.span, secondary: inheritedLabel(component, entry) },
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
function inheritedLabel(component: Component, entry: FieldEntry): Secondary[] {
  if (entry.owner === component) return [];
  return [{ span: component.span, text: L.usedBy(component.describe()) }];
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

/** The number a string holds when the schema expects that kind of number (`"128"` for an integer, `"1e-3"` for a float). */
function quotedNumber(value: Value | undefined, schema: FieldSchema | undefined): string | undefined {
  if (value?.type !== "string") return undefined;
  const text = value.value.trim();
  const integer = /^-?\d(_?\d)*$/.test(text);
  const float = /^-?\d(_?\d)*(\.\d(_?\d)*)?([eE][+-]?\d+)?$/.test(text);
  if (schema?.type === "integer" ? integer : schema?.type === "number" ? float : false) return text;
  return undefined;
}

/** Whether an unknown field of the instance is a misspelling of `name` (`trian` for `train`). */
function misspeltAs(instance: Instance, family: Family, name: string): boolean {
  const known = Object.keys(family.fields);
  return [...instance.entries.keys()].some((k) => !(k in family.fields) && suggest(k, known) === name);
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
  const shown = value ? show(value) : undefined;
  const schema = schemaAt(family, pointer);
  const fieldName = pointer.slice(1).replace(/\/(\d+)/g, "[$1]").replace(/\//g, ".");
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": {
      const name = String(p.additionalProperty);
      const e = instance.entries.get(name);
      const guess = suggest(name, Object.keys(family.fields)) ?? family.aliases?.[name];
      diagnostics.report(
        M.unknownField,
        { field: name, owner: where, guess, family: { name: family.name, kind: family.kind, implicit: family.implicit, fields: Object.keys(family.fields) } },
        { span: e?.nameSpan ?? component.span, secondary: e ? inheritedLabel(component, e) : [], fixes: guess && e ? [{ span: e.nameSpan, text: guess }] : undefined },
      );
      return;
    }
    case "required": {
      const name = String(p.missingProperty);
      if (instance.entries.has(name)) return; // set, but its value already had an error
      if (misspeltAs(instance, family, name)) return; // set under a misspelt name, reported as unknown
      const fs = family.fields[name];
      diagnostics.report(
        M.missingField,
        { field: name, owner: where, type: describeType(fs), description: fs?.description },
        { span: component.name ? nameSpanOf(component) : component.span },
      );
      return;
    }
    case "type":
    case "mmfmKind": {
      const expected = describeType(schema);
      const found = value ? (value.type === "component" ? value.component.kind : typeName(value)) : undefined;
      if (error.keyword === "mmfmKind" && value?.type === "component") {
        diagnostics.report(M.wrongKind, { field: fieldName, owner: where, expected, found, shown }, { span, secondary });
        return;
      }
      const unquoted = quotedNumber(value, schema);
      const fixes = unquoted !== undefined && instance.spans.has(pointer) ? [{ span, text: unquoted }] : undefined;
      diagnostics.report(M.wrongType, { field: fieldName, owner: where, expected, found, shown, unquoted }, { span, secondary, fixes });
      return;
    }
    case "enum": {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const guess = value?.type === "string" ? suggest(value.value, allowed) : undefined;
      const written = allowed.map((a) => (typeof a === "string" && schema?.type === "string" && !["vision", "connector", "language"].includes(a) ? `"${a}"` : a));
      diagnostics.report(M.notAllowed, { field: fieldName, owner: where, allowed: written, shown, guess }, { span, secondary, fixes: guess && instance.spans.has(pointer) ? [{ span, text: JSON.stringify(guess) }] : undefined });
      return;
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      diagnostics.report(M.outOfRange, { field: fieldName, owner: where, bound: error.keyword, limit: p.limit, shown }, { span, secondary });
      return;
    }
    case "mmfmRange": {
      const items = value?.type === "list" ? value.items : [];
      const [min, max] = items.map((v) => (isNumeric(v) ? numberOf(v) : NaN));
      const fixes = instance.spans.has(pointer) && items.length === 2 ? [{ span, text: `[${show(items[1])}, ${show(items[0])}]` }] : undefined;
      diagnostics.report(M.rangeReversed, { field: fieldName, owner: where, min, max }, { span, secondary, fixes });
      return;
    }
    case "minItems":
    case "maxItems": {
      const n = (value?.type === "list" ? value.items.length : undefined) ?? "?";
      diagnostics.report(M.itemCount, { field: fieldName, owner: where, bound: error.keyword, limit: p.limit, count: n }, { span, secondary });
      return;
    }
    case "uniqueItems": {
      const items = value?.type === "list" ? value.items : [];
      const twice = items[Number(p.i)];
      const first = items[Number(p.j)];
      diagnostics.report(
        M.listedTwice,
        { field: fieldName, owner: where, item: twice ? show(twice) : undefined },
        { span: twice?.span ?? span, secondary: [...(first ? [{ span: first.span, text: L.firstListedHere }] : []), ...secondary] },
      );
      return;
    }
    default:
      diagnostics.report(M.invalidValue, { field: fieldName, owner: where, reason: error.message }, { span, secondary });
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

function labelsFor(c: Component, ...fields: ({ entry?: FieldEntry } | undefined)[]): { span: Span; secondary: Secondary[] } {
  const set = fields.filter((f) => f?.entry).map((f) => f!.entry!);
  // the primary span is the value set closest to this component; the others are secondary
  const mine = set.find((e) => e.owner === c) ?? set[set.length - 1];
  const secondary: Secondary[] = [];
  for (const e of set) if (e !== mine) secondary.push({ span: e.span, text: L.setHere(e.name) });
  if (mine && mine.owner !== c) secondary.push({ span: c.span, text: L.inComponent(c.describe()) });
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
  message: typeof M.widthNotDivisibleByHeads | typeof M.headsNotDivisibleByKvHeads,
  big: string,
  small: string,
): void {
  const a = intField(c, big);
  const b = intField(c, small);
  if (!a || !b || b.value <= 0 || a.value <= 0) return;
  if (a.value % b.value === 0) return;
  const { span, secondary } = labelsFor(c, a, b);
  diagnostics.report(message, { owner: c.describe(), big, small, a: a.value, b: b.value }, { span, secondary });
}

function checkVision(c: Component, diagnostics: Diagnostics): void {
  // like the real models' strided convolutions, a remainder of the image is dropped (SigLIP: 384 px in
  // 14 px patches gives 27 x 27); an image smaller than one patch gives none
  const image = intField(c, "image");
  const patch = intField(c, "patch");
  if (image && patch && patch.value > image.value) {
    const { span, secondary } = labelsFor(c, image, patch);
    diagnostics.report(M.patchLargerThanImage, { patch: patch.value, image: image.value, owner: c.describe() }, { span, secondary });
  }
  checkDivides(c, diagnostics, M.widthNotDivisibleByHeads, "width", "heads");
  const depth = intField(c, "depth");
  const layer = intField(c, "select_layer");
  if (depth && layer && depth.value > 0 && (layer.value > depth.value || layer.value < -(depth.value + 1))) {
    const { span, secondary } = labelsFor(c, depth, layer);
    diagnostics.report(M.selectLayerOutOfRange, { layer: layer.value, owner: c.describe(), depth: depth.value }, {
      span: layer.entry?.span ?? span,
      secondary: layer.entry ? secondary.filter((s) => s.span !== layer.entry!.span) : secondary,
    });
  }
  const feature = c.field("feature");
  if (c.family.name === "siglip" && feature?.value.type === "string" && feature.value.value === "cls_patch") {
    diagnostics.report(M.noClassToken, { owner: c.describe() }, { span: feature.span });
  }
}

function checkLanguage(c: Component, diagnostics: Diagnostics): void {
  checkDivides(c, diagnostics, M.widthNotDivisibleByHeads, "width", "heads");
  checkDivides(c, diagnostics, M.headsNotDivisibleByKvHeads, "heads", "kv_heads");
}

function checkStage(c: Component, diagnostics: Diagnostics): void {
  const epochs = c.field("epochs");
  const steps = c.field("steps");
  if (epochs && steps) {
    diagnostics.report(M.epochsAndSteps, { owner: c.describe() }, { span: steps.span, secondary: [{ span: epochs.span, text: L.setHere("epochs") }] });
  }
  const batch = intField(c, "batch");
  const micro = intField(c, "micro_batch");
  if (batch && micro?.entry && micro.value > 0 && batch.value % micro.value !== 0) {
    const { span, secondary } = labelsFor(c, batch, micro);
    const valid = Array.from({ length: batch.value }, (_, i) => i + 1).filter((m) => batch.value % m === 0);
    diagnostics.report(M.batchNotMultiple, { batch: batch.value, micro: micro.value, owner: c.describe(), valid }, { span, secondary });
  }
  const data = c.field("data");
  const datasets = data ? (data.value.type === "list" ? data.value.items : [data.value]) : [];
  for (const item of datasets) {
    if (item.type === "component" && item.component.kind === "dataset" && benchmarkFamilies.has(item.component.family.name)) {
      diagnostics.report(M.trainsOnBenchmark, { owner: c.describe(), dataset: item.component.displayName }, { span: data?.value.type === "list" ? item.span : data!.span });
    }
  }
  checkStageFields(c, diagnostics);
}

function sameSpan(a: Span, b: Span): boolean {
  return a.file === b.file && a.start === b.start && a.end === b.end;
}

/** The name a `train` item or a symbol value spells (`language` or "language"). */
function spelled(v: Value): string | undefined {
  return v.type === "symbol" ? v.name : v.type === "string" ? v.value : undefined;
}

/**
 * The fields of a training stage that must agree with each other: `lora` adapts the language model,
 * so `train` must hold `language` (E0313); `mixture` gives one weight per dataset of `data` (E0313).
 * Checked on declarations and again on each variant's stage (configure.ts), where axes may have set
 * the two fields apart. Returns whether the stage passes.
 */
export function checkStageFields(c: Component, diagnostics: Diagnostics): boolean {
  let ok = true;
  // a variant's stage made by an axis spans an axis value: one label per place
  const distinct = (primary: Span, labels: Secondary[]): Secondary[] =>
    labels.filter((l, i) => !sameSpan(l.span, primary) && labels.findIndex((m) => sameSpan(m.span, l.span)) === i);
  const lora = c.field("lora");
  const train = c.field("train");
  if (lora?.value.type === "bool" && lora.value.value && train?.value.type === "list") {
    if (!train.value.items.some((v) => spelled(v) === "language")) {
      const secondary = distinct(lora.span, [{ span: train.span, text: L.setHere("train") }, ...inheritedLabel(c, lora)]);
      diagnostics.report(M.loraWithoutLanguage, { owner: c.describe() }, { span: lora.span, secondary });
      ok = false;
    }
  }
  const mixture = c.field("mixture");
  const data = c.field("data");
  if (mixture?.value.type === "list" && data && data.value.type !== "error") {
    const datasets = data.value.type === "list" ? data.value.items.length : 1;
    if (mixture.value.items.length !== datasets) {
      const secondary = distinct(mixture.span, [{ span: data.span, text: L.setHere("data") }, ...inheritedLabel(c, mixture)]);
      diagnostics.report(M.mixtureLength, { owner: c.describe(), weights: mixture.value.items.length, datasets }, { span: mixture.span, secondary });
      ok = false;
    }
  }
  return checkObjective(c, diagnostics) && ok;
}

/**
 * A backbone's pretraining objective trains that backbone alone (E0314), and the vision ones need
 * images: not the text split of `synthetic_shapes` (E0316). `self_distill`'s own fields (`hue_jitter`,
 * `global_crops`, `local_crops`) on a stage of another objective change nothing (W0301).
 */
function checkObjective(c: Component, diagnostics: Diagnostics): boolean {
  const objective = c.field("objective");
  const name = objective?.value.type === "string" ? objective.value.value : "llava";
  for (const field of SELF_DISTILL_FIELDS) {
    const entry = c.field(field);
    if (entry && name !== "self_distill") {
      diagnostics.report(M.fieldNotRead, { field, reader: "self_distill", owner: c.describe(), objective: name }, { span: entry.span });
    }
  }
  if (name === "llava" || !objective) return true;
  const component = name === "lm" || name === "sft" ? "language" : "vision";
  let ok = true;
  const train = c.field("train");
  if (train?.value.type === "list") {
    const names = train.value.items.map((v) => spelled(v) ?? "?");
    if (names.length !== 1 || names[0] !== component) {
      const trains = listNames(names, "and");
      diagnostics.report(M.objectiveTrains, { objective: name, component, owner: c.describe(), trains }, { span: train.span, secondary: [{ span: objective.span, text: L.setHere("objective") }] });
      ok = false;
    }
  }
  const data = c.field("data");
  if (component === "vision" && data) {
    for (const item of data.value.type === "list" ? data.value.items : [data.value]) {
      if (item.type !== "component" || item.component.family.name !== "synthetic_shapes") continue;
      const split = item.component.fields.get("split")?.value;
      if (split?.type === "string" && split.value === "text") {
        diagnostics.report(M.objectiveWithoutImages, { objective: name, dataset: item.component.displayName }, { span: data.value.type === "list" ? item.span : data.span, secondary: [{ span: objective.span, text: L.setHere("objective") }] });
        ok = false;
      }
    }
  }
  return ok;
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
      diagnostics.report(M.notABenchmark, { dataset: item.component.displayName, family: f, benchmarks: [...benchmarkFamilies] }, { span: item.span });
    }
  }
}

/** The label of a backbone's width: where it is set, or the backbone itself. */
function widthLabel(c: Component, what: string): Secondary[] {
  const e = c.field("width");
  return e ? [{ span: e.span, text: L.widthSetHere(what) }] : [{ span: c.span, text: L.backbone(what, c.displayName) }];
}

/**
 * A model as a whole: an explicit connector `in`/`out` must be the backbones' widths (E0308), and an
 * identity connector needs equal widths (E0309). Returns whether the model passes.
 */
export function checkModelWidths(
  parts: { readonly vision: Component; readonly connector: Component; readonly language: Component; readonly connectorSpan: Span },
  widths: { readonly vision: number; readonly language: number },
  diagnostics: Diagnostics,
): boolean {
  let ok = true;
  const side = (field: "in" | "out", expected: number, from: Component, what: string) => {
    const e = parts.connector.field(field);
    if (!e || e.value.type !== "int" || Number(e.value.value) === expected) return;
    diagnostics.report(M.connectorWidth, { field, shown: show(e.value), part: what, width: expected }, { span: e.span, secondary: widthLabel(from, what) });
    ok = false;
  };
  side("in", widths.vision, parts.vision, "vision");
  side("out", widths.language, parts.language, "language");
  if (parts.connector.family.name === "identity" && widths.vision !== widths.language) {
    diagnostics.report(M.identityWidths, { vision: widths.vision, language: widths.language }, {
      span: parts.connectorSpan,
      secondary: [...widthLabel(parts.vision, "vision"), ...widthLabel(parts.language, "language")],
    });
    ok = false;
  }
  return ok;
}

/** A training stage against its model: the image tokens must leave room for text in `max_length` (E0317). */
export function checkImageTokensFit(stage: Component, imageTokens: number, maxLength: number, diagnostics: Diagnostics): boolean {
  if (imageTokens < maxLength) return true;
  const e = stage.field("max_length");
  diagnostics.report(M.noRoomForText, { tokens: imageTokens, maxLength, owner: stage.describe() }, { span: e?.span ?? stage.span });
  return false;
}
