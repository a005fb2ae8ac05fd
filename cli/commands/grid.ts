import { flag } from "../args.js";
import type { Command } from "../command.js";
import { Exit } from "../exit.js";
import { compact, grouped, table } from "../table.js";
import { compileSpec, jsonDiagnostics, printDiagnostics, specOptions, specPath } from "../spec.js";
import type { ExperimentGrid } from "../../compiler/grid.js";
import { variantMemory, type MemoryEstimate, type StageMemory } from "../../compiler/memory.js";

/** A stage's per-device memory estimate on the cluster, in bytes (`--json`). */
function memoryJson(m: StageMemory) {
  const e: MemoryEstimate = m.estimate;
  return {
    total: e.total,
    params: e.params,
    grads: e.grads,
    optimizer: e.optimizer,
    activations: e.activations,
    available: e.available,
    fits: e.fits,
    fix: m.fix ? { change: m.fix.change, total: m.fix.estimate.total } : null,
  };
}

/** The `--json` shape of LANGUAGE.md §8 (keys may be added, never removed or renamed). */
export function gridJson(experiments: readonly ExperimentGrid[]) {
  return experiments.map((e) => ({
    name: e.name,
    axes: e.axes,
    variants: e.variants.map((v) => {
      const memory = variantMemory(v);
      return {
        id: v.id,
        hash: v.hash,
        axes: v.axes,
        params: v.config.model.params,
        imageTokens: v.config.model.imageTokens,
        stages: v.config.stages.map((s, i) => ({
          name: s.name,
          kind: s.kind,
          trainable: s.trainable,
          steps: s.kind === "stage" ? (s.json.steps as number | null) : null,
          memory: memoryJson(memory[i]),
        })),
      };
    }),
  }));
}

/** `60.2G`, or `12M` below a GiB (the tiny presets). */
function bytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)}G` : `${Math.ceil(n / 1024 ** 2)}M`;
}

export const command: Command = {
  name: "grid",
  usage: "mmfmc grid FILE [--json] [--exact] [--set PATH=VALUE]... [--only PATH=VALUE]...",
  help: `Prints every variant of each experiment in the spec: its id, axis labels, parameter counts
(total, per component, and trainable per stage), image tokens per image, and each stage's memory
per device on the cluster (the experiment's \`devices\`, \`device_memory\` and \`zero\`; a stage that
will not fit is a warning naming the smallest change that makes it fit).

options:
  --json              print {"experiments":[{"name","variants":[{"id","hash","axes","params",
                      "stages":[{"name","kind","trainable","memory"}]}]}]} on stdout
  --exact             print exact parameter counts instead of 2.82B-style ones
  --set PATH=VALUE    override a value first, e.g. --set seed=7 (repeatable)
  --only PATH=VALUE   keep the variants whose axis PATH has this label or value (repeatable)`,
  options: { ...specOptions, exact: { value: false } },
  async run(args, out) {
    const file = specPath(args, "grid");
    const result = await compileSpec(file, args);
    const failed = result.diagnostics.hasErrors;
    if (!failed) {
      const { checkMemory } = await import("../../compiler/pipeline.js");
      checkMemory(result);
    }
    if (flag(args, "json")) {
      if (failed) printDiagnostics(result, out);
      const doc: Record<string, unknown> = { experiments: failed ? [] : gridJson(result.experiments) };
      if (result.diagnostics.items.length) doc.diagnostics = jsonDiagnostics(result, file);
      out.data(JSON.stringify(doc, null, 2));
      return failed ? Exit.InputErrors : Exit.Ok;
    }
    printDiagnostics(result, out);
    if (failed) return Exit.InputErrors;
    const n = flag(args, "exact") ? grouped : compact;
    if (result.experiments.length === 0) out.info(`${file} declares no experiment`);
    for (const e of result.experiments) {
      const header = ["id", ...e.axes, "total", "vision", "connector", "language", "img tok", "trainable per stage", "memory/device per stage"];
      const rows = e.variants.map((v) => [
        v.id,
        ...e.axes.map((a) => v.axes[a] ?? "-"),
        n(v.config.model.params.total),
        n(v.config.model.params.vision),
        n(v.config.model.params.connector),
        n(v.config.model.params.language),
        String(v.config.model.imageTokens),
        v.config.stages.map((s) => `${s.name} ${s.kind === "eval" ? "(eval)" : n(s.trainable)}`).join(", "),
        variantMemory(v)
          .map((m, i) => `${v.config.stages[i].name} ${bytes(m.estimate.total)}${m.estimate.fits ? "" : "!"}`)
          .join(", "),
      ]);
      const numeric = new Set([1, 2, 3, 4, 5].map((i) => e.axes.length + i));
      const repeats = e.repeats ? ` (each configuration with ${e.repeats} seeds: \`repeats = ${e.repeats}\`, axis \`seed\`)` : "";
      out.data(`experiment ${e.name}: ${e.variants.length} variant${e.variants.length === 1 ? "" : "s"}${repeats}\n\n${table(header, rows, numeric)}\n`);
    }
    return Exit.Ok;
  },
};
