/**
 * The one output module every command writes through: data on stdout, everything else on stderr,
 * colour only on a TTY and never when NO_COLOR is set, animation only on a TTY outside CI.
 */
export interface Output {
  /** machine-readable or primary data: stdout */
  data(text: string): void;
  /** human messages, progress, summaries: stderr */
  info(text: string): void;
  readonly color: boolean;
  /** true when progress may redraw a line in place */
  readonly animate: boolean;
  paint(style: Style, text: string): string;
}

export type Style = "bold" | "red" | "yellow" | "blue" | "green" | "cyan" | "dim";

const codes: Record<Style, [number, number]> = {
  bold: [1, 22],
  red: [31, 39],
  yellow: [33, 39],
  blue: [34, 39],
  green: [32, 39],
  cyan: [36, 39],
  dim: [2, 22],
};

export function consoleOutput(
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Output {
  const color = Boolean(stderr.isTTY) && env.NO_COLOR === undefined && env.TERM !== "dumb";
  const animate = Boolean(stderr.isTTY) && !env.CI;
  return {
    data: (text) => void stdout.write(text.endsWith("\n") ? text : text + "\n"),
    info: (text) => void stderr.write(text.endsWith("\n") ? text : text + "\n"),
    color,
    animate,
    paint: (style, text) => (color ? `\x1b[${codes[style][0]}m${text}\x1b[${codes[style][1]}m` : text),
  };
}

/** An output that records what was written, for tests. */
export function memoryOutput(options: { color?: boolean } = {}): Output & { stdout: string; stderr: string } {
  const out = {
    stdout: "",
    stderr: "",
    color: options.color ?? false,
    animate: false,
    data(text: string) {
      out.stdout += text.endsWith("\n") ? text : text + "\n";
    },
    info(text: string) {
      out.stderr += text.endsWith("\n") ? text : text + "\n";
    },
    paint(style: Style, text: string) {
      return out.color ? `\x1b[${codes[style][0]}m${text}\x1b[${codes[style][1]}m` : text;
    },
  };
  return out;
}
