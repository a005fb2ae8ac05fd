/** Edits the server offers: quick fixes (each "did you mean" and the other fixes a diagnostic carries) and formatting. */
import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic, type Range, type TextEdit } from "vscode-languageserver";
import { formatText } from "../compiler/format.js";
import { lspDiagnostic, type DiagnosticData, type FixData, type UriOf } from "./convert.js";
import type { Analysis } from "./workspace.js";

const sameRange = (a: Range, b: Range) =>
  a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;

/** The fixes of a diagnostic the editor sends back: from its `data`, or found again in the analysis (for clients that drop `data`). */
function fixesOf(d: LspDiagnostic, analysis: Analysis | undefined, uriOf: UriOf): readonly FixData[] {
  const data = d.data as DiagnosticData | undefined;
  if (data?.fixes) return data.fixes;
  if (!analysis) return [];
  const fallback = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  for (const c of analysis.compilation.diagnostics.items) {
    if (c.code !== d.code || !c.fixes?.length) continue;
    const converted = lspDiagnostic(c, uriOf, fallback);
    if (sameRange(converted.range, d.range)) return (converted.data as DiagnosticData).fixes;
  }
  return [];
}

function fixTitle(fix: FixData): string {
  const { range, newText } = fix.edit;
  const empty = range.start.line === range.end.line && range.start.character === range.end.character;
  return empty ? `add \`${newText.trim()}\`` : `change to \`${newText}\``;
}

export function codeActions(diagnostics: readonly LspDiagnostic[], analysis: Analysis | undefined, uriOf: UriOf): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== "mmfm") continue;
    const fixes = fixesOf(d, analysis, uriOf);
    for (const fix of fixes) {
      actions.push({
        title: fixTitle(fix),
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: fixes.length === 1,
        edit: { changes: { [fix.uri]: [fix.edit] } },
      });
    }
  }
  return actions;
}

/** `mmfmc fmt` as one edit of the whole document; nothing for a document with syntax errors. */
export function formatting(text: string, path: string, end: { line: number; character: number }): TextEdit[] {
  const result = formatText(text, path);
  if (result.text === undefined || !result.changed) return [];
  return [{ range: { start: { line: 0, character: 0 }, end }, newText: result.text }];
}
