/**
 * The JSON Schema of a plan (`schema/plan.schema.json`), generated from the family schemas so the two
 * cannot disagree. `npm run schema` rewrites the shipped file; a test checks it is current.
 */
import { families, type Family, type FieldSchema, type ValueKind } from "./families.js";

type Schema = Record<string, unknown>;

function fieldSchema(field: FieldSchema, nullable: boolean): Schema {
  let out: Schema;
  if (field.mmfmKind) {
    const kinds = typeof field.mmfmKind === "string" ? [field.mmfmKind] : field.mmfmKind;
    out = kinds.length === 1 ? { $ref: `#/definitions/${kinds[0]}` } : { anyOf: kinds.map((k) => ({ $ref: `#/definitions/${k}` })) };
  } else if (field.type === "array") {
    const items = field.items as FieldSchema;
    out = { type: "array", items: fieldSchema(items, false) };
    for (const k of ["minItems", "maxItems", "uniqueItems"] as const) if (field[k] !== undefined) out[k] = field[k];
  } else {
    out = { type: field.type };
    for (const k of ["enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] as const) if (field[k] !== undefined) out[k] = field[k];
  }
  if (field.description) out.description = field.description;
  if (nullable) return { anyOf: [out, { type: "null" }], description: field.description };
  return out;
}

function familySchema(family: Family, extra: Record<string, Schema> = {}, drop: readonly string[] = []): Schema {
  const properties: Record<string, Schema> = family.implicit ? {} : { family: { const: family.name } };
  properties.name = { type: "string", description: "the declaration this value came from" };
  for (const [name, field] of Object.entries(family.fields)) {
    if (drop.includes(name)) continue;
    const nullable = field.default === undefined && (field.mmfmDefault === undefined || name === "epochs");
    properties[name] = fieldSchema(field, nullable);
  }
  Object.assign(properties, extra);
  const required = Object.keys(properties).filter((k) => k !== "name");
  return { type: "object", additionalProperties: false, required, properties };
}

function kindUnion(kind: ValueKind, filter: (f: Family) => boolean = () => true): Schema {
  return { oneOf: families.filter((f) => f.kind === kind && !f.implicit && filter(f)).map((f) => familySchema(f)) };
}

const range = {
  type: "object",
  additionalProperties: false,
  required: ["file", "line", "column", "endLine", "endColumn"],
  properties: {
    file: { type: "string" },
    line: { type: "integer", minimum: 1 },
    column: { type: "integer", minimum: 1 },
    endLine: { type: "integer", minimum: 1 },
    endColumn: { type: "integer", minimum: 1 },
  },
};

const count = { type: "integer", minimum: 0 };
const hash = { type: "string", pattern: "^[0-9a-f]{64}$" };

export function planSchema(): Schema {
  const stage = families.find((f) => f.implicit && f.kind === "stage")!;
  const evaluation = families.find((f) => f.implicit && f.kind === "eval")!;
  const experiment = families.find((f) => f.implicit && f.kind === "experiment")!;
  const model = families.find((f) => f.implicit && f.kind === "model")!;
  const trainStage = familySchema(
    stage,
    {
      kind: { const: "stage" },
      name: { type: "string" },
      data: {
        type: "array",
        minItems: 1,
        items: { oneOf: [familySchema(families.find((f) => f.name === "llava_json")!), familySchema(families.find((f) => f.name === "synthetic_shapes")!)] },
      },
      trainable: { ...count, description: "parameters this stage updates" },
      cache_key: { ...hash, description: "hash of this stage's configuration chained with the keys of the stages before it" },
    },
  );
  (trainStage.required as string[]).push("name");
  const evalStage = familySchema(evaluation, {
    kind: { const: "eval" },
    name: { type: "string" },
    data: { type: "array", minItems: 1, items: { $ref: "#/definitions/evalDataset" } },
    trainable: { const: 0 },
    cache_key: hash,
  });
  (evalStage.required as string[]).push("name");
  const modelSchema = familySchema(model, {
    vision: { $ref: "#/definitions/vision" },
    connector: { $ref: "#/definitions/connector" },
    language: { $ref: "#/definitions/language" },
    params: {
      type: "object",
      additionalProperties: false,
      required: ["total", "vision", "connector", "language"],
      properties: { total: count, vision: count, connector: count, language: count },
    },
    image_tokens: { ...count, description: "tokens one image becomes in the language model's sequence" },
  });
  delete (modelSchema.properties as Schema).name;
  const cluster = familySchema(experiment, {}, ["model", "stages", "seed", "repeats"]);
  delete (cluster.properties as Schema).name;
  cluster.required = (cluster.required as string[]).filter((k) => k !== "name");
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://github.com/mmfm/mmfm/schema/plan.schema.json",
    title: "mmfm plan",
    description: "One variant of an mmfm experiment, fully resolved: written by `mmfmc build`, executed by the runtime.",
    type: "object",
    additionalProperties: false,
    required: ["version", "experiment", "id", "hash", "axes", "source", "seed", "cluster", "model", "stages", "spans"],
    properties: {
      version: { const: 1 },
      experiment: { type: "string" },
      id: { type: "string" },
      hash,
      axes: { type: "object", additionalProperties: { type: "string" } },
      source: {
        type: "object",
        additionalProperties: false,
        required: ["dir", "file"],
        properties: {
          dir: { type: "string", description: "the spec's folder, relative to this plan's folder" },
          file: { type: "string" },
        },
      },
      seed: { type: "integer" },
      cluster,
      model: modelSchema,
      stages: { type: "array", minItems: 1, items: { oneOf: [trainStage, evalStage] } },
      spans: { type: "object", additionalProperties: range },
    },
    definitions: {
      vision: kindUnion("vision"),
      connector: kindUnion("connector"),
      language: kindUnion("language"),
      dataset: kindUnion("dataset"),
      evalDataset: kindUnion("dataset", (f) => f.name !== "llava_json"),
      schedule: kindUnion("schedule"),
      optimizer: kindUnion("optimizer"),
    },
  };
}
