/**
 * Replacing one declaration by another throughout an experiment's component graph: how an axis over
 * `NAME.FIELD` (`finetune.lr`) swaps in the refined declaration wherever the experiment uses it.
 */
import { Component, type FieldEntry, type Value } from "./values.js";

/**
 * The first component of `root`'s graph that `test` accepts. `own`: through each component's own
 * fields and its base (every field a base chain holds, an overridden one too), which merges no field
 * maps; else through the merged fields, skipping bases.
 */
function search(root: Component, test: (c: Component) => boolean, own: boolean): Component | undefined {
  const seen = new Set<Component>();
  const visit = (c: Component): Component | undefined => {
    if (seen.has(c)) return undefined;
    seen.add(c);
    if (test(c)) return c;
    for (const f of (own ? c.own : c.fields).values()) {
      const found = visitValue(f.value);
      if (found) return found;
    }
    return own && c.base ? visit(c.base) : undefined;
  };
  const visitValue = (v: Value): Component | undefined => {
    if (v.type === "component") return visit(v.component);
    if (v.type === "list") for (const item of v.items) {
      const found = visitValue(item);
      if (found) return found;
    }
    return undefined;
  };
  return visit(root);
}

/** The nearest component in `root`'s graph that is `declared` or derived from it (or from a rebuilt copy of it). */
export function findDerived(root: Component, declared: Component): Component | undefined {
  return search(
    root,
    (c) => {
      for (let b: Component | undefined = c; b; b = b.base) if (b.isCopyOf(declared)) return true;
      return false;
    },
    false,
  );
}

/**
 * The component in `root`'s graph that is `declared` or a rebuilt copy of it (see `Component.isCopyOf`).
 * A substitution rebuilds every place that held the component it replaced (base chains and
 * overridden fields too), so the graph holds one version of a declaration: the first one found.
 */
export function findCopy(root: Component, declared: Component): Component | undefined {
  return search(root, (c) => c.isCopyOf(declared), true);
}

/**
 * Replaces `from` by `to` everywhere in `c`'s graph: in base chains (a refinement of `from` becomes a
 * refinement of `to`) and in fields that hold components. Unchanged parts are shared.
 */
export function substitute(c: Component, from: Component, to: Component, memo: Map<string, Component>): Component {
  if (c === from) return to;
  const key = `${c.id}|${from.id}|${to.id}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const base = c.base ? substitute(c.base, from, to, memo) : undefined;
  const changed = new Map<string, FieldEntry>();
  for (const [name, entry] of c.own) {
    const v = substituteValue(entry.value, from, to, memo);
    if (v !== entry.value) changed.set(name, { ...entry, value: v });
  }
  let result = c;
  if (base !== c.base || changed.size > 0) {
    const own = new Map(c.own);
    for (const [k, v] of changed) own.set(k, v);
    // a copy: the same name, family and span (Component.isCopyOf)
    result = new Component(c.kind, c.family, c.name, c.span, base, own, c.block);
  }
  memo.set(key, result);
  return result;
}

function substituteValue(v: Value, from: Component, to: Component, memo: Map<string, Component>): Value {
  if (v.type === "component") {
    const s = substitute(v.component, from, to, memo);
    return s === v.component ? v : { ...v, component: s };
  }
  if (v.type === "list") {
    const items = v.items.map((i) => substituteValue(i, from, to, memo));
    return items.some((x, i) => x !== v.items[i]) ? { ...v, items } : v;
  }
  return v;
}
