// `mmfmc collect EXPORT_DIR [--results DIR] [--data DIR] [--json]`: scores the answers files the
// exported evaluation jobs left and writes the same report as a local run, in the export folder.

import { relative, resolve } from "node:path";
import { flag, stringOption } from "../args.js";
import type { Command } from "../command.js";
import { Exit, UsageError } from "../exit.js";

export const command: Command = {
  name: "collect",
  usage: "mmfmc collect EXPORT_DIR [--results DIR] [--data DIR] [--baseline ID] [--json]",
  help: `Scores what the exported evaluation jobs wrote and writes the same report as \`mmfmc run\`
(report.md, report.csv, report.json) in each experiment's export folder, and prints report.md.

EXPORT_DIR is the folder \`mmfmc export --out\` wrote, or one experiment's folder in it. The variants
are read from VARIANT/plan.json; the answers of each benchmark (LLaVA's answers file, one JSON line
per question) from RESULTS/VARIANT/N-STAGE/NAME.jsonl, N the stage's position from 1 and NAME the
dataset's name. They are scored by mmfm's scorers (the official rules) with the ground truth in
LLaVA's playground/data/eval layout. A benchmark without a complete answers file is listed as
pending; VQAv2 test-dev (no public answers) gets the EvalAI upload file instead of a score.

options:
  --results DIR   the RESULTS folder of the exported scripts (default: EXPERIMENT/results, env.sh's)
  --data DIR      the folder the benchmarks' paths start from: the one holding playground/data/eval
                  (default: what the export used: its --data, else the spec's folder)
  --baseline ID   the variant the report compares against (default: the first)
  --json          print {"variants":[{"id","axes","metrics","pending"}]} on stdout`,
  options: { results: { value: true }, data: { value: true }, baseline: { value: true }, json: { value: false } },
  async run(args, out) {
    const [dir, ...extra] = args.positionals;
    if (!dir) throw new UsageError("`mmfmc collect` needs the export folder, e.g. `mmfmc collect export`");
    if (extra.length) throw new UsageError(`unexpected argument \`${extra[0]}\``);
    const run = await import("../../runtime/run/index.js");
    try {
      const experiments = [];
      const reports: string[] = [];
      for (const folder of run.experimentFolders(resolve(dir))) {
        const collected = await run.collectExperiment(folder, { results: stringOption(args, "results"), data: stringOption(args, "data") });
        const report = run.buildReport(collected.source, { experiment: collected.name, baseline: stringOption(args, "baseline"), order: collected.variants.map((v) => v.id) });
        const files = run.writeReport(collected.source, report);
        reports.push(run.renderMarkdown(report));
        experiments.push(collected);
        const scored = collected.variants.reduce((n, v) => n + v.benchmarks.filter((b) => b.status !== "pending").length, 0);
        const pending = collected.variants.flatMap((v) => v.benchmarks.filter((b) => b.status === "pending").map((b) => `${v.folder} ${b.name}: ${b.detail}`));
        for (const p of pending) out.info(`${out.paint("yellow", "pending")} ${p}`);
        for (const v of collected.variants) {
          for (const b of v.benchmarks.filter((x) => x.status === "submission")) out.info(`${v.folder} ${b.name}: no ground truth (VQAv2 test-dev); submission written to ${b.detail}`);
        }
        const where = relative(process.cwd(), files[0]) || files[0];
        const from = relative(process.cwd(), collected.results) || collected.results;
        out.info(`${out.paint("green", "✓")} ${collected.name}: ${scored} benchmark result${scored === 1 ? "" : "s"} collected from ${from}, ${pending.length} pending; report ${where}`);
      }
      if (flag(args, "json")) out.data(JSON.stringify(run.collectJson(experiments), null, 2));
      else for (const r of reports) out.data(r);
      return Exit.Ok;
    } catch (error) {
      if (run.isInputError(error)) {
        out.info(`${out.paint("red", "error")}: ${error.message}`);
        return Exit.InputErrors;
      }
      throw error;
    }
  },
};
