/**
 * Configure: a variant's components -> its configuration, plain JSON with every default filled in:
 * the model with its inferred connector widths, parameter counts and image tokens, and the stages
 * with their data, schedule, optimizer and derived steps. This JSON is what the content hash covers
 * and what the plan holds. The checks that need the whole model (connector widths, image tokens
 * against max_length) are check.ts's, called here because only here are both sides known.
 */
import type { Json, JsonObject } from "../core/json.js";
import { checkImageTokensFit, checkModelWidths, checkSchema, checkStageFields } from "./check.js";
import { Diagnostics } from "../core/diagnostics.js";
import { M } from "../core/messages.js";
import type { Evaluator } from "./evaluate.js";
import type { FieldSchema } from "./families.js";
import { imageTokens, loraParameterCount, parameterCount } from "./params.js";
import type { Span } from "../core/source.js";
import type { Component, FieldEntry, Value } from "./values.js";


/**
 * Where each value of a resolved configuration came from, by JSON pointer. A variant's map holds its
 * own entries and includes, under a prefix, the maps of the model and stages it shares with other
 * variants (never copied: a grid of 100,000 variants holds each shared map once).
 */
export class SpanMap {
  private readonly own = new Map<string, Span>();
  private readonly layers: { readonly prefix: string; readonly spans: SpanMap }[] = [];

  set(pointer: string, span: Span): void {
    this.own.set(pointer, span);
  }

  delete(pointer: string): void {
    this.own.delete(pointer);
  }

  /** Every entry of `spans`, with `prefix` before its pointers (`/stages/0`), shared rather than copied. */
  include(prefix: string, spans: SpanMap): void {
    this.layers.push({ prefix, spans });
  }

  has(pointer: string): boolean {
    return this.get(pointer) !== undefined;
  }

  get(pointer: string): Span | undefined {
    const own = this.own.get(pointer);
    if (own) return own;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const { prefix, spans } = this.layers[i];
      if (pointer === prefix || prefix === "" || pointer.startsWith(prefix + "/")) {
        const found = spans.get(pointer.slice(prefix.length));
        if (found) return found;
      }
    }
    return undefined;
  }

  /** Every pointer, each once. */
  keys(): string[] {
    const all = new Set<string>();
    const collect = (map: SpanMap, prefix: string) => {
      for (const layer of map.layers) collect(layer.spans, prefix + layer.prefix);
      for (const k of map.own.keys()) all.add(prefix + k);
    };
    collect(this, "");
    return [...all];
  }
}

export interface ModelConfig {
  readonly json: JsonObject;
  readonly params: { total: number; vision: number; connector: number; language: number };
  readonly imageTokens: number;
}

export interface StageConfig {
  readonly name: string;
  readonly kind: "stage" | "eval";
  readonly json: JsonObject;
  readonly trainable: number;
}

export interface VariantConfig {
  /** `{ seed, devices, device_memory, zero, model, stages }` */
  readonly json: JsonObject;
  /** where each value came from, by JSON pointer into `json` */
  readonly spans: SpanMap;
  readonly model: ModelConfig;
  readonly stages: readonly StageConfig[];
}

/** A resolution with its spans, cached per component (variants share most of their components). */
interface Cached<T> {
  readonly result: T | undefined;
  /** pointers relative to where the result sits in the variant */
  readonly spans: SpanMap;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether a component and the components it holds pass their schemas (errors are reported elsewhere). */
const validity = new WeakMap<Component, boolean>();

export function schemaValid(c: Component): boolean {
  let ok = validity.get(c);
  if (ok === undefined) {
    validity.set(c, true); // cycles cannot happen, but stay safe
    ok = checkSchema(c, new Diagnostics());
    for (const f of c.fields.values()) {
      const values = f.value.type === "list" ? f.value.items : [f.value];
      for (const v of values) if (v.type === "component" && !schemaValid(v.component)) ok = false;
    }
    validity.set(c, ok);
  }
  return ok;
}

export class Configurer {
  constructor(
    private readonly evaluator: Evaluator,
    private readonly diagnostics: Diagnostics,
  ) {}

