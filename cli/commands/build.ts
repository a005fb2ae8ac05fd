import { join, relative, resolve } from "node:path";
import { flag, stringOption } from "../args.js";
import type { Command } from "../command.js";
import { Exit } from "../exit.js";
import { compileSpec, printDiagnostics, specOptions, specPath } from "../spec.js";
import { sameContent, writeTree } from "../../core/files.js";

export const command: Command = {
  name: "build",
  usage: "mmfmc build FILE [--out DIR] [--json] [--set PATH=VALUE]... [--only PATH=VALUE]...",
  help: `Checks the spec, expands its grids, and writes for every experiment:
  DIR/EXPERIMENT/grid.yaml             the variants, axes, ids, hashes and parameter counts
  DIR/EXPERIMENT/index.ts              every variant's graph module, typed, by id
  DIR/EXPERIMENT/VARIANT/graph.ts      the variant built through the typed graph API (mmfm/runtime)
  DIR/EXPERIMENT/VARIANT/plan.json     the resolved plan (schema/plan.schema.json)
Unchanged files are not rewritten; folders of variants that no longer exist are removed.

options:
  --out DIR           output folder (default: build)
  --json              print what was written as JSON on stdout
  --set PATH=VALUE    override a value first (repeatable)
  --only PATH=VALUE   build only the variants whose axis PATH has this label or value (repeatable)`,
  options: { ...specOptions, out: { value: true, short: "o" } },
  async run(args, out) {
    const started = performance.now();
    const file = specPath(args, "build");
    const outDir = stringOption(args, "out") ?? "build";
    const result = await compileSpec(file, args);
    printDiagnostics(result, out);
    if (result.diagnostics.hasErrors) return Exit.InputErrors;
    const { emitExperiments, planExperiments } = await import("../../compiler/pipeline.js");
    const planned = planExperiments(result, { specPath: file, outDir });
    const source = relative(process.cwd(), resolve(file)) || file;
    const emitted = await emitExperiments(planned, { source, unchanged: (dir, path, text) => sameContent(join(dir, path), text) });
    const built = emitted.map((e) => ({ ...e, ...writeTree(e.dir, e.files) }));
    if (flag(args, "json")) {
      out.data(
        JSON.stringify(
          { experiments: built.map((b) => ({ name: b.name, dir: b.dir, variants: b.plans.map((p) => p.id), written: b.written, unchanged: b.unchanged, removed: b.removed })) },
          null,
          2,
        ),
      );
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    for (const b of built) {
      const parts = [`${b.written.length} written`, `${b.unchanged.length} unchanged`];
      if (b.removed.length) parts.push(`${b.removed.length} stale variant${b.removed.length === 1 ? "" : "s"} removed`);
      out.info(`${out.paint("green", "✓")} ${b.plans.length} variant${b.plans.length === 1 ? "" : "s"} built in ${seconds}s (${relative(process.cwd(), b.dir) || b.dir}): ${parts.join(", ")}`);
    }
    if (built.length === 0) out.info(`${file} declares no experiment; nothing to build`);
    return Exit.Ok;
  },
};
