/**
 * The tokens of the mmfm language (LANGUAGE.md §2).
 *
 * Keywords are split in two categories: the eight declaration kinds (`vision` ... `experiment`), which
 * may also appear as field names (`vision = clip`), path segments (`model.vision`) and component names
 * (`train = [connector]`), and the other keywords, which are reserved everywhere.
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

/** Any of the eight declaration kinds. */
export const KindKeyword = createToken({ name: "KindKeyword", pattern: Lexer.NA });

function capitalise(word: string): string {
  return word[0].toUpperCase() + word.slice(1);
}

function kind(word: string): TokenType {
  return createToken({ name: capitalise(word), label: `\`${word}\``, pattern: new RegExp(word), longer_alt: Identifier, categories: [KindKeyword] });
}

function keyword(word: string): TokenType {
  return createToken({ name: capitalise(word), label: `\`${word}\``, pattern: new RegExp(word), longer_alt: Identifier });
}

export const Vision = kind("vision");
export const Connector = kind("connector");
export const Language = kind("language");
export const Dataset = kind("dataset");
export const Stage = kind("stage");
export const Eval = kind("eval");
export const Model = kind("model");
export const Experiment = kind("experiment");

export const Import = keyword("import");
export const Let = keyword("let");
export const Ablate = keyword("ablate");
export const Zip = keyword("zip");
export const Exclude = keyword("exclude");
export const And = keyword("and");
export const Or = keyword("or");
export const Not = keyword("not");
export const In = keyword("in");
export const True = keyword("true");
export const False = keyword("false");

/** Every keyword, for messages ("`model` is a keyword"). */
export const keywords: readonly string[] = [
  "import", "let", "vision", "connector", "language", "dataset", "stage", "eval", "model",
  "experiment", "ablate", "zip", "exclude", "and", "or", "not", "in", "true", "false",
];

/**
 * A number as written. The pattern is deliberately wider than the language (`1__0`, `1_`, `1e`) so that
 * a malformed number is one token with a precise diagnostic instead of a cascade of parse errors.
 */
export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9_]*)?[A-Za-z0-9_]*/,
});

export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"/ });
/** A string missing its closing quote before the end of the line: reported, then parsed as a string. */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/,
  categories: [StringLiteral],
});

export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n\r]*/, group: "comments" });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: "comments" });
export const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  pattern: /\/\*[\s\S]*/,
  group: "comments",
});

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED });

export const LCurly = createToken({ name: "LCurly", pattern: /\{/, label: "`{`" });
export const RCurly = createToken({ name: "RCurly", pattern: /\}/, label: "`}`" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "`[`" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "`]`" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "`(`" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "`)`" });
export const EqEq = createToken({ name: "EqEq", pattern: /==/, label: "`==`" });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/, label: "`!=`" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "`=`" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "`:`" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "`,`" });
export const Semicolon = createToken({ name: "Semicolon", pattern: /;/, label: "`;`" });
export const Dot = createToken({ name: "Dot", pattern: /\./, label: "`.`" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, label: "`+`" });
export const Minus = createToken({ name: "Minus", pattern: /-/, label: "`-`" });
export const Star = createToken({ name: "Star", pattern: /\*/, label: "`*`" });
export const Slash = createToken({ name: "Slash", pattern: /\//, label: "`/`" });

/** In lexing priority order: comments before `/`, `==` before `=`, keywords before identifiers. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  StringLiteral,
  UnterminatedString,
  NumberLiteral,
  KindKeyword,
  Vision,
  Connector,
  Language,
  Dataset,
  Stage,
  Eval,
  Model,
  Experiment,
  Import,
  Let,
  Ablate,
  Zip,
  Exclude,
  And,
  Or,
  Not,
  In,
  True,
  False,
  Identifier,
  LCurly,
  RCurly,
  LBracket,
  RBracket,
  LParen,
  RParen,
  EqEq,
  NotEq,
  Equals,
  Colon,
  Comma,
  Semicolon,
  Dot,
  Plus,
  Minus,
  Star,
  Slash,
];
