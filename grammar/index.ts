/**
 * Text -> AST: lexing, parsing with recovery, and the visitor, with every problem as a diagnostic.
 *
 * A file is read item by item (`itemStarts`: the lines that begin an `import`, a `let` or a
 * declaration): each stretch is lexed, parsed and turned into syntax tree before the next, so only
 * one item's tokens and concrete syntax tree are held at a time, however large the file.
 */
import type { IToken } from "chevrotain";
import { Diagnostics } from "../core/diagnostics.js";
import { M, type AssignmentProblem, type SyntaxProblem } from "../core/messages.js";
import { SourceFile } from "../core/source.js";
import type { Comment, Expr, File, Item, Path } from "./ast.js";
import { itemStarts, lex } from "./lexer.js";
import { maxNesting, tooDeep } from "./nesting.js";
import { describe, parseAssignmentTokens, parseTokens, startsItem, type ParseError } from "./parser.js";
import { AstBuilder } from "./visitor.js";

export function parseSource(source: SourceFile, diagnostics: Diagnostics): File {
  const text = source.text;
  const builder = new AstBuilder(source);
  const items: Item[] = [];
  const comments: Comment[] = [];
  const starts = itemStarts(text);
  const lexed = (k: number) => lex(source, diagnostics, starts[k], starts[k + 1] ?? text.length);
  const lines = { last: -1 };
  let next = lexed(0);
  for (let k = 0; k < starts.length; k++) {
    const current = next;
    if (k + 1 < starts.length) next = lexed(k + 1);
    for (const c of current.comments) comments.push(c);
    let tokens = current.tokens;
    // too deep: reported where the limit is crossed; the item is read up to there
    const deep = tooDeep(tokens);
    if (deep !== undefined) {
      const at = tokens[deep];
      diagnostics.report(M.nestedTooDeep, { limit: maxNesting }, { span: source.span(at.startOffset, at.startOffset + at.image.length) });
      tokens = tokens.slice(0, deep);
    }
    const { csts, errors } = parseTokens(tokens);
    // what follows this stretch is the next item's first token, which the parser of the whole file would have found
    const follower = k + 1 < starts.length ? next.tokens[0] : undefined;
    syntaxErrors(errors, tokens, source, diagnostics, lines, deep !== undefined ? "cut" : follower);
    const first = items.length;
    for (const cst of csts) builder.items(cst, items);
    if (deep !== undefined && items.length > first) {
      // the item read up to the cut reaches the cut, so the error is inside it (pipeline.ts drops
      // what the checker says about a broken item)
      const last = items[items.length - 1];
      const cut = current.tokens[deep];
      items[items.length - 1] = { ...last, span: source.span(last.span.start, Math.max(last.span.end, cut.startOffset + cut.image.length)) };
    }
  }
  return { kind: "File", source, items, comments, span: source.span(0, text.length) };
}

function atEndOf(token: IToken): boolean {
  return !Number.isFinite(token.startOffset) || token.tokenType.name === "EOF";
}

/**
 * The parser's errors as diagnostics, one per line (recovery often reports the same mistake twice).
 * An error at the end of the stretch is at `follower` (the next item's first token); in a stretch
 * `cut` at the nesting limit, it is a consequence of the cut and not reported.
 */
function syntaxErrors(errors: readonly ParseError[], tokens: readonly IToken[], source: SourceFile, diagnostics: Diagnostics, lines: { last: number }, follower: IToken | "cut" | undefined): void {
  for (const error of errors) {
    let token = error.token;
    let problem: SyntaxProblem = error.problem;
    if (atEndOf(token) && follower === "cut") continue;
    if (atEndOf(token) && follower !== undefined && follower !== "cut") {
      token = follower;
      if (problem.kind !== "keywordAsName") problem = { ...problem, found: describe(follower) };
    }
    const atEnd = atEndOf(token);
    const last = tokens[tokens.length - 1];
    let start = atEnd ? (last ? last.startOffset + last.image.length : source.text.length) : token.startOffset;
    let end = atEnd ? start : token.startOffset + token.image.length;
    // a missing closer is the fault of the line that should have ended with it, not of the next one
    const closer = problem.kind === "expectedToken" && /^`[}\])]`$/.test(problem.expected);
    const previous = error.previous;
    const after = closer && previous !== undefined && Number.isFinite(previous.startOffset) && source.lineIndex(previous.startOffset) < source.lineIndex(start);
    if (after) {
      start = previous.startOffset;
      end = previous.startOffset + previous.image.length;
    }
    const line = source.lineIndex(start);
    if (line === lines.last && problem.kind !== "keywordAsName") continue;
    lines.last = line;
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
}

export type * from "./ast.js";

/**
 * Whether a text begins like a spec: it is empty (comments only) or its first tokens are an item
 * (`import "..."`, `let NAME`, `KIND NAME`). An imported file that does not is not shown in messages.
 */
export function beginsLikeSpec(text: string): boolean {
  const source = new SourceFile("", text);
  const starts = itemStarts(text);
  const { tokens } = lex(source, new Diagnostics(), 0, starts[1] ?? text.length);
  return tokens.length === 0 || startsItem(tokens, 0);
}

/** `PATH=VALUE` from the command line, in a source file of its own (the flag's text). */
export function parseAssignment(source: SourceFile, diagnostics: Diagnostics): { path?: Path; value?: Expr; error?: AssignmentProblem } {
  const { tokens } = lex(source, diagnostics);
  const deep = tooDeep(tokens) !== undefined;
  // too deep: only the path is parsed (the value would be cut anyway)
  const eq = tokens.findIndex((token) => token.tokenType.name === "Equals");
  const result = deep ? { ...parseAssignmentTokens(tokens.slice(0, eq + 1)), error: { kind: "nestedTooDeep", limit: maxNesting } as const } : parseAssignmentTokens(tokens);
  const builder = new AstBuilder(source);
  return {
    path: result.path ? builder.path(result.path) : undefined,
    value: result.value ? builder.expression(result.value, 0) : undefined,
    error: result.error,
  };
}
