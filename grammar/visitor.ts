/**
 * CST -> AST: the one visitor from Chevrotain's concrete tree to the typed syntax tree. It tolerates
 * the holes error recovery leaves (absent children become `Missing` nodes or are dropped); the parser
 * already reported them.
 */
import type { CstNode, IToken } from "chevrotain";
import type { SourceFile, Span } from "../core/source.js";
import type * as A from "./ast.js";
import { decodeString } from "./lexer.js";

type Children = Record<string, (CstNode | IToken)[] | undefined>;

function isToken(x: CstNode | IToken): x is IToken {
  return (x as IToken).image !== undefined;
}

function real(token: IToken | undefined): token is IToken {
  return token !== undefined && !token.isInsertedInRecovery && Number.isFinite(token.startOffset);
}

/** Binary operators by precedence, loosest first; `not` is between `and` and the comparisons. */
const precedence: Record<string, number> = { or: 1, and: 2, "==": 4, "!=": 4, in: 4, "+": 5, "-": 5, "*": 6, "/": 6 };
const notPrecedence = 3;

export class AstBuilder {
  constructor(private readonly source: SourceFile) {}

  private tokenSpan(token: IToken): Span {
    return this.source.span(token.startOffset, token.startOffset + token.image.length);
  }

  private span(start: number, end: number): Span {
    return this.source.span(start, Math.max(start, end));
  }

  private tokens(c: Children, name: string): IToken[] {
    return ((c[name] ?? []) as IToken[]).filter(real);
  }

  private token(c: Children, name: string): IToken | undefined {
    return this.tokens(c, name)[0];
  }

  private nodes(c: Children, name: string): CstNode[] {
    return ((c[name] ?? []) as CstNode[]).filter((n) => !isToken(n));
  }

  private node(c: Children, name: string): CstNode | undefined {
    return this.nodes(c, name)[0];
  }

  /** The first and last real token offsets under a CST node (undefined when it holds none). */
  private extent(node: CstNode): [number, number] | undefined {
    let lo = Infinity;
    let hi = -Infinity;
    const walk = (n: CstNode) => {
      for (const list of Object.values(n.children)) {
        for (const x of list ?? []) {
          if (isToken(x)) {
            if (real(x)) {
              lo = Math.min(lo, x.startOffset);
              hi = Math.max(hi, x.startOffset + x.image.length);
            }
          } else walk(x);
        }
      }
    };
    walk(node);
    return lo === Infinity ? undefined : [lo, hi];
  }

  private name(token: IToken): A.Name {
    return { kind: "Name", text: token.image, span: this.tokenSpan(token) };
  }

  /** The items of a parsed stretch of a file (a `file` CST), appended to `into`. */
  items(cst: CstNode, into: A.Item[]): void {
    for (const itemNode of this.nodes(cst.children, "item")) {
      const item = this.item(itemNode);
      if (item) into.push(item);
    }
  }

  private item(node: CstNode): A.Item | undefined {
    const c = node.children;
    const imp = this.node(c, "importItem");
    if (imp) {
      const kw = this.token(imp.children, "Import");
      const str = this.token(imp.children, "StringLiteral");
      if (!kw || !str) return undefined;
      const path = this.string(str);
      return { kind: "Import", path, span: this.span(kw.startOffset, path.span.end) };
    }
    const letNode = this.node(c, "letItem");
    if (letNode) {
      const kw = this.token(letNode.children, "Let");
      const id = this.token(letNode.children, "Identifier");
      if (!kw || !id) return undefined;
      const value = this.expression(this.node(letNode.children, "expression"), this.tokenSpan(id).end);
      return { kind: "Let", name: this.name(id), value, span: this.span(kw.startOffset, value.span.end) };
    }
    const decl = this.node(c, "declaration");
    if (decl) return this.declaration(decl);
    return undefined;
  }