  private ok = true;

  /** The JSON of a value; components become their resolved fields. */
  private json(value: Value, schema: FieldSchema | undefined, pointer: string, spans: SpanMap): Json {
    spans.set(pointer, value.span);
    switch (value.type) {
      case "int":
        if (value.value > SAFE || value.value < -SAFE) {
          this.diagnostics.report(M.integerTooLarge, { value: value.value }, { span: value.span });
          this.ok = false;
          return null;
        }
        return Number(value.value);
      case "float":
        return value.value;
      case "string":
        return value.value;
      case "bool":
        return value.value;
      case "symbol":
        return value.name;
      case "list": {
        const items = schema?.type === "array" ? (schema.items as FieldSchema) : schema?.mmfmSingleOk ? schema : undefined;
        return value.items.map((v, i) => this.json(v, items, `${pointer}/${i}`, spans));
      }
      case "record": {
        const out: JsonObject = {};
        for (const e of value.entries) out[e.key] = this.json(e.value, undefined, `${pointer}/${e.key}`, spans);
        return out;
      }
      case "component": {
        const resolved = this.component(value.component, pointer, spans);
        if (schema?.mmfmSingleOk && schema.type === "array") return [resolved];
        return resolved;
      }
      case "error":
        this.ok = false;
        return null;
    }
  }

  /**
   * Every field of a component's family, set or defaulted, in schema order. `computed` supplies the
   * defaults that depend on other fields or on the model.
   */
  component(c: Component, pointer: string, spans: SpanMap, computed: Record<string, Json> = {}): JsonObject {
    spans.set(pointer, c.span);
    const out: JsonObject = { family: c.family.name };
    const declared = c.name ?? c.base?.displayName;
    if (declared !== undefined) out.name = declared;
    for (const [name, schema] of Object.entries(c.family.fields)) {
      const entry = c.field(name);
      const at = `${pointer}/${name}`;
      if (entry) {
        out[name] = this.json(entry.value, schema, at, spans);
      } else if (name in computed) {
        out[name] = computed[name];
      } else if (schema.mmfmKind && typeof schema.default === "string") {
        const value = this.evaluator.defaultValue(schema.default, schema, c.span);
        out[name] = this.json(value, schema, at, spans);
        spans.delete(at);
      } else if (schema.default !== undefined) {
        out[name] = schema.default as Json;
      } else {
        out[name] = null;
      }
    }
    return out;
  }

  /** Defaults of a vision backbone that depend on its other fields. */
  private visionComputed(c: Component): Record<string, Json> {
    const get = (name: string) => {
      const e = c.field(name);
      if (e?.value.type === "int") return Number(e.value.value);
      return c.family.fields[name]?.default as number;
    };
    const width = get("width");
    const image = get("image");
    const computed: Record<string, Json> = {};
    if (c.family.name === "dinov2") {
      const ffn = c.field("ffn")?.value;
      const swiglu = ffn?.type === "string" && ffn.value === "swiglu";
      computed.mlp = swiglu ? Math.floor((Math.floor((width * 4 * 2) / 3) + 7) / 8) * 8 : 4 * width;
      computed.resize = Math.floor((image * 8) / 7);
      computed.position_image = image;
    } else {
      computed.mlp = 4 * width;
      computed.resize = image;
    }
    return computed;
  }

  private readonly models = new WeakMap<Component, Cached<ModelConfig>>();
  private readonly stages = new WeakMap<Component, Map<ModelConfig, Cached<StageConfig>>>();

  /** The model with its spans under `/model` (into `spans`, when given), cached per model component. */
  model(model: Component, spans?: SpanMap): ModelConfig | undefined {
    let cached = this.models.get(model);
    if (!cached) {
      const own = new SpanMap();
      cached = { result: this.configureModel(model, own), spans: own };
      this.models.set(model, cached);
    }
    spans?.include("", cached.spans);
    return cached.result;
  }

