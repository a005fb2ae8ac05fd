/**
 * The grammar of LANGUAGE.md §3, §4 and §6 as a pure Chevrotain CstParser with error recovery: one
 * parser instance, reused; recognition errors become diagnostics, and the recovered CST still reaches
 * the visitor so later phases can report more.
 */
import { CstParser, EOF, type CstNode, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import type { AssignmentProblem, SyntaxProblem } from "../core/messages.js";
import * as t from "./tokens.js";

/** A token as a message names it: `keyword \`model\``, `name \`x\``, `the end of the file`. */
export function describe(token: IToken): string {
  if (token.tokenType === EOF) return "the end of the file";
  if (t.keywords.includes(token.image)) return `keyword \`${token.image}\``;
  if (token.tokenType === t.Identifier) return `name \`${token.image}\``;
  if (token.tokenType === t.NumberLiteral) return `number \`${token.image}\``;
  if (token.tokenType === t.StringLiteral || token.tokenType === t.UnterminatedString) return "a string";
  return `\`${token.image}\``;
}

function tokenDescription(type: TokenType): string {
  switch (type) {
    case t.Identifier:
      return "a name";
    case t.KindKeyword:
      return "a declaration kind (`vision`, `connector`, `language`, `dataset`, `stage`, `eval`, `model`, `experiment`)";
    case t.NumberLiteral:
      return "a number";
    case t.StringLiteral:
      return "a string";
    case EOF:
      return "the end of the file";
    default: {
      const label = type.LABEL ?? type.name;
      return label.startsWith("`") ? label : `\`${label}\``;
    }
  }
}

/**
 * Chevrotain keeps an error's message as a string: the parser's is the problem as data (JSON), read
 * back by `parseTokens`; the catalog (core/messages.ts) words it.
 */
const problem = (p: SyntaxProblem): string => JSON.stringify(p);

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, ruleName }) {
    if (expected === t.Identifier && t.keywords.includes(actual.image)) return problem({ kind: "keywordAsName", keyword: actual.image });
    return problem({ kind: "expectedToken", expected: tokenDescription(expected), rule: ruleName, found: describe(actual) });
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return problem({ kind: "expectedItem", found: describe(firstRedundant) });
  },
  buildNoViableAltMessage({ actual, ruleName }) {
    return problem({ kind: "unexpectedToken", found: describe(actual[0]), rule: ruleName });
  },
  buildEarlyExitMessage({ actual, ruleName }) {
    return problem({ kind: "unexpectedToken", found: describe(actual[0]), rule: ruleName });
  },
};

/** Operators after which `not` cannot start an operand (it binds looser than they do). */
const arithmeticOrComparison = new Set<TokenType>([t.EqEq, t.NotEq, t.Plus, t.Minus, t.Star, t.Slash]);

