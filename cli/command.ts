import type { OptionSpec, ParsedArgs } from "./args.js";
import type { Output } from "./output.js";

/** One `mmfmc` subcommand. Modules under `cli/commands/` export one as `command`. */
export interface Command {
  readonly name: string;
  /** the usage line, e.g. `mmfmc check FILE [--json]` */
  readonly usage: string;
  /** the text of `mmfmc NAME --help` after the usage line */
  readonly help: string;
  readonly options: OptionSpec;
  run(args: ParsedArgs, out: Output): Promise<number>;
}

/** Options every command accepts. */
export const commonOptions: OptionSpec = {
  help: { value: false, short: "h" },
  verbose: { value: false },
};
