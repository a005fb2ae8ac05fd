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
  /** on a terminal (`animate`), show `text` as the one line redrawn in place; `""` clears it */
  status(text: string): void;
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
  let live = false;
  const clear = () => {
    if (live) stderr.write("\r\x1b[2K");
    live = false;
  };
  return {
    data: (text) => void stdout.write(text.endsWith("\n") ? text : text + "\n"),
    info: (text) => {
      clear();
      stderr.write(text.endsWith("\n") ? text : text + "\n");
    },
    status: (text) => {
      if (!animate) return;
      clear();
      if (text) {
        stderr.write(text);
        live = true;
      }
    },
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
    status(_text: string) {},
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
