/**
 * Repeats: `repeats = N` on an experiment is sugar for an implicit `seed` axis after the explicit
 * axes, with the values seed, seed + 1, ..., seed + N - 1 and the labels `seed42`, `seed43`, ...
 * (so each repeat is a variant whose id ends with its seed label, and cache keys stay distinct). A
 * `seed` axis written in `ablate` does the same with the user's values; both at once is E0411.
 */
import type { Diagnostics } from "../core/diagnostics.js";
import { L, M } from "../core/messages.js";
import type { Span } from "../core/source.js";
import type { Component, Value } from "./values.js";

/** The implicit axis: the seeds and their labels, and where `repeats` was set. */
export interface RepeatsAxis {
  readonly values: readonly { readonly label: string; readonly value: Value }[];
  readonly span: Span;
}

/** The value of a whole-number field as a JS number, or undefined. */
function intValue(v: Value | undefined): number | undefined {
  return v?.type === "int" ? Number(v.value) : undefined;
}

/**
 * The seeds `repeats` asks for, or undefined for one run (N = 1, the default). `repeats` and `seed`
 * are read from the experiment after `--set` (`overrides`); `seedAxis` is the span of a `seed` axis
 * of the experiment's `ablate` blocks, if any (an error with `repeats` > 1).
 */
export function repeatsAxis(
  experiment: Component,
  overrides: ReadonlyMap<string, Value>,
  seedAxis: Span | undefined,
  diagnostics: Diagnostics,
): RepeatsAxis | undefined | "error" {
  const entry = experiment.field("repeats");
  const repeatsValue = overrides.get("repeats") ?? entry?.value;
  const n = intValue(repeatsValue) ?? 1;
  if (n <= 1) return undefined;
  const span = repeatsValue!.span;
  if (seedAxis) {
    diagnostics.report(M.repeatsWithSeedAxis, {}, { span, secondary: [{ span: seedAxis, text: L.seedAxis }] });
    return "error";
  }
  const seed = intValue(overrides.get("seed") ?? experiment.field("seed")?.value) ?? (experiment.family.fields.seed.default as number);
  const values = Array.from({ length: n }, (_, i) => {
    const s = seed + i;
    return { label: `seed${s}`, value: { type: "int", value: BigInt(s), span, text: String(s) } as Value };
  });
  return { values, span };
}
