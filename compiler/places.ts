/**
 * Places: where the spec writes a value of a variant's configuration, for the diagnostics about a
 * variant as a whole (the export's E0504 and E0505, the memory phase's W0501).
 *
 * A configuration's spans (configure.ts) say where each value was set: for a component, its
 * declaration (which may be a std preset) or the axis value whose refinement made it (varying
 * `model.vision.select_layer` refines the vision tower at the `-1`). A diagnostic about the tower
 * itself points better at the tower as the spec writes it into the variant: `vision =
 * siglip_so400m_p14_384` in the model, `mmvp` in the eval's `data`. So the place of a pointer is the
 * reference that puts its value there, looking through the refinements the grid made around deeper
 * axis values, with the axis that brought the value in (when one did) as a secondary span.
 */
import type * as A from "../grammar/ast.js";
import { ablateAxes, pathText } from "../grammar/ast.js";
import type { At, Secondary } from "../core/diagnostics.js";
import { L } from "../core/messages.js";
import type { Span } from "../core/source.js";
import type { Variant } from "./grid.js";
import type { Component, FieldEntry, Value } from "./values.js";

/**
 * The place of a configuration pointer (`/model/vision`, `/stages/2/data/1`, `/devices`) in a variant:
 * the deepest value on the pointer's way that the spec writes, and the axis that brought in a value
 * on that way. Empty when the spec writes none of it (a default of the experiment).
 */
export function placeOf(variant: Variant, pointer: string): At {
  const axes = axesOf(variant.experiment);
  const segments = pointer.split("/").slice(1);
  let value: Value = { type: "component", component: variant.experiment, span: variant.experiment.span };
  let span: Span | undefined;
  let axis: A.Axis | undefined;
  for (const segment of segments) {
    const next = step(value, segment, axes);
    if (!next) break;
    value = next.value;
    span = next.written;
    axis = axisAround(span, axes) ?? axis;
  }
  if (!span) return {};
  const secondary: Secondary[] = axis ? [{ span: axis.path.span, text: L.broughtInByAxis(pathText(axis.path)) }] : [];
  return { span, secondary };
}

/**
 * Where the component at a pointer is declared, through the refinements the grid made of it (a stage
 * varied by `finetune.lr` is still the `stage finetune` the spec declares): the first line of its
 * declaration, or undefined for a component the spec writes inline.
 */
export function declarationOf(variant: Variant, pointer: string): Span | undefined {
  const axes = axesOf(variant.experiment);
  let value: Value = { type: "component", component: variant.experiment, span: variant.experiment.span };
  for (const segment of pointer.split("/").slice(1)) {
    const next = step(value, segment, axes);
    if (!next) return undefined;
    value = next.value;
  }
  if (value.type !== "component") return undefined;
  let c: Component | undefined = value.component;
  while (c && c.name === undefined && axisAround(c.span, axes)) c = c.base;
  return c?.name === undefined ? undefined : firstLine(c.span);
}

/** The first line of a span (a declaration's head: `stage finetune {`). */
function firstLine(span: Span): Span {
  const end = span.file.text.indexOf("\n", span.start);
  return { file: span.file, start: span.start, end: end < 0 || end > span.end ? span.end : Math.max(end, span.start + 1) };
}

/** One segment of a pointer: the value there and the span of its reference as written. */
function step(value: Value, segment: string, axes: readonly A.Axis[]): { value: Value; written: Span } | undefined {
  if (value.type === "list") {
    const item = value.items[Number(segment)];
    return item && { value: item, written: item.span };
  }
  if (value.type !== "component") return undefined;
  // a single component where a list is allowed (`data = gqa`) is the list's item 0
  if (/^\d+$/.test(segment)) return segment === "0" ? { value, written: value.span } : undefined;
  const entry = value.component.field(segment);
  if (!entry) return undefined;
  return { value: entry.value, written: written(value.component, entry, axes).value.span };
}

/**
 * The entry as the spec writes it: an entry the grid made to carry a deeper axis value (varying
 * `model.vision.select_layer` refines the model's tower with `select_layer = -1`, all at the `-1`)
 * gives way to the entry it refines.
 */
function written(owner: Component, entry: FieldEntry, axes: readonly A.Axis[]): FieldEntry {
  let c: Component | undefined = owner;
  let e = entry;
  for (;;) {
    const under: FieldEntry | undefined = c?.base?.field(e.name);
    if (!c || !under || !carries(e.value, under.value, axes)) return e;
    c = c.base;
    e = under;
  }
}

/**
 * Whether a value is what the grid makes around a deeper axis value: the value below refined by one
 * field, the refinement and its one field both at the axis value (a refinement the spec writes, as
 * `clip { select_layer = -1 }`, has its field's value inside it, never at its own span).
 */
function carries(value: Value, under: Value, axes: readonly A.Axis[]): boolean {
  if (value.type !== "component" || under.type !== "component" || !axisAround(value.span, axes)) return false;
  const c = value.component;
  const [only, ...more] = c.own.values();
  return c.base === under.component && c.name === undefined && more.length === 0 && only !== undefined && sameSpan(c.span, value.span) && sameSpan(only.value.span, value.span);
}

function sameSpan(a: Span, b: Span): boolean {
  return a.file === b.file && a.start === b.start && a.end === b.end;
}

/** The `ablate` axes of an experiment and its bases. */
function axesOf(experiment: Component): A.Axis[] {
  const out: A.Axis[] = [];
  const seen = new Set<A.Block>();
  for (let c: Component | undefined = experiment; c; c = c.base) {
    if (!c.block || seen.has(c.block)) continue;
    seen.add(c.block);
    for (const m of c.block.members) if (m.kind === "Ablate") out.push(...ablateAxes(m));
  }
  return out;
}

/** The axis whose values hold a span. */
function axisAround(span: Span | undefined, axes: readonly A.Axis[]): A.Axis | undefined {
  if (!span) return undefined;
  return axes.find((a) => a.values.span.file === span.file && a.values.span.start <= span.start && span.end <= a.values.span.end);
}
