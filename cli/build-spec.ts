/** Building a spec's output folder: plans, graph modules, index and grid.yaml per experiment. */
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Compilation } from "../compiler/pipeline.js";
import { variantFolder } from "../plan/names.js";
import type { Plan } from "../plan/plan.js";
import { writeTree, type WriteReport } from "../runtime/run/files.js";

export interface BuiltExperiment extends WriteReport {
  readonly name: string;
  readonly dir: string;
  readonly plans: readonly Plan[];
}

export class InternalError extends Error {}

export async function buildOutput(result: Compilation, specPath: string, outDir: string): Promise<BuiltExperiment[]> {
  const { buildPlan } = await import("../compiler/plan.js");
  const { emit, EmitError } = await import("../compiler/emit.js");
  const { validatePlan } = await import("../plan/io.js");
  const { packageRoot } = await import("../core/package_root.js");
  const built: BuiltExperiment[] = [];
  for (const experiment of result.experiments) {
    const dir = resolve(outDir, experiment.name);
    const plans = experiment.variants.map((v) => {
      const plan = buildPlan(v, {
        specPath: resolve(specPath),
        planDir: join(dir, variantFolder(v.id)),
        stdDir: join(packageRoot(), "std"),
      });
      const problems = validatePlan(plan);
      if (problems.length) throw new InternalError(`the plan of ${v.id} does not match schema/plan.schema.json:\n  ${problems.slice(0, 8).join("\n  ")}`);
      return plan;
    });
    let files;
    try {
      const unchanged = (path: string, text: string) => {
        const target = join(dir, path);
        return existsSync(target) && readFileSync(target, "utf8") === text;
      };
      files = emit({ experiment: experiment.name, source: relative(process.cwd(), resolve(specPath)) || specPath, axes: experiment.axes, plans }, { unchanged });
    } catch (error) {
      if (error instanceof EmitError) throw new InternalError(error.message);
      throw error;
    }
    const report = writeTree(dir, files);
    built.push({ name: experiment.name, dir, plans, ...report });
  }
  return built;
}
