import { UsageError } from "./exit.js";

/** The declared options of a command: name -> whether it takes a value, and whether it may repeat. */
export interface OptionSpec {
  readonly [name: string]: { readonly value: boolean; readonly repeat?: boolean; readonly short?: string };
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** flags map to true; options with values map to the last value, repeatable ones to every value */
  readonly options: Readonly<Record<string, string | boolean | readonly string[]>>;
}

/**
 * Parses `--name value`, `--name=value`, `--flag` and positionals; `--` ends options.
 * Unknown options are a usage error naming the option.
 */
export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const positionals: string[] = [];
  const options: Record<string, string | boolean | string[]> = {};
  const shorts = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short) shorts.set(s.short, name);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (arg.length === 2 && arg[0] === "-" && arg[1] !== "-") {
      name = shorts.get(arg[1]);
      if (name === undefined) throw new UsageError(`unknown option \`${arg}\``);
    } else {
      positionals.push(arg);
      continue;
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option \`--${name}\``);
    let value: string | boolean = true;
    if (s.value) {
      if (inline !== undefined) value = inline;
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`option \`--${name}\` needs a value`);
    } else if (inline !== undefined) {
      throw new UsageError(`option \`--${name}\` takes no value`);
    }
    if (s.repeat) {
      const list = (options[name] as string[] | undefined) ?? [];
      list.push(String(value));
      options[name] = list;
    } else {
      options[name] = value;
    }
  }
  return { positionals, options };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === "string" ? v : undefined;
}

export function listOption(args: ParsedArgs, name: string): readonly string[] {
  const v = args.options[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}
