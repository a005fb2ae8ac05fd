import { parseArgs } from "./args.js";
import type { Command } from "./command.js";
import { commonOptions } from "./command.js";
import { Exit, UsageError } from "./exit.js";
import { consoleOutput, type Output } from "./output.js";
import { environmentMessage, FileError, isEnvironmentError } from "../core/files.js";

/** Every command, with the one line `mmfmc --help` shows; modules load only when their command runs. */
const commands: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  check: { summary: "parse and check a spec; print diagnostics", load: () => import("./commands/check.js") },
  grid: { summary: "print the variants of each experiment with parameter counts", load: () => import("./commands/grid.js") },
  build: { summary: "write a typed graph module and a JSON plan per variant", load: () => import("./commands/build.js") },
  run: { summary: "build, then train and evaluate the variants on the tfjs runtime", load: () => import("./commands/run.js") },
  report: { summary: "re-render the results report of a runs folder", load: () => import("./commands/report.js") },
  collect: { summary: "score the answers of exported evaluation jobs into the report", load: () => import("./commands/collect.js") },
  export: { summary: "write launch scripts for the LLaVA/DeepSpeed trainer", load: () => import("./commands/export.js") },
  fmt: { summary: "rewrite a spec in canonical layout (comments kept)", load: () => import("./commands/fmt.js") },
  doc: { summary: "describe the families, their fields, types and defaults", load: () => import("./commands/doc.js") },
  score: { summary: "score a benchmark items file by the official rules", load: () => import("./commands/score.js") },
  data: { summary: "write datasets (`mmfmc data shapes --out DIR`)", load: () => import("./commands/data.js") },
  lsp: { summary: "run the language server for editors (LSP over stdio; docs/editors.md)", load: () => import("./commands/lsp.js") },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "mmfmc: the mmfm compiler for multimodal model experiments",
    "",
    "usage: mmfmc COMMAND [options]",
    "",
    "commands:",
    ...lines,
    "",
    "Run `mmfmc COMMAND --help` for a command's options.",
    "Exit status: 0 success, 1 the input has errors, 2 bad usage, 70 internal error;",
    "`mmfmc run` stopped by SIGINT or SIGTERM: 130 or 143 (checkpoint written; run it again to resume).",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  return `usage: ${command.usage}\n\n${command.help.trimEnd()}\n`;
}

export async function main(argv: readonly string[], out: Output = consoleOutput()): Promise<number> {
  const verbose = argv.includes("--verbose");
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      if (name === "help" && rest[0] && commands[rest[0]]) {
        const { command } = await commands[rest[0]].load();
        out.data(commandHelp(command));
        return Exit.Ok;
      }
      (name === undefined ? out.info : out.data)(mainHelp());
      return name === undefined ? Exit.Usage : Exit.Ok;
    }
    if (name === "--version" || name === "-V") {
      const { packageVersion } = await import("./version.js");
      out.data(packageVersion());
      return Exit.Ok;
    }
    const entry = commands[name];
    if (!entry) {
      const { suggest } = await import("../core/suggest.js");
      const guess = suggest(name, Object.keys(commands));
      throw new UsageError(`unknown command \`${name}\`${guess ? `; did you mean \`${guess}\`?` : ""}`);
    }
    const { command } = await entry.load();
    const args = parseArgs(rest, { ...commonOptions, ...command.options });
    if (args.options.help === true) {
      out.data(commandHelp(command));
      return Exit.Ok;
    }
    return await command.run(args, out);
  } catch (error) {
    if (error instanceof UsageError) {
      out.info(`${out.paint("red", "error")}: ${error.message}`);
      out.info("run `mmfmc --help` for usage");
      return Exit.Usage;
    }
    // a full disk, a read-only folder, a damaged file: the environment's fault, named, not a bug
    if (error instanceof FileError || isEnvironmentError(error)) {
      out.info(`${out.paint("red", "error")}: ${error instanceof FileError ? error.message : environmentMessage(error)}`);
      return Exit.InputErrors;
    }
    const message = error instanceof Error ? error.message : String(error);
    out.info(`${out.paint("red", "internal error")}: ${message} (this is a bug in mmfmc; rerun with --verbose for details)`);
    if (verbose && error instanceof Error && error.stack) out.info(error.stack);
    return Exit.Internal;
  }
}