  private configureModel(model: Component, spans: SpanMap): ModelConfig | undefined {
    this.ok = true;
    const entry = (name: string) => model.field(name);
    const part = (name: string): Component | undefined => {
      const v = entry(name)?.value;
      return v?.type === "component" ? v.component : undefined;
    };
    const vision = part("vision");
    const connector = part("connector");
    const language = part("language");
    if (!vision || !connector || !language) return undefined;
    if (vision.kind !== "vision" || connector.kind !== "connector" || language.kind !== "language") return undefined;
    if (!schemaValid(model)) return undefined;
    const visionJson = this.component(vision, "/model/vision", spans, this.visionComputed(vision));
    const languageJson = this.component(language, "/model/language", spans, languageComputed(language));
    const vWidth = visionJson.width as number;
    const lWidth = languageJson.width as number;
    if (!checkModelWidths({ vision, connector, language, connectorSpan: entry("connector")!.value.span }, { vision: vWidth, language: lWidth }, this.diagnostics)) {
      this.ok = false;
    }
    const connectorJson = this.component(connector, "/model/connector", spans, { in: vWidth, out: lWidth });
    connectorJson.in = vWidth;
    connectorJson.out = lWidth;
    const out: JsonObject = { vision: visionJson, connector: connectorJson, language: languageJson };
    const defaults: Record<string, Json> = { template: language.family.name === "llama" ? "vicuna_v1" : "gemma" };
    for (const name of ["template", "image_token"]) {
      const e = entry(name);
      out[name] = e ? this.json(e.value, model.family.fields[name], `/model/${name}`, spans) : (defaults[name] ?? (model.family.fields[name].default as Json));
    }
    if (!this.ok) return undefined;
    const params = {
      vision: parameterCount(vision.family.name, visionJson),
      connector: parameterCount(connector.family.name, connectorJson),
      language: parameterCount(language.family.name, languageJson),
      total: 0,
    };
    params.total = params.vision + params.connector + params.language;
    return { json: out, params, imageTokens: imageTokens(vision.family.name, visionJson) };
  }

  /** A stage in the context of a model, with its spans under `pointer`; cached per (stage, model). */
  stage(stage: Component, model: ModelConfig, pointer: string, spans: SpanMap): StageConfig | undefined {
    let byModel = this.stages.get(stage);
    if (!byModel) this.stages.set(stage, (byModel = new Map()));
    let cached = byModel.get(model);
    if (!cached) {
      const own = new SpanMap();
      cached = { result: this.configureStage(stage, model, own), spans: own };
      byModel.set(model, cached);
    }
    spans.include(pointer, cached.spans);
    return cached.result;
  }

  private configureStage(stage: Component, model: ModelConfig, spans: SpanMap): StageConfig | undefined {
    const pointer = "";
    this.ok = true;
    if (!schemaValid(stage)) return undefined;
    const kind = stage.kind === "eval" ? "eval" : "stage";
    const computed: Record<string, Json> = {};
    if (kind === "stage") {
      const batch = intOf(stage.field("batch")) ?? (stage.family.fields.batch.default as number);
      computed.micro_batch = batch;
      computed.template = model.json.template;
      computed.aspect = (model.json.vision as JsonObject).aspect;
    }
    const fields = this.component(stage, pointer, spans, computed);
    delete fields.family;
    fields.name = stage.displayName;
    const json: JsonObject = { kind, ...fields };
    if (kind === "stage") {
      if (json.epochs === null && json.steps === null) json.epochs = 1;
      if (json.steps === null) json.steps = derivedSteps(json);
      if (!checkImageTokensFit(stage, model.imageTokens, json.max_length as number, this.diagnostics)) this.ok = false;
      if (!checkStageFields(stage, this.diagnostics)) this.ok = false;
    }
    if (!this.ok) return undefined;
    return { name: stage.displayName, kind, json, trainable: trainableCount(json, model) };
  }

