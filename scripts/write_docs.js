#!/usr/bin/env node
// Rewrites docs/families.md from the family schemas (run after `npm run build`).
import { writeFileSync } from "node:fs";
import { familiesMarkdown } from "../dist/compiler/doc.js";

writeFileSync(new URL("../docs/families.md", import.meta.url), familiesMarkdown());
console.error("wrote docs/families.md");
