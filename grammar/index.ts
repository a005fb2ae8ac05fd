/** Text -> AST: lexing, parsing with recovery, and the visitor, with every problem as a diagnostic. */
import type { Diagnostics } from "../compiler/diagnostics.js";
import type { SourceFile } from "../compiler/source.js";
import type { File } from "./ast.js";
import { lex } from "./lexer.js";
import { parseTokens } from "./parser.js";
import { AstBuilder } from "./visitor.js";

export function parseSource(source: SourceFile, diagnostics: Diagnostics): File {
  const { tokens, comments } = lex(source, diagnostics);
  const { csts, errors } = parseTokens(tokens);
  let lastLine = -1;
  for (const error of errors) {
    const token = error.token;
    const atEnd = !Number.isFinite(token.startOffset) || token.tokenType.name === "EOF";
    const last = tokens[tokens.length - 1];
    const start = atEnd ? (last ? last.startOffset + last.image.length : source.text.length) : token.startOffset;
    const end = atEnd ? start : token.startOffset + token.image.length;
    // one syntax error per line: recovery often reports the same mistake twice
    const line = source.lineIndex(start);
    if (line === lastLine && !error.keywordAsName) continue;
    lastLine = line;
    diagnostics.error(error.keywordAsName ? "E0107" : "E0106", error.message, {
      span: source.span(start, end),
      help: error.keywordAsName ? "pick another name; keywords are listed in docs/language.md" : undefined,
    });
  }
  return new AstBuilder(source).file(csts, comments);
}

export type * from "./ast.js";
