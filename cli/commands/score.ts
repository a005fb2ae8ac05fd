// `mmfmc score BENCHMARK ITEMS.json [--json]`: scores an items file (predictions made anywhere) by
// the benchmark's official rules and prints the scores object (`--json`) or a table.

import { readFile } from "node:fs/promises";
import { flag } from "../args.js";
import type { Command } from "../command.js";
import { Exit, UsageError } from "../exit.js";
import type { Output } from "../output.js";
import { benchmarkName, benchmarkNames, ItemError, parseItemsFile, type MmeItem } from "../../runtime/benchmarks/items.js";
import { mmeMissingSubtasks } from "../../runtime/benchmarks/mme.js";
import { scoreNotes, scoreValidated } from "../../runtime/benchmarks/score.js";
import { renderTables, summarizeScores } from "../../runtime/benchmarks/summary.js";

export const command: Command = {
  name: "score",
  usage: "mmfmc score BENCHMARK ITEMS.json [--json]",
  help: `Scores the predictions in ITEMS.json by the benchmark's official rules.

BENCHMARK is one of ${benchmarkNames.join(", ")}.
ITEMS.json is { "benchmark", "description", "items": [...] }, one item per question with the
model's raw text in \`prediction\` (docs/evaluation.md lists the fields of each benchmark).

Prints a table of the headline numbers; with --json, the scores object
{ "benchmark", "notes", "expected" } with every number and the per-question detail.

options:
  --json   print the scores object as JSON on stdout`,
  options: { json: { value: false } },

  async run(args, out: Output): Promise<number> {
    const [name, file, ...extra] = args.positionals;
    if (name === undefined || file === undefined) throw new UsageError("`mmfmc score` needs BENCHMARK and ITEMS.json");
    if (extra.length > 0) throw new UsageError(`unexpected argument \`${extra[0]}\``);
    const benchmark = benchmarkName(name);
    if (!benchmark) throw new UsageError(`unknown benchmark \`${name}\`; expected one of ${benchmarkNames.map((b) => `\`${b}\``).join(", ")}`);

    const error = (message: string): number => {
      out.info(`${out.paint("red", "error")}: ${message}`);
      return Exit.InputErrors;
    };
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return error(`${file}: cannot read the items file (${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message})`);
    }

    let scores;
    let count: number;
    try {
      const parsed = parseItemsFile(benchmark, text);
      if (parsed.declared !== undefined && benchmarkName(parsed.declared) !== benchmark) {
        out.info(`${out.paint("yellow", "warning")}: ${file}: the file says benchmark \`${parsed.declared}\`; scoring it as \`${benchmark}\``);
      }
      if (benchmark === "mme") {
        const missing = mmeMissingSubtasks(parsed.items as MmeItem[]);
        if (missing.length > 0) out.info(`${out.paint("yellow", "warning")}: ${file}: MME subtasks missing (the totals cover only the others): ${missing.join(", ")}`);
      }
      count = parsed.items.length;
      scores = scoreValidated(benchmark, parsed.items);
    } catch (e) {
      if (e instanceof ItemError) return error(`${file}: ${e.message}`);
      throw e;
    }

    if (flag(args, "json")) {
      out.data(JSON.stringify({ benchmark, notes: scoreNotes[benchmark], expected: scores }, null, 2));
    } else {
      out.data(renderTables(summarizeScores(benchmark, scores)));
    }
    out.info(`${out.paint("green", "✓")} scored ${count} ${benchmark} item${count === 1 ? "" : "s"} (${file})`);
    return Exit.Ok;
  },
};
