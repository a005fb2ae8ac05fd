/**
 * Text -> tokens. Every lexing problem becomes a diagnostic; the token stream stays usable so the
 * parser can go on and report more.
 */
import { Lexer, type IToken } from "chevrotain";
import type { Diagnostics } from "../core/diagnostics.js";
import { M } from "../core/messages.js";
import type { SourceFile } from "../core/source.js";
import type { Comment } from "./ast.js";
import * as t from "./tokens.js";

const lexer = new Lexer(t.allTokens, { positionTracking: "onlyOffset", ensureOptimizations: false });

export interface LexResult {
  readonly tokens: IToken[];
  readonly comments: Comment[];
}

const validNumber = /^[0-9](?:_?[0-9])*(?:\.[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;

/**
 * The tokens of `source.text` from `start` to `end` (the whole text by default), with offsets into
 * the whole text. A range must begin and end outside any token (the parser lexes a file item by item,
 * see `itemStarts`).
 */
export function lex(source: SourceFile, diagnostics: Diagnostics, start = 0, end = source.text.length): LexResult {
  const whole = start === 0 && end === source.text.length;
  const result = lexer.tokenize(whole ? source.text : source.text.slice(start, end));
  if (start !== 0) {
    for (const token of result.tokens) shift(token, start);
    for (const token of result.groups.comments ?? []) shift(token, start);
    for (const error of result.errors) error.offset += start;
  }
  for (const error of result.errors) {
    const ch = String.fromCodePoint(source.text.codePointAt(error.offset) ?? 0xfffd);
    const shown = /\s/.test(ch) || ch.charCodeAt(0) < 32 ? `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}` : ch;
    diagnostics.report(M.unexpectedCharacter, { char: ch, shown }, { span: source.span(error.offset, error.offset + error.length) });
  }
  const comments: Comment[] = [];
  for (const token of result.groups.comments ?? []) {
    const span = source.span(token.startOffset, token.startOffset + token.image.length);
    if (token.tokenType === t.UnterminatedComment) {
      diagnostics.report(M.unterminatedComment, {}, { span: source.span(token.startOffset, token.startOffset + 2) });
    }
    comments.push({ kind: "Comment", text: token.image, block: token.tokenType !== t.LineComment, span });
  }
  for (const token of result.tokens) {
    if (token.tokenType === t.NumberLiteral && !validNumber.test(token.image)) {
      const span = source.span(token.startOffset, token.startOffset + token.image.length);
      const startsLikeName = /^[0-9]+[A-Za-z]/.test(token.image) && !/^[0-9]+[eE][0-9+-]/.test(token.image);
      diagnostics.report(M.malformedNumber, { text: token.image, startsLikeName }, { span });
    } else if (token.tokenType === t.UnterminatedString) {
      diagnostics.report(M.unterminatedString, {}, { span: source.span(token.startOffset, token.startOffset + token.image.length) });
    } else if (token.tokenType === t.StringLiteral) {
      decodeString(token.image, token.startOffset, source, diagnostics);
    }
  }
  return { tokens: result.tokens, comments };
}

function shift(token: IToken, by: number): void {
  token.startOffset += by;
  if (token.endOffset !== undefined) token.endOffset += by;
}

const kindWords = "vision|connector|language|dataset|stage|eval|model|experiment";
/** a name, not a keyword */
const name = `(?!(?:${t.keywords.join("|")})(?![A-Za-z0-9_]))[A-Za-z_]`;
/** A line that begins an item: `import "`, `let NAME`, `KIND NAME` (only spaces or tabs before and between). */
const itemLine = new RegExp(`^[ \\t]*(?:import[ \\t]*"|let[ \\t]+${name}|(?:${kindWords})[ \\t]+${name})`);

/**
 * Offsets of the lines that begin a top-level item, outside block comments (strings and line
 * comments end with their line, so a line never begins inside one). The first is always 0. Parsing a
 * file item by item keeps only one item's tokens and syntax tree of Chevrotain's in memory at a time.
 */
export function itemStarts(text: string): number[] {
  const starts = [0];
  let inComment = false;
  let at = 0;
  while (at < text.length) {
    let lineEnd = text.indexOf("\n", at);
    if (lineEnd < 0) lineEnd = text.length;
    if (!inComment && at > 0 && itemLine.test(text.slice(at, Math.min(lineEnd, at + 200)))) starts.push(at);
    inComment = commentOpenAfter(text, at, lineEnd, inComment);
    at = lineEnd + 1;
  }
  return starts;
}

/** Whether a block comment is still open at the end of the line `text[from, to)`. */
function commentOpenAfter(text: string, from: number, to: number, inComment: boolean): boolean {
  let i = from;
  while (i < to) {
    if (inComment) {
      const close = text.indexOf("*/", i);
      if (close < 0 || close + 2 > to) return true;
      inComment = false;
      i = close + 2;
      continue;
    }
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // a string, to its closing quote or the end of the line (as the lexer reads it, a lone \r ends it too)
      i++;
      while (i < to && text.charCodeAt(i) !== 34 && text.charCodeAt(i) !== 13) i += text.charCodeAt(i) === 92 /* \ */ && text.charCodeAt(i + 1) !== 13 ? 2 : 1;
      i++;
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      return false;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      inComment = true;
      i += 2;
    } else {
      i++;
    }
  }
  return inComment;
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
          diagnostics.report(M.invalidUnicodeEscape, { escape: body.slice(i, i + len) }, { span: source.span(at, at + len) });
        }
        out += body.slice(i, i + len);
        i += len - 1;
      }
    } else {
      if (source && diagnostics) {
        diagnostics.report(M.unknownEscape, { char: next ?? "" }, { span: source.span(at, at + (next === undefined ? 1 : 1 + next.length)) });
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