  private declaration(node: CstNode): A.Decl | undefined {
    const c = node.children;
    const kw = this.token(c, "KindKeyword");
    const id = this.token(c, "Identifier");
    if (!kw || !id) return undefined;
    const pathNode = this.node(c, "path");
    const base = pathNode ? this.path(pathNode) : undefined;
    const blockNode = this.node(c, "block");
    const body = blockNode ? this.block(blockNode) : undefined;
    const end = body?.span.end ?? base?.span.end ?? this.tokenSpan(id).end;
    return {
      kind: "Decl",
      declKind: kw.image as A.DeclKind,
      keywordSpan: this.tokenSpan(kw),
      name: this.name(id),
      base: base && base.segments.length > 0 ? base : undefined,
      body,
      span: this.span(kw.startOffset, end),
    };
  }

  private block(node: CstNode): A.Block {
    const c = node.children;
    const open = this.token(c, "LCurly");
    const close = this.token(c, "RCurly");
    const members: A.Member[] = [];
    for (const m of this.nodes(c, "member")) {
      const field = this.node(m.children, "field");
      const ablate = this.node(m.children, "ablate");
      const exclude = this.node(m.children, "exclude");
      if (field) {
        const f = this.field(field);
        if (f) members.push(f);
      } else if (ablate) {
        const a = this.ablate(ablate);
        if (a) members.push(a);
      } else if (exclude) {
        const kw = this.token(exclude.children, "Exclude");
        if (kw) {
          const condition = this.expression(this.node(exclude.children, "expression"), this.tokenSpan(kw).end);
          members.push({ kind: "Exclude", condition, span: this.span(kw.startOffset, condition.span.end) });
        }
      }
    }
    const ext = this.extent(node);
    const start = open?.startOffset ?? ext?.[0] ?? 0;
    const end = close ? close.startOffset + 1 : ext?.[1] ?? start;
    return { kind: "Block", members, span: this.span(start, end) };
  }

  private field(node: CstNode): A.Field | undefined {
    const c = node.children;
    const id = this.token(c, "Identifier") ?? this.token(c, "KindKeyword") ?? this.token(c, "In");
    if (!id) return undefined;
    const eq = this.token(c, "Equals");
    const value = this.expression(this.node(c, "expression"), eq ? eq.startOffset + 1 : this.tokenSpan(id).end);
    return { kind: "Field", name: this.name(id), value, span: this.span(id.startOffset, value.span.end) };
  }

  private ablate(node: CstNode): A.Ablate | undefined {
    const c = node.children;
    const kw = this.token(c, "Ablate");
    if (!kw) return undefined;
    // axes and zip groups, in source order
    const members: { at: number; member: A.Axis | A.ZipGroup }[] = [];
    for (const axisNode of this.nodes(c, "axis")) {
      const axis = this.axis(axisNode);
      if (axis) members.push({ at: axis.span.start, member: axis });
    }
    for (const groupNode of this.nodes(c, "zipGroup")) {
      const zip = this.token(groupNode.children, "Zip");
      if (!zip) continue;
      const axes = this.nodes(groupNode.children, "axis").map((n) => this.axis(n)).filter((a): a is A.Axis => a !== undefined);
      const close = this.token(groupNode.children, "RCurly");
      const ext = this.extent(groupNode);
      const span = this.span(zip.startOffset, close ? close.startOffset + 1 : ext?.[1] ?? zip.startOffset + 3);
      members.push({ at: zip.startOffset, member: { kind: "ZipGroup", axes, span } });
    }
    members.sort((a, b) => a.at - b.at);
    const close = this.token(c, "RCurly");
    const ext = this.extent(node);
    return {
      kind: "Ablate",
      zip: this.token(c, "Zip") !== undefined,
      members: members.map((m) => m.member),
      span: this.span(kw.startOffset, close ? close.startOffset + 1 : ext?.[1] ?? kw.startOffset + 6),
    };
  }

  private axis(node: CstNode): A.Axis | undefined {
    const pathNode = this.node(node.children, "path");
    if (!pathNode) return undefined;
    const path = this.path(pathNode);
    if (path.segments.length === 0) return undefined;
    const colon = this.token(node.children, "Colon");
    const values = this.expression(this.node(node.children, "expression"), colon ? colon.startOffset + 1 : path.span.end);
    return { kind: "Axis", path, values, span: this.span(path.span.start, values.span.end) };
  }