class MmfmParser extends CstParser {
  constructor() {
    super(t.allTokens, { recoveryEnabled: true, errorMessageProvider: messages, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  file = this.RULE("file", () => {
    this.MANY(() => this.SUBRULE(this.item));
  });

  item = this.RULE("item", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importItem) },
      { ALT: () => this.SUBRULE(this.letItem) },
      { ALT: () => this.SUBRULE(this.declaration) },
    ]);
  });

  importItem = this.RULE("importItem", () => {
    this.CONSUME(t.Import);
    this.CONSUME(t.StringLiteral);
  });

  letItem = this.RULE("letItem", () => {
    this.CONSUME(t.Let);
    this.CONSUME(t.Identifier);
    this.CONSUME(t.Equals);
    this.SUBRULE(this.expression);
  });

  declaration = this.RULE("declaration", () => {
    this.CONSUME(t.KindKeyword);
    this.CONSUME(t.Identifier);
    this.OPTION(() => {
      this.CONSUME(t.Equals);
      this.SUBRULE(this.path);
    });
    this.OPTION2(() => this.SUBRULE(this.block));
  });

  block = this.RULE("block", () => {
    this.CONSUME(t.LCurly);
    this.MANY({
      // a kind word not followed by `=` starts the next declaration: this block ends (its `}` is missing)
      GATE: () => !(this.LA(1).tokenType.CATEGORIES?.includes(t.KindKeyword) && this.LA(2).tokenType !== t.Equals),
      DEF: () => {
        this.OR([
          { ALT: () => this.SUBRULE(this.member) },
          { ALT: () => this.CONSUME(t.Comma) },
          { ALT: () => this.CONSUME(t.Semicolon) },
        ]);
      },
    });
    this.CONSUME(t.RCurly);
  });

  member = this.RULE("member", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.field) },
      { ALT: () => this.SUBRULE(this.ablate) },
      { ALT: () => this.SUBRULE(this.exclude) },
    ]);
  });

  field = this.RULE("field", () => {
    // kind words and `in` are field names too (`vision = clip`, a connector's `in = 1024`), but only
    // when `=` follows: `stage s` after a field is a new declaration (the block lacks its `}`)
    this.OR([
      { ALT: () => this.CONSUME(t.Identifier) },
      { GATE: () => this.LA(2).tokenType === t.Equals, ALT: () => this.CONSUME(t.KindKeyword) },
      { GATE: () => this.LA(2).tokenType === t.Equals, ALT: () => this.CONSUME(t.In) },
    ]);
    this.CONSUME(t.Equals);
    this.SUBRULE(this.expression);
  });

  /** `ablate { ... }` crosses its axes and `zip { ... }` groups; `ablate zip { ... }` pairs its axes (a group inside is E0412). */
  ablate = this.RULE("ablate", () => {
    this.CONSUME(t.Ablate);
    this.OPTION(() => this.CONSUME(t.Zip));
    this.CONSUME(t.LCurly);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.axis) },
        { ALT: () => this.SUBRULE(this.zipGroup) },
        { ALT: () => this.CONSUME(t.Comma) },
        { ALT: () => this.CONSUME(t.Semicolon) },
      ]);
    });
    this.CONSUME(t.RCurly);
  });

  /** `zip { AXIS: VALUES ... }` inside `ablate { }`: axes paired with each other, crossed with the rest. */
  zipGroup = this.RULE("zipGroup", () => {
    this.CONSUME(t.Zip);
    this.CONSUME(t.LCurly);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.axis) },
        { ALT: () => this.CONSUME(t.Comma) },
        { ALT: () => this.CONSUME(t.Semicolon) },
      ]);
    });
    this.CONSUME(t.RCurly);
  });

  axis = this.RULE("axis", () => {
    this.SUBRULE(this.path);
    this.CONSUME(t.Colon);
    this.SUBRULE(this.expression);
  });

  exclude = this.RULE("exclude", () => {
    this.CONSUME(t.Exclude);
    this.SUBRULE(this.expression);
  });

  /**
   * An expression is operands and binary operators of every precedence in one flat sequence; the
   * visitor builds the tree by precedence (or < and < not < comparisons < + - < * /). So a chain of a
   * hundred thousand `+` costs no recursion, and an operand is three syntax nodes, not nine. What the
   * precedence rules forbid is gated here, so the language is the same as with one rule per level:
   * comparisons do not chain (`a == b == c`; `==`, `!=` and `in [..]` once between `and`s and `or`s),
   * and `not` starts an operand only where a comparison may start (not after `==`, `+`, `-`, ...).
   */
  expression = this.RULE("expression", () => {
    let compared = false;
    this.SUBRULE(this.unary, { LABEL: "operands" });
    this.MANY({
      GATE: () => {
        const next = this.LA(1).tokenType;
        if (next === t.In) return !compared && this.LA(2).tokenType === t.LBracket; // else a connector's next field `in = 1024`
        if (next === t.EqEq || next === t.NotEq) return !compared;
        return true;
      },
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              this.OR2([
                { ALT: () => this.CONSUME(t.Or, { LABEL: "operators" }) },
                { ALT: () => this.CONSUME(t.And, { LABEL: "operators" }) },
              ]);
              compared = false;
              this.SUBRULE2(this.unary, { LABEL: "operands" });
            },
          },
          {
            ALT: () => {
              this.OR3([
                { ALT: () => this.CONSUME(t.EqEq, { LABEL: "operators" }) },
                { ALT: () => this.CONSUME(t.NotEq, { LABEL: "operators" }) },
              ]);
              compared = true;
              this.SUBRULE3(this.unary, { LABEL: "operands" });
            },
          },
          {
            ALT: () => {
              this.CONSUME(t.In, { LABEL: "operators" });
              compared = true;
              this.SUBRULE(this.list, { LABEL: "operands" });
            },
          },
          {
            ALT: () => {
              this.OR4([
                { ALT: () => this.CONSUME(t.Plus, { LABEL: "operators" }) },
                { ALT: () => this.CONSUME(t.Minus, { LABEL: "operators" }) },
                { ALT: () => this.CONSUME(t.Star, { LABEL: "operators" }) },
                { ALT: () => this.CONSUME(t.Slash, { LABEL: "operators" }) },
              ]);
              this.SUBRULE4(this.unary, { LABEL: "operands" });
            },
          },
        ]);
      },
    });
  });

  /** An operand: `not`s (where a comparison may start), then `-`s, then a value. */
  unary = this.RULE("unary", () => {
    this.MANY({
      GATE: () => !arithmeticOrComparison.has(this.LA(0).tokenType),
      DEF: () => this.CONSUME(t.Not),
    });
    this.MANY2(() => this.CONSUME(t.Minus));
    this.SUBRULE(this.postfix);
  });

  postfix = this.RULE("postfix", () => {
    this.SUBRULE(this.primary);
    this.OPTION(() => this.SUBRULE(this.block));
  });

  primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(t.NumberLiteral) },
      { ALT: () => this.CONSUME(t.StringLiteral) },
      { ALT: () => this.CONSUME(t.True) },
      { ALT: () => this.CONSUME(t.False) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.record) },
      // `label(PATH)`: `label` stays an ordinary name everywhere else
      { GATE: () => this.LA(1).image === "label" && this.LA(2).tokenType === t.LParen, ALT: () => this.SUBRULE(this.axisLabel) },
      { ALT: () => this.SUBRULE(this.path) },
      {
        ALT: () => {
          this.CONSUME(t.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(t.RParen);
        },
      },
    ]);
  });

  /** `label(PATH)`: the label of an axis at a grid point, in `exclude` conditions. */
  axisLabel = this.RULE("axisLabel", () => {
    this.CONSUME(t.Identifier);
    this.CONSUME(t.LParen);
    this.SUBRULE(this.path);
    this.CONSUME(t.RParen);
  });

  list = this.RULE("list", () => {
    this.CONSUME(t.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== t.RBracket,
        DEF: () => {
          this.CONSUME(t.Comma);
          this.SUBRULE2(this.expression);
        },
      });
      this.OPTION2(() => this.CONSUME2(t.Comma));
    });
    this.CONSUME(t.RBracket);
  });

  record = this.RULE("record", () => {
    this.CONSUME(t.LCurly);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.entry) },
        { ALT: () => this.CONSUME(t.Comma) },
        { ALT: () => this.CONSUME(t.Semicolon) },
      ]);
    });
    this.CONSUME(t.RCurly);
  });

  entry = this.RULE("entry", () => {
    this.OR([
      { ALT: () => this.CONSUME(t.Identifier) },
      { ALT: () => this.CONSUME(t.KindKeyword) },
      { ALT: () => this.CONSUME(t.In) },
      { ALT: () => this.CONSUME(t.StringLiteral) },
    ]);
    this.CONSUME(t.Equals);
    this.SUBRULE(this.expression);
  });

  path = this.RULE("path", () => {
    this.OR([{ ALT: () => this.CONSUME(t.Identifier) }, { ALT: () => this.CONSUME(t.KindKeyword) }]);
    this.MANY(() => {
      this.CONSUME(t.Dot);
      this.OR2([
        { ALT: () => this.CONSUME2(t.Identifier) },
        { ALT: () => this.CONSUME2(t.KindKeyword) },
        { ALT: () => this.CONSUME2(t.In) },
      ]);
    });
  });
}

