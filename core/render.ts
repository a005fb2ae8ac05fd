/**
 * Diagnostics at the edge: the rustc-style terminal rendering (source line, carets, labels, secondary
 * spans, help notes) and the JSON form of `--json`. Only here do offsets become lines and columns.
 */
import type { Diagnostic } from "./diagnostics.js";
import type { Span } from "./source.js";

export interface Painter {
  paint(style: "bold" | "red" | "yellow" | "blue" | "green" | "cyan" | "dim", text: string): string;
}

const plain: Painter = { paint: (_s, t) => t };

const TAB = "    ";

/** Whether a code point takes two cells in a terminal (East Asian wide and fullwidth, emoji). */
function wide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x1fa70 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Display cells of a line prefix: tabs count 4, wide characters 2, everything else 1 per code point. */
function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += ch === "\t" ? TAB.length : wide(ch.codePointAt(0)!) ? 2 : 1;
  return w;
}

interface Mark {
  readonly span: Span;
  readonly text: string;
  readonly primary: boolean;
}

function lineOf(span: Span): number {
  return span.file.position(span.start).line;
}

export function renderDiagnostic(d: Diagnostic, painter: Painter = plain): string {
  const p = painter.paint.bind(painter);
  const color = d.severity === "error" ? "red" : "yellow";
  const out: string[] = [p("bold", `${p(color, `${d.severity}[${d.code}]`)}: ${d.message}`)];
  const marks: Mark[] = [];
  if (d.span) marks.push({ span: d.span, text: d.label ?? "", primary: true });
  for (const s of d.secondary) marks.push({ span: s.span, text: s.text, primary: false });
  const lineNumbers = marks.map((m) => lineOf(m.span));
  const gutter = Math.max(1, ...lineNumbers.map((n) => String(n).length));
  const pad = " ".repeat(gutter);
  const bar = p("blue", "|");
  // group the marks by file, the primary's file first
  const files: Span["file"][] = [];
  for (const m of marks) if (!files.includes(m.span.file)) files.push(m.span.file);
  files.forEach((file, fi) => {
    const inFile = marks.filter((m) => m.span.file === file).sort((a, b) => a.span.start - b.span.start);
    const anchor = inFile.find((m) => m.primary) ?? inFile[0];
    const pos = file.position(anchor.span.start);
    const arrow = fi === 0 ? "-->" : ":::";
    out.push(`${pad}${p("blue", arrow)} ${file.path}:${pos.line}:${pos.column}`);
    out.push(`${pad} ${bar}`);
    let previousLine = -1;
    const lines = [...new Set(inFile.map((m) => lineOf(m.span)))].sort((a, b) => a - b);
    for (const line of lines) {
      if (previousLine >= 0 && line > previousLine + 1) out.push(p("blue", "...").padEnd(gutter + 2));
      previousLine = line;
      const text = file.lineText(line - 1);
      out.push(`${p("blue", String(line).padStart(gutter))} ${bar} ${text.replace(/\t/g, TAB)}`);
      const lineStart = file.lineStart(line - 1);
      for (const m of inFile.filter((x) => lineOf(x.span) === line)) {
        const startCol = displayWidth(text.slice(0, m.span.start - lineStart));
        const endOffset = Math.min(m.span.end, lineStart + text.length);
        const width = Math.max(1, displayWidth(text.slice(m.span.start - lineStart, Math.max(m.span.start, endOffset) - lineStart)));
        const underline = (m.primary ? "^" : "-").repeat(width);
        const styled = p(m.primary ? color : "blue", `${underline}${m.text ? ` ${m.text}` : ""}`);
        out.push(`${pad} ${bar} ${" ".repeat(startCol)}${styled}`);
      }
    }
  });
  if (marks.length > 0 && d.help.length > 0) out.push(`${pad} ${bar}`);
  for (const h of d.help) out.push(`${pad} ${p("blue", "=")} ${p("bold", "help")}: ${h}`);
  return out.join("\n");
}

export interface JsonDiagnostic {
  severity: string;
  code: string;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  label?: string;
  help?: string[];
  related?: { file: string; line: number; column: number; endLine: number; endColumn: number; message: string }[];
}

function range(span: Span): { file: string; line: number; column: number; endLine: number; endColumn: number } {
  const start = span.file.position(span.start);
  const end = span.file.position(Math.max(span.end, span.start));
  return { file: span.file.path, line: start.line, column: start.column, endLine: end.line, endColumn: end.column };
}

/** The `--json` form: 1-based lines and columns (columns in code points); `endColumn` is exclusive. */
export function jsonDiagnostic(d: Diagnostic, fallbackFile: string): JsonDiagnostic {
  const where = d.span ? range(d.span) : { file: fallbackFile, line: 1, column: 1, endLine: 1, endColumn: 1 };
  const out: JsonDiagnostic = { severity: d.severity, code: d.code, message: d.message, ...where };
  if (d.label) out.label = d.label;
  if (d.help.length) out.help = [...d.help];
  if (d.secondary.length) out.related = d.secondary.map((s) => ({ ...range(s.span), message: s.text }));
  return out;
}

/** `2 errors and 1 warning`. */
export function countSummary(errors: number, warnings: number): string {
  const parts: string[] = [];
  if (errors) parts.push(`${errors} error${errors === 1 ? "" : "s"}`);
  if (warnings) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  return parts.join(" and ") || "no problems";
}
