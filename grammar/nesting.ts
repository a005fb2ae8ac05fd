/**
 * The nesting limit: how deep brackets and prefix operators may nest (E0108). The parser, the visitor,
 * the evaluator and the formatter recurse once per level of nesting, so a limit keeps them far from
 * the stack's end; everything whose length is data (a list's items, a chain of `+`, a file's items)
 * is walked by loops and has no limit.
 *
 * A level is an open `(`, `[` or `{` (a block, a record, a list, parentheses), counting with it the
 * prefix operators (`-`, `not`) written just before it, which stay open until it closes; prefix
 * operators before a plain value (`- - 1`) count until that value. The limit is far below what the
 * parser can take with Node's default stack (measured with Chevrotain 11: about 156 nested lists or
 * records when they are closed, but only 68 unclosed lists, whose error recovery walks the grammar
 * once per open level), so it holds with the stack a test runner or an editor leaves.
 */
import type { IToken, TokenType } from "chevrotain";
import * as t from "./tokens.js";

export const maxNesting = 32;

const opens = new Set<TokenType>([t.LParen, t.LBracket, t.LCurly]);
const closes = new Set<TokenType>([t.RParen, t.RBracket, t.RCurly]);
/** tokens after which a `-` is binary (they end a value) */
const valueEnds = new Set<TokenType>([t.Identifier, t.NumberLiteral, t.StringLiteral, t.UnterminatedString, t.True, t.False, t.In, t.RParen, t.RBracket, t.RCurly]);

function endsValue(token: IToken | undefined): boolean {
  if (!token) return false;
  return valueEnds.has(token.tokenType) || (token.tokenType.CATEGORIES ?? []).includes(t.KindKeyword);
}

/** The index of the first token that opens level `limit + 1`, or undefined when none does. */
export function tooDeep(tokens: readonly IToken[], limit = maxNesting): number | undefined {
  // each open bracket holds its own level and the prefix operators written before it
  const open: number[] = [];
  let depth = 0;
  let prefixes = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const type = token.tokenType;
    if (type === t.Not || (type === t.Minus && !endsValue(tokens[i - 1]))) {
      prefixes++;
      if (depth + prefixes > limit) return i;
    } else if (opens.has(type)) {
      const level = prefixes + 1;
      if (depth + level > limit) return i;
      open.push(level);
      depth += level;
      prefixes = 0;
    } else if (closes.has(type)) {
      depth -= open.pop() ?? 0;
      prefixes = 0;
    } else {
      prefixes = 0;
    }
  }
  return undefined;
}
