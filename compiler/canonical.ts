/**
 * Canonical JSON of a resolved configuration (keys sorted, names dropped: renaming a declaration does
 * not change what is computed) and its SHA-256, a variant's content hash.
 */
import { createHash } from "node:crypto";
import type { Json, JsonObject } from "../core/json.js";

/** Canonical JSON: keys sorted, names dropped (renaming does not change what is computed). */
const canonicalCache = new WeakMap<object, string>();

/**
 * `cache`: keep the text of this object for later calls (its parts are always kept: resolved
 * components are shared between variants, so their text is computed once); a variant's own root is
 * hashed once, and keeping its text would hold a copy of every configuration of the grid.
 */
export function canonicalJson(value: Json, dropNames = true, cache = true): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const cached = dropNames ? canonicalCache.get(value) : undefined;
  if (cached !== undefined) return cached;
  let text: string;
  if (Array.isArray(value)) text = `[${value.map((v) => canonicalJson(v, dropNames)).join(",")}]`;
  else {
    const keys = Object.keys(value)
      .filter((k) => !(dropNames && k === "name"))
      .sort();
    text = `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k], dropNames)}`).join(",")}}`;
  }
  // an array is cheap to join again from its items' texts, and a variant's list of stages is its own
  if (dropNames && cache && !Array.isArray(value)) canonicalCache.set(value, text);
  return text;
}

export function contentHash(config: JsonObject): string {
  return createHash("sha256").update(canonicalJson(config, true, false)).digest("hex");
}