  private missing(at: number): A.Missing {
    return { kind: "Missing", span: this.span(at, at) };
  }

  /**
   * `at`: where to place a Missing node when the expression is absent. The parser gives an
   * expression's operands and operators as one flat sequence; the tree is built here by precedence
   * with two stacks (operator precedence parsing), in a loop however long the sequence.
   */
  expression(node: CstNode | undefined, at: number): A.Expr {
    if (!node) return this.missing(at);
    const operands = (node.children.operands ?? []) as CstNode[];
    const operators = ((node.children.operators ?? []) as IToken[]).filter(real);
    const values: A.Expr[] = [];
    // pending operators: a binary operator token, or a `not` prefix (which binds looser than comparisons)
    const pending: { token: IToken; not: boolean }[] = [];
    const precedenceOf = (p: { token: IToken; not: boolean }) => (p.not ? notPrecedence : precedence[p.token.image]);
    const reduce = () => {
      const { token, not } = pending.pop()!;
      if (not) {
        const operand = values.pop()!;
        values.push({ kind: "Unary", op: "not", operand, span: this.span(token.startOffset, operand.span.end) });
        return;
      }
      const right = values.pop()!;
      const left = values.pop()!;
      const end = token.startOffset + token.image.length;
      if (token.image === "in") {
        const list: A.ListExpr = right.kind === "List" ? right : { kind: "List", items: [], span: this.span(end, end) };
        values.push({ kind: "In", value: left, list, span: this.span(left.span.start, Math.max(list.span.end, end)) });
        return;
      }
      values.push({
        kind: "Binary",
        op: token.image as A.BinaryOp,
        left,
        right,
        opSpan: this.tokenSpan(token),
        span: this.span(Math.min(left.span.start, token.startOffset), Math.max(right.span.end, end)),
      });
    };
    for (let i = 0; i <= operators.length; i++) {
      const op = operators[i - 1];
      if (op) {
        const p = precedence[op.image];
        while (pending.length > 0 && precedenceOf(pending[pending.length - 1]) >= p) reduce();
        pending.push({ token: op, not: false });
      }
      const operandAt = op ? op.startOffset + op.image.length : at;
      const operand = operands[i];
      if (op?.image === "in") {
        values.push(operand ? this.list(operand) : this.missing(operandAt));
        continue;
      }
      const c = operand?.children;
      for (const not of c ? this.tokens(c, "Not") : []) pending.push({ token: not, not: true });
      values.push(this.unary(operand, operandAt));
    }
    while (pending.length > 0) reduce();
    return values[0];
  }

  /** An operand's `-` prefixes and value (its `not`s are the expression's). */
  private unary(node: CstNode | undefined, at: number): A.Expr {
    if (!node) return this.missing(at);
    const c = node.children;
    const minuses = this.tokens(c, "Minus");
    const nots = this.tokens(c, "Not");
    const valueAt = minuses.length ? minuses[minuses.length - 1].startOffset + 1 : nots.length ? nots[nots.length - 1].startOffset + 3 : at;
    const postfix = this.node(c, "postfix");
    let value: A.Expr = postfix ? this.postfix(postfix, valueAt) : this.missing(valueAt);
    for (let i = minuses.length - 1; i >= 0; i--) {
      value = { kind: "Unary", op: "-", operand: value, span: this.span(minuses[i].startOffset, value.span.end) };
    }
    return value;
  }

  private postfix(node: CstNode, at: number): A.Expr {
    const primary = this.primary(this.node(node.children, "primary"), at);
    const blockNode = this.node(node.children, "block");
    if (!blockNode) return primary;
    const body = this.block(blockNode);
    return { kind: "Refine", base: primary, body, span: this.span(primary.span.start, body.span.end) };
  }

