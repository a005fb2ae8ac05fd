/** What the spec-reading commands share: options, compiling, and printing diagnostics. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { listOption, type OptionSpec, type ParsedArgs } from "./args.js";
import { UsageError } from "./exit.js";
import type { Output } from "./output.js";
import type { Compilation, CompileOptions } from "../compiler/pipeline.js";
import { countSummary, jsonDiagnostic, renderDiagnostic } from "../core/render.js";

export const specOptions: OptionSpec = {
  json: { value: false },
  set: { value: true, repeat: true },
  only: { value: true, repeat: true },
};

export function specPath(args: ParsedArgs, command: string): string {
  const [file, ...extra] = args.positionals;
  if (!file) throw new UsageError(`\`mmfmc ${command}\` needs a spec file, e.g. \`mmfmc ${command} examples/llava-gemma.mmfm\``);
  if (extra.length) throw new UsageError(`unexpected argument \`${extra[0]}\``);
  if (file === "-") {
    if (command !== "check" && command !== "grid") throw new UsageError(`\`mmfmc ${command}\` needs a spec file (\`-\` for standard input is for check and grid)`);
    return file;
  }
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  if (!statSync(file).isFile()) throw new UsageError(`not a file: ${file}`);
  return file;
}

/** `-` reads the spec from standard input, as if it were `<stdin>.mmfm` in the working directory. */
export async function compileSpec(file: string, args: ParsedArgs, extra: CompileOptions = {}): Promise<Compilation> {
  const { compile } = await import("../compiler/pipeline.js");
  const stdin = file === "-" ? { text: readFileSync(0, "utf8") } : {};
  return compile(file === "-" ? "<stdin>.mmfm" : file, { sets: listOption(args, "set"), only: listOption(args, "only"), ...stdin, ...extra });
}

/** Prints the diagnostics for people (stderr); returns whether there were errors. */
export function printDiagnostics(result: Compilation, out: Output): boolean {
  const sorted = result.diagnostics.sorted();
  for (const d of sorted) out.info(renderDiagnostic(d, out) + "\n");
  return result.diagnostics.hasErrors;
}

export function jsonDiagnostics(result: Compilation, file: string) {
  return result.diagnostics.sorted().map((d) => jsonDiagnostic(d, file));
}

export function summaryLine(result: Compilation, file: string, out: Output, what: string): void {
  const errors = result.diagnostics.errorCount;
  const warnings = result.diagnostics.items.length - errors;
  if (errors) out.info(`${out.paint("red", "✗")} ${countSummary(errors, warnings)} in ${file}`);
  else out.info(`${out.paint("green", "✓")} ${file}: ${what}${warnings ? ` (${countSummary(0, warnings)})` : ""}`);
}
