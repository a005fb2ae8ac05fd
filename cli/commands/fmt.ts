import { chmodSync, existsSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { flag } from "../args.js";
import type { Command } from "../command.js";
import { Exit, UsageError } from "../exit.js";
import type { Output } from "../output.js";
import { formatText } from "../../compiler/format.js";
import { renderDiagnostic } from "../../core/render.js";

/** What `fmt` reads besides files (a seam for tests). */
export interface FmtIo {
  readStdin(): string;
}

const help = `Rewrites specs in the canonical layout (docs/fmt.md): two-space indentation, one field per
line with the \`=\` of neighbouring fields aligned, short groups on one line, at most one blank
line. Every comment is kept. Only the layout changes: the syntax tree, and so every variant's hash,
stays the same. A file that is already formatted is not touched; others are replaced atomically.
A file with syntax errors is not rewritten: its errors are printed.

arguments:
  FILE                a .mmfm file; a folder means every .mmfm file below it; \`-\` reads standard
                      input and writes the formatted text to standard output

options:
  --check             write nothing; list the files that are not formatted (on stdout) and exit 1
                      if there are any (for CI)

exit status: 0 formatted (or, with --check, already formatted), 1 a file has syntax errors or
(with --check) is not formatted, 2 bad usage, 70 internal error`;

export function fmtCommand(io: FmtIo = { readStdin: () => readFileSync(0, "utf8") }): Command {
  return {
    name: "fmt",
    usage: "mmfmc fmt FILE... [--check]",
    help,
    options: { check: { value: false } },
    async run(args, out) {
      const check = flag(args, "check");
      const files = inputFiles(args.positionals);
      let broken = 0;
      const unformatted: string[] = [];
      const rewritten: string[] = [];
      for (const file of files) {
        const stdin = file === "-";
        const shown = stdin ? "<stdin>" : file;
        let text: string;
        try {
          text = stdin ? io.readStdin() : readFileSync(file, "utf8");
        } catch (error) {
          out.info(`${out.paint("red", "error")}: cannot read ${shown}: ${reason(error)}`);
          broken++;
          continue;
        }
        const result = formatText(text, shown);
        if (result.text === undefined) {
          for (const d of result.diagnostics.sorted()) out.info(renderDiagnostic(d, out) + "\n");
          out.info(`${out.paint("red", "✗")} ${shown} has syntax errors; not formatted`);
          broken++;
          continue;
        }
        if (stdin && !check) {
          if (result.text !== "") out.data(result.text);
          continue;
        }
        if (!result.changed) continue;
        if (check) {
          unformatted.push(shown);
          continue;
        }
        try {
          writeAtomically(file, result.text);
          rewritten.push(file);
        } catch (error) {
          out.info(`${out.paint("red", "error")}: cannot write ${file}: ${reason(error)}`);
          broken++;
        }
      }
      summary(out, { check, files, unformatted, rewritten, broken });
      return broken > 0 || unformatted.length > 0 ? Exit.InputErrors : Exit.Ok;
    },
  };
}

export const command: Command = fmtCommand();

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code === "ENOENT" ? "no such file" : e.code === "EACCES" ? "permission denied" : (e.message ?? String(error));
}

function summary(
  out: Output,
  r: { check: boolean; files: readonly string[]; unformatted: readonly string[]; rewritten: readonly string[]; broken: number },
): void {
  const onlyStdin = r.files.length === 1 && r.files[0] === "-";
  const files = (n: number) => `${n} file${n === 1 ? "" : "s"}`;
  if (r.check) {
    for (const f of r.unformatted) out.data(f);
    if (r.unformatted.length) {
      out.info(`${out.paint("red", "✗")} ${files(r.unformatted.length)} not formatted; run \`mmfmc fmt\` on ${r.unformatted.length === 1 ? "it" : "them"}`);
    } else if (r.broken === 0 && !onlyStdin) {
      out.info(`${out.paint("green", "✓")} ${files(r.files.length)} formatted`);
    }
    return;
  }
  if (onlyStdin) return;
  for (const f of r.rewritten) out.info(`formatted ${f}`);
  if (r.broken === 0) out.info(`${out.paint("green", "✓")} ${files(r.files.length)}, ${r.rewritten.length} rewritten`);
}

/** The files to format: the arguments, with each folder replaced by the `.mmfm` files below it. */
function inputFiles(args: readonly string[]): string[] {
  if (args.length === 0) {
    throw new UsageError("`mmfmc fmt` needs a spec file (or `-` for standard input), e.g. `mmfmc fmt examples/llava-gemma.mmfm`");
  }
  if (args.filter((a) => a === "-").length > 1) throw new UsageError("`-` (standard input) can be given once");
  const files: string[] = [];
  for (const arg of args) {
    if (arg === "-") files.push(arg);
    else if (!existsSync(arg)) throw new UsageError(`no such file: ${arg}`);
    else if (statSync(arg).isDirectory()) files.push(...specsBelow(arg));
    else files.push(arg);
  }
  return [...new Set(files)];
}

function specsBelow(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...specsBelow(path));
    else if (entry.isFile() && entry.name.endsWith(".mmfm")) found.push(path);
  }
  return found;
}

/** Writes through a temporary file in the same folder and a rename, keeping the file's mode. */
function writeAtomically(path: string, text: string): void {
  const target = realpathSync(path);
  const mode = statSync(target).mode & 0o7777;
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.fmt.tmp`);
  try {
    writeFileSync(temp, text, { flag: "wx" });
    chmodSync(temp, mode);
    renameSync(temp, target);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temporary file was never made
    }
    throw error;
  }
}
