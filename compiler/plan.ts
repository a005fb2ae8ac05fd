/**
 * Plan: a variant -> its plan, the fully resolved JSON the runtime executes (plan/plan.ts is its
 * type, schema/plan.schema.json its schema). Plans are deterministic: the same input gives the same
 * bytes.
 */
import { createHash } from "node:crypto";
import { basename, dirname, isAbsolute, join, relative, sep } from "node:path";
import type { Json, JsonObject } from "../core/json.js";
import { canonicalJson } from "./canonical.js";
import { SELF_DISTILL_FIELDS } from "./families.js";
import type { Variant } from "./grid.js";
import type { Span } from "../core/source.js";
import { experimentOf } from "../plan/names.js";
import type { Plan, SourceRange } from "../plan/plan.js";

export interface PlanContext {
  /** absolute path of the spec */
  readonly specPath: string;
  /** absolute path of the folder the plan is written to */
  readonly planDir: string;
  /** absolute path of the standard library folder, shown as `std/...` */
  readonly stdDir: string;
}

function posix(path: string): string {
  return path.split(sep).join("/");
}

function spanRange(span: Span, ctx: PlanContext): SourceRange {
  const start = span.file.position(span.start);
  const end = span.file.position(Math.max(span.start, span.end));
  const abs = span.file.absolutePath;
  let file = span.file.path;
  if (abs) {
    const inStd = relative(ctx.stdDir, abs);
    file = !inStd.startsWith("..") ? `std/${posix(inStd)}` : posix(relative(dirname(ctx.specPath), abs)) || basename(abs);
  }
  return { file, line: start.line, column: start.column, endLine: end.line, endColumn: end.column };
}

/** Where each config pointer lands in the plan (the experiment's own fields move under `cluster`). */
function planPointer(pointer: string): string {
  const head = pointer.split("/")[1];
  return ["devices", "device_memory", "zero"].includes(head) ? `/cluster${pointer}` : pointer;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Cache keys: the first stage's key covers the model, the seed and the stage; each later key covers
 * its stage and the key before it. Names are not part of a key (renaming computes nothing new), nor is
 * a stage's ZeRO stage: like the experiment's `devices` and `zero`, it partitions the same computation.
 * A field only one objective reads (`hue_jitter`, `global_crops`, `local_crops`: `self_distill`'s) is in
 * the keys of that objective's stages alone, so adding such a field keeps every other stage's key, and
 * so its seed and its weights.
 */
export function stageKeys(model: Json, seed: Json, stages: readonly Json[]): string[] {
  const keys: string[] = [];
  stages.forEach((json, i) => {
    const stage = keyedFields(json);
    const content: JsonObject = i === 0 ? { model, seed, stage } : { after: keys[i - 1], stage };
    keys.push(sha256(canonicalJson(content)));
  });
  return keys;
}

/**
 * Paths the standard library sets (the tiny presets' `weights`, e.g. `weights/tiny_clip_vit`) name
 * files of the package, relative to std/; a plan holds every path relative to the spec's folder, so
 * these are rewritten (from a clone `../std/weights/...`, from an installed package
 * `../node_modules/mmfm/std/weights/...`). Cache keys keep the value as written, so they do not depend
 * on where the package is installed.
 */
function stdPaths(model: JsonObject, spans: { get(pointer: string): Span | undefined }, ctx: PlanContext): JsonObject {
  const out: JsonObject = { ...model };
  for (const part of ["vision", "language"]) {
    const component: JsonObject = { ...(model[part] as JsonObject) };
    for (const field of ["weights", "tokenizer"]) {
      const value = component[field];
      const file = spans.get(`/model/${part}/${field}`)?.file.absolutePath;
      if (typeof value !== "string" || isAbsolute(value) || !file || relative(ctx.stdDir, file).startsWith("..")) continue;
      component[field] = posix(relative(dirname(ctx.specPath), join(ctx.stdDir, value))) || ".";
    }
    out[part] = component;
  }
  return out;
}

/** What of a stage its key covers: all but its `zero`, and `self_distill`'s own fields only where it reads them. */
function keyedFields(stage: Json): Json {
  if (stage === null || typeof stage !== "object" || Array.isArray(stage)) return stage;
  const { zero: _zero, ...rest } = stage;
  if (rest.objective !== "self_distill") for (const field of SELF_DISTILL_FIELDS) delete rest[field];
  return rest;
}

export function buildPlan(variant: Variant, ctx: PlanContext): Plan {
  const { json: config, spans, model, stages } = variant.config;
  const stageJson = config.stages as JsonObject[];
  const keys = stageKeys(config.model, config.seed, stageJson);
  const spanJson: Record<string, SourceRange> = {};
  const pointers = spans.keys().sort();
  for (const p of pointers) spanJson[planPointer(p)] = spanRange(spans.get(p)!, ctx);
  const plan = {
    version: 1,
    experiment: experimentOf(variant.id),
    id: variant.id,
    hash: variant.hash,
    axes: variant.axes,
    source: { dir: posix(relative(ctx.planDir, dirname(ctx.specPath))) || ".", file: basename(ctx.specPath) },
    seed: config.seed,
    cluster: { devices: config.devices, device_memory: config.device_memory, zero: config.zero },
    model: { ...stdPaths(config.model as JsonObject, spans, ctx), params: model.params, image_tokens: model.imageTokens },
    stages: stageJson.map((s, i) => ({ ...s, trainable: stages[i].trainable, cache_key: keys[i] })),
    spans: spanJson,
  };
  return plan as unknown as Plan;
}