  /** The whole variant: model, stages, and the experiment's own fields. */
  variant(experiment: Component): VariantConfig | undefined {
    const spans = new SpanMap();
    const modelValue = experiment.field("model")?.value;
    const stagesValue = experiment.field("stages")?.value;
    if (modelValue?.type !== "component" || stagesValue?.type !== "list") return undefined;
    if (!checkSchema(experiment, new Diagnostics())) return undefined;
    const model = this.model(modelValue.component, spans);
    if (!model) return undefined;
    const stages: StageConfig[] = [];
    let failed = false;
    stagesValue.items.forEach((item, i) => {
      if (item.type !== "component" || (item.component.kind !== "stage" && item.component.kind !== "eval")) {
        failed = true;
        return;
      }
      const s = this.stage(item.component, model, stagePointer(i), spans);
      if (s) stages.push(s);
      else failed = true;
    });
    if (failed) return undefined;
    const config: JsonObject = {};
    for (const [name, schema] of Object.entries(experiment.family.fields)) {
      // `repeats` is the grid's (an implicit `seed` axis), not part of a variant's configuration
      if (name === "model" || name === "stages" || name === "repeats") continue;
      const e = experiment.field(name);
      config[name] = e ? this.json(e.value, schema, `/${name}`, spans) : ((schema.default as Json) ?? null);
    }
    config.model = model.json;
    config.stages = stages.map((s) => s.json);
    return { json: config, spans, model, stages };
  }
}

/** `/stages/I`, one string per index for every variant (a grid of 100,000 variants holds each once). */
const stagePointers: string[] = [];
function stagePointer(i: number): string {
  return (stagePointers[i] ??= `/stages/${i}`);
}

/**
 * Parameters a stage updates: the whole of each component in `train`, except that with `lora` the
 * language model contributes only its adapters (the frozen weights they sit beside do not count).
 */
function trainableCount(stage: JsonObject, model: ModelConfig): number {
  if (stage.kind !== "stage") return 0;
  const train = (stage.train as string[] | null) ?? [];
  return train.reduce((sum, part) => {
    if (part === "language" && stage.lora === true) {
      const language = model.json.language as JsonObject;
      return sum + loraParameterCount(language.family as string, language, stage.lora_r as number);
    }
    return sum + (model.params[part as "vision" | "connector" | "language"] ?? 0);
  }, 0);
}

function intOf(e: FieldEntry | undefined): number | undefined {
  return e?.value.type === "int" ? Number(e.value.value) : undefined;
}

/** Defaults of a language backbone that depend on its other fields: head_dim (width / heads); Llama's kv_heads (heads). */
function languageComputed(language: Component): Record<string, Json> {
  const get = (name: string) => intOf(language.field(name)) ?? (language.family.fields[name]?.default as number);
  const heads = get("heads");
  const computed: Record<string, Json> = { head_dim: heads > 0 ? Math.floor(get("width") / heads) : 0 };
  if (language.family.name === "llama") computed.kv_heads = heads;
  return computed;
}

/**
 * Optimizer steps of a stage from its dataset size, as the Hugging Face Trainer counts them on one
 * device: ceil(epochs × max(1, floor(ceil(N / micro_batch) / accumulation))), N the sum of the
 * datasets' sizes. Null when a size is unknown.
 */
export function derivedSteps(stage: JsonObject): number | null {
  // several datasets are trained on as one of the summed size, with or without a `mixture`
  const data = (stage.data as JsonObject[] | null) ?? [];
  const sizes = data.map((d) => (d && typeof d.size === "number" ? d.size : null));
  if (sizes.length === 0 || sizes.includes(null)) return null;
  const size = (sizes as number[]).reduce((a, b) => a + b, 0);
  const batch = stage.batch as number;
  const micro = (stage.micro_batch as number) || batch;
  const accumulation = Math.max(1, Math.floor(batch / micro));
  const batches = Math.ceil(size / micro);
  const perEpoch = Math.max(1, Math.floor(batches / accumulation));
  return Math.ceil((stage.epochs as number) * perEpoch);
}