/** The one parser instance (Chevrotain parsers are reusable: set `input`, call a rule). */
export const parser = new MmfmParser();

export interface ParseError {
  readonly problem: SyntaxProblem;
  readonly token: IToken;
  /** the token before the error, to place "expected X" after it when the found token is far away */
  readonly previous?: IToken;
}

/** Whether the tokens at `i` begin an item: `import "..."`, `let NAME` or `KIND NAME`. */
export function startsItem(tokens: readonly IToken[], i: number): boolean {
  const a = tokens[i];
  const b = tokens[i + 1];
  if (!a) return false;
  if (a.tokenType === t.Import) return b?.tokenType === t.StringLiteral || b?.tokenType === t.UnterminatedString;
  if (a.tokenType === t.Let) return b?.tokenType === t.Identifier;
  return (a.tokenType.CATEGORIES ?? []).includes(t.KindKeyword) && b?.tokenType === t.Identifier;
}

/**
 * Parses a whole file. When the parser stops before the end (a token that cannot start an item), the
 * error is recorded, the tokens up to the next plausible item are skipped, and parsing goes on, so
 * every top-level error is reported. Returns one CST per parsed stretch, in order.
 */
export function parseTokens(tokens: IToken[]): { csts: CstNode[]; errors: ParseError[] } {
  const csts: CstNode[] = [];
  const errors: ParseError[] = [];
  let from = 0;
  while (from < tokens.length) {
    parser.input = tokens.slice(from);
    const cst = parser.file();
    csts.push(cst);
    let resumeAt = tokens.length;
    for (const e of parser.errors) {
      errors.push({ problem: JSON.parse(e.message) as SyntaxProblem, token: e.token, previous: (e as { previousToken?: IToken }).previousToken });
      if (e.name === "NotAllInputParsedException") {
        const at = tokens.indexOf(e.token, from);
        if (at < 0) break;
        let next = at + 1;
        while (next < tokens.length && !startsItem(tokens, next)) next++;
        resumeAt = next;
      }
    }
    from = resumeAt;
  }
  return { csts, errors };
}

/**
 * `PATH=VALUE` as given on the command line (`--set finetune.lr=1e-5`): the path and the value's CST,
 * or the reason they do not parse.
 */
export function parseAssignmentTokens(tokens: IToken[]): { path?: CstNode; value?: CstNode; error?: AssignmentProblem } {
  const eq = tokens.findIndex((tk) => tk.tokenType === t.Equals);
  if (eq <= 0) return { error: { kind: "noEquals" } };
  parser.input = tokens.slice(0, eq);
  const path = parser.path();
  if (parser.errors.length) return { error: { kind: "notAPath", text: tokens.slice(0, eq).map((x) => x.image).join("") } };
  const rest = tokens.slice(eq + 1);
  if (rest.length === 0) return { path, error: { kind: "noValue" } };
  parser.input = rest;
  const value = parser.expression();
  if (parser.errors.length) return { path, error: JSON.parse(parser.errors[0].message) as SyntaxProblem };
  return { path, value };
}
