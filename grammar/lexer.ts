/**
 * Text -> tokens. Every lexing problem becomes a diagnostic; the token stream stays usable so the
 * parser can go on and report more.
 */
import { Lexer, type IToken } from "chevrotain";
import { Diagnostics } from "../core/diagnostics.js";
import type { SourceFile } from "../core/source.js";
import type { Comment } from "./ast.js";
import * as t from "./tokens.js";

const lexer = new Lexer(t.allTokens, { positionTracking: "onlyOffset", ensureOptimizations: false });

export interface LexResult {
  readonly tokens: IToken[];
  readonly comments: Comment[];
}

const validNumber = /^[0-9](?:_?[0-9])*(?:\.[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;

export function lex(source: SourceFile, diagnostics: Diagnostics): LexResult {
  const result = lexer.tokenize(source.text);
  for (const error of result.errors) {
    const ch = String.fromCodePoint(source.text.codePointAt(error.offset) ?? 0xfffd);
    const shown = /\s/.test(ch) || ch.charCodeAt(0) < 32 ? `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}` : ch;
    diagnostics.error("E0101", `unexpected character \`${shown}\``, {
      span: source.span(error.offset, error.offset + error.length),
      help: ch === "'" ? "strings use double quotes" : ch === "#" ? "comments start with `//`" : undefined,
    });
  }
  const comments: Comment[] = [];
  for (const token of result.groups.comments ?? []) {
    const span = source.span(token.startOffset, token.startOffset + token.image.length);
    if (token.tokenType === t.UnterminatedComment) {
      diagnostics.error("E0104", "unterminated block comment", {
        span: source.span(token.startOffset, token.startOffset + 2),
        label: "this comment is never closed",
        help: "close it with `*/` (block comments do not nest)",
      });
    }
    comments.push({ kind: "Comment", text: token.image, block: token.tokenType !== t.LineComment, span });
  }
  for (const token of result.tokens) {
    if (token.tokenType === t.NumberLiteral && !validNumber.test(token.image)) {
      const span = source.span(token.startOffset, token.startOffset + token.image.length);
      const startsLikeLabel = /^[0-9]+[A-Za-z]/.test(token.image) && !/^[0-9]+[eE][0-9+-]/.test(token.image);
      diagnostics.error("E0105", `malformed number \`${token.image}\``, {
        span,
        help: startsLikeLabel
          ? `a name cannot start with a digit; to use it as a label, quote it: "${token.image}"`
          : "numbers look like `42`, `-2`, `0.03`, `2e-5`, `256_000` (underscores only between digits)",
      });
    } else if (token.tokenType === t.UnterminatedString) {
      diagnostics.error("E0102", "unterminated string", {
        span: source.span(token.startOffset, token.startOffset + token.image.length),
        label: "the closing `\"` is missing on this line",
        help: "strings cannot span lines; write `\\n` for a line break",
      });
    } else if (token.tokenType === t.StringLiteral) {
      decodeString(token.image, token.startOffset, source, diagnostics);
    }
  }
  return { tokens: result.tokens, comments };
}

/**
 * The value of a string literal as written (quotes included; an unterminated one lacks the closing
 * quote). Escapes: `\" \\ \n \t \u{...}`; an invalid one is reported and kept as written.
 */
export function decodeString(image: string, offset: number, source?: SourceFile, diagnostics?: Diagnostics): string {
  const closed = image.length >= 2 && image.endsWith('"') && !isEscapedQuoteAtEnd(image);
  const body = image.slice(1, closed ? -1 : undefined);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = body[i + 1];
    const at = offset + 1 + i;
    if (next === '"' || next === "\\") {
      out += next;
      i++;
    } else if (next === "n") {
      out += "\n";
      i++;
    } else if (next === "t") {
      out += "\t";
      i++;
    } else if (next === "u") {
      const m = /^\{([0-9A-Fa-f]{1,6})\}/.exec(body.slice(i + 2));
      const cp = m ? parseInt(m[1], 16) : NaN;
      if (m && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
        out += String.fromCodePoint(cp);
        i += 1 + m[0].length;
      } else {
        const len = m ? 2 + m[0].length : 2;
        if (source && diagnostics) {
          diagnostics.error("E0103", `invalid unicode escape \`${body.slice(i, i + len)}\``, {
            span: source.span(at, at + len),
            help: "write a code point as `\\u{1F600}`: 1 to 6 hex digits, at most 10FFFF, not a surrogate",
          });
        }
        out += body.slice(i, i + len);
        i += len - 1;
      }
    } else {
      if (source && diagnostics) {
        diagnostics.error("E0103", `unknown escape \`\\${next ?? ""}\``, {
          span: source.span(at, at + (next === undefined ? 1 : 1 + next.length)),
          help: "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t` and `\\u{...}`",
        });
      }
      out += c + (next ?? "");
      i++;
    }
  }
  return out;
}

function isEscapedQuoteAtEnd(image: string): boolean {
  // `"abc\"` (unterminated): the final quote is escaped when preceded by an odd run of backslashes
  let n = 0;
  for (let i = image.length - 2; i >= 1 && image[i] === "\\"; i--) n++;
  return n % 2 === 1;
}
