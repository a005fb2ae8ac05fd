/**
 * The edge between the compiler and the protocol: spans (UTF-16 offsets into a source file) to LSP
 * ranges (0-based lines, UTF-16 characters: the protocol's default encoding, so no conversion of
 * units is needed), file paths to URIs, and diagnostics to LSP diagnostics with their related spans
 * and quick fixes.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  DiagnosticSeverity,
  DiagnosticTag,
  type Diagnostic as LspDiagnostic,
  type Location,
  type Position,
  type Range,
  type TextEdit,
} from "vscode-languageserver";
import { M } from "../core/messages.js";
import type { Diagnostic } from "../core/diagnostics.js";
import type { SourceFile, Span } from "../core/source.js";

export function position(file: SourceFile, offset: number): Position {
  const clamped = Math.max(0, Math.min(offset, file.text.length));
  const line = file.lineIndex(clamped);
  return { line, character: clamped - file.lineStart(line) };
}

export function range(span: Span): Range {
  return { start: position(span.file, span.start), end: position(span.file, Math.max(span.start, span.end)) };
}

/** The URI of a file: an open document's own URI, else a `file:` URI of its absolute path. */
export type UriOf = (path: string) => string;

export function pathOfUri(uri: string): string | undefined {
  if (!uri.startsWith("file:")) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export function fileUri(path: string): string {
  return pathToFileURL(path).href;
}

/** The absolute path a span's file was read from (undefined for text that has no file, e.g. a default). */
export function spanPath(span: Span): string | undefined {
  return span.file.absolutePath;
}

export function location(span: Span, uriOf: UriOf): Location | undefined {
  const path = spanPath(span);
  return path ? { uri: uriOf(path), range: range(span) } : undefined;
}

/** A quick fix as carried in an LSP diagnostic's `data`. */
export interface FixData {
  readonly uri: string;
  readonly edit: TextEdit;
}

export interface DiagnosticData {
  readonly fixes: readonly FixData[];
}

/** Warnings about something unused are shown faded by editors. */
const unnecessary = new Set<string>([M.unusedLet.code, M.unusedImport.code]);

/**
 * One compiler diagnostic for the protocol. The message holds the label and the `help:` notes, as
 * `mmfmc check` prints them; secondary spans become related information; fixes travel in `data`.
 */
export function lspDiagnostic(d: Diagnostic, uriOf: UriOf, fallback: Range): LspDiagnostic {
  const lines = [d.message];
  if (d.label) lines.push(d.label);
  for (const h of d.help) lines.push(`help: ${h}`);
  const out: LspDiagnostic = {
    range: d.span && spanPath(d.span) ? range(d.span) : fallback,
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "mmfm",
    message: lines.join("\n"),
  };
  const related = d.secondary
    .map((s) => {
      const at = location(s.span, uriOf);
      return at ? { location: at, message: s.text } : undefined;
    })
    .filter((r) => r !== undefined);
  if (related.length) out.relatedInformation = related;
  if (unnecessary.has(d.code)) out.tags = [DiagnosticTag.Unnecessary];
  const fixes: FixData[] = [];
  for (const fix of d.fixes ?? []) {
    const path = spanPath(fix.span);
    if (path) fixes.push({ uri: uriOf(path), edit: { range: range(fix.span), newText: fix.text } });
  }
  if (fixes.length) out.data = { fixes } satisfies DiagnosticData;
  return out;
}
