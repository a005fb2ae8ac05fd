import { flag } from "../args.js";
import type { Command } from "../command.js";
import { Exit } from "../exit.js";
import { compileSpec, jsonDiagnostics, printDiagnostics, specOptions, specPath, summaryLine } from "../spec.js";

export const command: Command = {
  name: "check",
  usage: "mmfmc check FILE [--json] [--set PATH=VALUE]... [--only PATH=VALUE]...",
  help: `Parses and checks a spec and its imports, expands its ablation grids, and reports every error
and warning with its place and a fix. Nothing is written.

FILE may be \`-\` to read the spec from standard input (imports resolve from the working folder).

options:
  --json              print {"diagnostics":[...]} on stdout instead of the rendered diagnostics
  --set PATH=VALUE    override a value before checking, e.g. --set finetune.lr=1e-5 (repeatable)
  --only PATH=VALUE   keep the variants whose axis PATH has this label or value (repeatable)

exit status: 0 no errors (warnings allowed), 1 errors, 2 bad usage, 70 internal error`,
  options: specOptions,
  async run(args, out) {
    const file = specPath(args, "check");
    const result = await compileSpec(file, args);
    if (flag(args, "json")) {
      out.data(JSON.stringify({ diagnostics: jsonDiagnostics(result, file) }, null, 2));
    } else {
      printDiagnostics(result, out);
      const variants = result.experiments.reduce((n, e) => n + e.variants.length, 0);
      const experiments = result.experiments.length;
      summaryLine(result, file, out, experiments ? `${experiments} experiment${experiments === 1 ? "" : "s"}, ${variants} variant${variants === 1 ? "" : "s"}` : "no experiments");
    }
    return result.diagnostics.hasErrors ? Exit.InputErrors : Exit.Ok;
  },
};
