/** Text -> AST: lexing, parsing with recovery, and the visitor, with every problem as a diagnostic. */
import { Diagnostics } from "../core/diagnostics.js";
import { M, type AssignmentProblem } from "../core/messages.js";
import { SourceFile } from "../core/source.js";
import type { Expr, File, Path } from "./ast.js";
import { lex } from "./lexer.js";
import { parseAssignmentTokens, parseTokens, startsItem } from "./parser.js";
import { AstBuilder } from "./visitor.js";

export function parseSource(source: SourceFile, diagnostics: Diagnostics): File {
  const { tokens, comments } = lex(source, diagnostics);
  const { csts, errors } = parseTokens(tokens);
  let lastLine = -1;
  for (const error of errors) {
    const token = error.token;
    const atEnd = !Number.isFinite(token.startOffset) || token.tokenType.name === "EOF";
    const last = tokens[tokens.length - 1];
    let start = atEnd ? (last ? last.startOffset + last.image.length : source.text.length) : token.startOffset;
    let end = atEnd ? start : token.startOffset + token.image.length;
    // a missing closer is the fault of the line that should have ended with it, not of the next one
    const problem = error.problem;
    const closer = problem.kind === "expectedToken" && /^`[}\])]`$/.test(problem.expected);
    const previous = error.previous;
    const after = closer && previous !== undefined && Number.isFinite(previous.startOffset) && source.lineIndex(previous.startOffset) < source.lineIndex(start);
    if (after) {
      start = previous.startOffset;
      end = previous.startOffset + previous.image.length;
    }
    // one syntax error per line: recovery often reports the same mistake twice
    const line = source.lineIndex(start);
    if (line === lastLine && problem.kind !== "keywordAsName") continue;
    lastLine = line;
    const at = { span: source.span(start, end) };
    switch (problem.kind) {
      case "keywordAsName":
        diagnostics.report(M.keywordAsName, problem, at);
        break;
      case "expectedToken":
        diagnostics.report(M.expectedToken, { ...problem, after }, at);
        break;
      case "expectedItem":
        diagnostics.report(M.expectedItem, problem, at);
        break;
      case "unexpectedToken":
        diagnostics.report(M.unexpectedToken, problem, at);
        break;
    }
  }
  return new AstBuilder(source).file(csts, comments);
}

export type * from "./ast.js";

/**
 * Whether a text begins like a spec: it is empty (comments only) or its first tokens are an item
 * (`import "..."`, `let NAME`, `KIND NAME`). An imported file that does not is not shown in messages.
 */
export function beginsLikeSpec(text: string): boolean {
  const { tokens } = lex(new SourceFile("", text), new Diagnostics());
  return tokens.length === 0 || startsItem(tokens, 0);
}

/** `PATH=VALUE` from the command line, in a source file of its own (the flag's text). */
export function parseAssignment(source: SourceFile, diagnostics: Diagnostics): { path?: Path; value?: Expr; error?: AssignmentProblem } {
  const { tokens } = lex(source, diagnostics);
  const result = parseAssignmentTokens(tokens);
  const builder = new AstBuilder(source);
  return {
    path: result.path ? builder.path(result.path) : undefined,
    value: result.value ? builder.expression(result.value, 0) : undefined,
    error: result.error,
  };
}
