import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { flag, stringOption } from "../args.js";
import type { Command } from "../command.js";
import { Exit, UsageError } from "../exit.js";

export const command: Command = {
  name: "report",
  usage: "mmfmc report RUNS/EXPERIMENT [--baseline ID] [--json]",
  help: `Re-renders the results report of a runs folder from what the runs stored: report.md (one row per
variant, every metric, the difference against the baseline, the average effect of each axis),
report.csv, report.json and loss.svg.

options:
  --baseline ID   the variant to compare against (default: the first)
  --json          also print report.json on stdout`,
  options: { baseline: { value: true }, json: { value: false } },
  async run(args, out) {
    const [dir, ...extra] = args.positionals;
    if (!dir) throw new UsageError("`mmfmc report` needs a runs folder, e.g. `mmfmc report runs/llava_gemma_tiny`");
    if (extra.length) throw new UsageError(`unexpected argument \`${extra[0]}\``);
    if (!existsSync(dir)) throw new UsageError(`no such folder: ${dir}`);
    const run = await import("../../runtime/run/index.js");
    const store = new run.RunStore(resolve(dir));
    try {
      const report = run.buildReport(store, { experiment: basename(resolve(dir)), baseline: stringOption(args, "baseline") });
      const files = run.writeReport(store, report);
      if (flag(args, "json")) out.data(JSON.stringify(report, null, 2));
      else out.data(run.renderMarkdown(report));
      out.info(`${out.paint("green", "✓")} wrote ${files.map((f) => basename(f)).join(", ")} in ${dir}`);
      return Exit.Ok;
    } catch (error) {
      if (error instanceof run.ReportError) {
        out.info(`${out.paint("red", "error")}: ${error.message}`);
        return Exit.InputErrors;
      }
      throw error;
    }
  },
};