  private primary(node: CstNode | undefined, at: number): A.Expr {
    if (!node) return this.missing(at);
    const c = node.children;
    const num = this.token(c, "NumberLiteral");
    if (num) return this.number(num);
    const str = this.token(c, "StringLiteral");
    if (str) return this.string(str);
    const tr = this.token(c, "True") ?? this.token(c, "False");
    if (tr) return { kind: "Bool", value: tr.image === "true", span: this.tokenSpan(tr) };
    const list = this.node(c, "list");
    if (list) return this.list(list);
    const record = this.node(c, "record");
    if (record) return this.record(record);
    const path = this.node(c, "path");
    if (path) {
      const p = this.path(path);
      return p.segments.length > 0 ? p : this.missing(at);
    }
    const label = this.node(c, "axisLabel");
    if (label) {
      const name = this.token(label.children, "Identifier");
      const pathNode = this.node(label.children, "path");
      const p = pathNode ? this.path(pathNode) : undefined;
      if (!name || !p || p.segments.length === 0) return this.missing(at);
      const rp = this.token(label.children, "RParen");
      return { kind: "Label", path: p, span: this.span(name.startOffset, rp ? rp.startOffset + 1 : p.span.end) };
    }
    const lp = this.token(c, "LParen");
    if (lp) {
      const expr = this.expression(this.node(c, "expression"), lp.startOffset + 1);
      const rp = this.token(c, "RParen");
      return { kind: "Paren", expr, span: this.span(lp.startOffset, rp ? rp.startOffset + 1 : expr.span.end) };
    }
    return this.missing(at);
  }

  private number(token: IToken): A.IntLit | A.FloatLit | A.Missing {
    const text = token.image;
    const span = this.tokenSpan(token);
    const clean = text.replace(/_/g, "");
    if (!/^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(clean)) return { kind: "Missing", span };
    if (/[.eE]/.test(clean)) return { kind: "Float", value: Number(clean), text, span };
    return { kind: "Int", value: BigInt(clean), text, span };
  }

  private string(token: IToken): A.StringLit {
    return { kind: "String", value: decodeString(token.image, token.startOffset), text: token.image, span: this.tokenSpan(token) };
  }

  private list(node: CstNode): A.ListExpr {
    const c = node.children;
    const open = this.token(c, "LBracket");
    const close = this.token(c, "RBracket");
    const items: A.Expr[] = [];
    for (const e of this.nodes(c, "expression")) {
      const ext = this.extent(e);
      if (ext) items.push(this.expression(e, ext[0]));
    }
    const ext = this.extent(node);
    const start = open?.startOffset ?? ext?.[0] ?? 0;
    return { kind: "List", items, span: this.span(start, close ? close.startOffset + 1 : ext?.[1] ?? start) };
  }

  private record(node: CstNode): A.RecordExpr {
    const c = node.children;
    const open = this.token(c, "LCurly");
    const close = this.token(c, "RCurly");
    const entries: A.RecordEntry[] = [];
    for (const en of this.nodes(c, "entry")) {
      const ec = en.children;
      const str = this.token(ec, "StringLiteral");
      const id = this.token(ec, "Identifier") ?? this.token(ec, "KindKeyword") ?? this.token(ec, "In");
      const keyToken = str ?? id;
      if (!keyToken) continue;
      const key: A.Name = str
        ? { kind: "Name", text: decodeString(str.image, str.startOffset), span: this.tokenSpan(str) }
        : this.name(keyToken);
      const eq = this.token(ec, "Equals");
      const value = this.expression(this.node(ec, "expression"), eq ? eq.startOffset + 1 : key.span.end);
      entries.push({ kind: "Entry", key, quoted: str !== undefined, value, span: this.span(key.span.start, value.span.end) });
    }
    const ext = this.extent(node);
    const start = open?.startOffset ?? ext?.[0] ?? 0;
    return { kind: "Record", entries, span: this.span(start, close ? close.startOffset + 1 : ext?.[1] ?? start) };
  }

  path(node: CstNode): A.Path {
    const c = node.children;
    const parts = [...this.tokens(c, "Identifier"), ...this.tokens(c, "KindKeyword"), ...this.tokens(c, "In")].sort((a, b) => a.startOffset - b.startOffset);
    const segments = parts.map((p) => this.name(p));
    const start = segments[0]?.span.start ?? 0;
    const end = segments[segments.length - 1]?.span.end ?? start;
    return { kind: "Path", segments, span: this.span(start, end) };
  }
}
