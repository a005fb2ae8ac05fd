/**
 * Reading and validating plans against the shipped schema (`schema/plan.schema.json`). Every plan
 * written by `mmfmc build` and every plan read by the runtime goes through `validatePlan`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { packageRoot } from "../core/package_root.js";
import type { Plan } from "./plan.js";

let validator: ValidateFunction | undefined;

export function planSchemaPath(): string {
  return join(packageRoot(), "schema", "plan.schema.json");
}

function compiled(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(planSchemaPath(), "utf8")) as object;
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validator;
}

/** The problems of a plan against the schema, as `/pointer: message` lines; empty when valid. */
export function validatePlan(plan: unknown): string[] {
  const validate = compiled();
  if (validate(plan)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message ?? "invalid"}${e.params && "allowedValue" in e.params ? ` (${String(e.params.allowedValue)})` : ""}`);
}

export class PlanError extends Error {}

/** Reads a plan.json and checks it against the schema; a bad plan is an error naming the file. */
export function readPlan(path: string): Plan {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new PlanError(`cannot read plan ${path}: ${(error as Error).message}`);
  }
  const problems = validatePlan(data);
  if (problems.length) throw new PlanError(`${path} is not a valid plan:\n  ${problems.slice(0, 10).join("\n  ")}`);
  return data as Plan;
}
