#!/usr/bin/env node
// Rewrites schema/plan.schema.json from the family schemas (run after `npm run build`).
import { writeFileSync } from "node:fs";
import { planSchema } from "../dist/compiler/plan_schema.js";

writeFileSync(new URL("../schema/plan.schema.json", import.meta.url), JSON.stringify(planSchema(), null, 2) + "\n");
console.error("wrote schema/plan.schema.json");
