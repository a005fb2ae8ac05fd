/**
 * The typed syntax tree of an mmfm file: a discriminated union on `kind`, every node readonly and
 * carrying its span (offsets into its file). Built from the parser's CST by one visitor (`visitor.ts`).
 */
import type { SourceFile, Span } from "../core/source.js";

export type DeclKind = "vision" | "connector" | "language" | "dataset" | "stage" | "eval" | "model" | "experiment";

export const declKinds: readonly DeclKind[] = [
  "vision", "connector", "language", "dataset", "stage", "eval", "model", "experiment",
];

export interface Name {
  readonly kind: "Name";
  readonly text: string;
  readonly span: Span;
}

export interface File {
  readonly kind: "File";
  readonly source: SourceFile;
  readonly items: readonly Item[];
  readonly comments: readonly Comment[];
  readonly span: Span;
}

export interface Comment {
  readonly kind: "Comment";
  readonly text: string;
  readonly block: boolean;
  readonly span: Span;
}

export type Item = Import | Let | Decl;

export interface Import {
  readonly kind: "Import";
  readonly path: StringLit;
  readonly span: Span;
}

export interface Let {
  readonly kind: "Let";
  readonly name: Name;
  readonly value: Expr;
  readonly span: Span;
}

export interface Decl {
  readonly kind: "Decl";
  readonly declKind: DeclKind;
  /** the span of the kind keyword */
  readonly keywordSpan: Span;
  readonly name: Name;
  readonly base?: Path;
  readonly body?: Block;
  readonly span: Span;
}

/** `{ ... }` after a declaration or a refinement. Only experiments may hold `ablate` and `exclude`. */
export interface Block {
  readonly kind: "Block";
  readonly members: readonly Member[];
  readonly span: Span;
}

export type Member = Field | Ablate | Exclude;

export interface Field {
  readonly kind: "Field";
  readonly name: Name;
  readonly value: Expr;
  readonly span: Span;
}

/**
 * `ablate { ... }`: its members (axes and `zip` groups) are crossed; `ablate zip { ... }` (`zip`
 * true) pairs its axes, and holds no groups.
 */
export interface Ablate {
  readonly kind: "Ablate";
  readonly zip: boolean;
  readonly members: readonly (Axis | ZipGroup)[];
  readonly span: Span;
}

/** `zip { AXIS: VALUES ... }` in an `ablate` block: its axes paired, crossed with the block's other members. */
export interface ZipGroup {
  readonly kind: "ZipGroup";
  readonly axes: readonly Axis[];
  readonly span: Span;
}

/** Every axis of an `ablate` block, those of its `zip` groups included, in order. */
export function ablateAxes(block: Ablate): Axis[] {
  const out: Axis[] = [];
  for (const m of block.members) {
    if (m.kind === "Axis") out.push(m);
    else for (const axis of m.axes) out.push(axis);
  }
  return out;
}

export interface Axis {
  readonly kind: "Axis";
  readonly path: Path;
  readonly values: Expr;
  readonly span: Span;
}

export interface Exclude {
  readonly kind: "Exclude";
  readonly condition: Expr;
  readonly span: Span;
}

export type Expr =
  | IntLit
  | FloatLit
  | StringLit
  | BoolLit
  | ListExpr
  | RecordExpr
  | Path
  | Unary
  | Binary
  | InExpr
  | Refine
  | Paren
  | AxisLabel
  | Missing;

export interface IntLit {
  readonly kind: "Int";
  readonly value: bigint;
  /** as written, e.g. `256_000` */
  readonly text: string;
  readonly span: Span;
}

export interface FloatLit {
  readonly kind: "Float";
  readonly value: number;
  readonly text: string;
  readonly span: Span;
}

export interface StringLit {
  readonly kind: "String";
  /** the decoded value */
  readonly value: string;
  /** as written, with quotes and escapes */
  readonly text: string;
  readonly span: Span;
}

export interface BoolLit {
  readonly kind: "Bool";
  readonly value: boolean;
  readonly span: Span;
}

export interface ListExpr {
  readonly kind: "List";
  readonly items: readonly Expr[];
  readonly span: Span;
}

export interface RecordEntry {
  readonly kind: "Entry";
  /** an identifier or a string key (`"2b" = ...`) */
  readonly key: Name;
  readonly quoted: boolean;
  readonly value: Expr;
  readonly span: Span;
}

export interface RecordExpr {
  readonly kind: "Record";
  readonly entries: readonly RecordEntry[];
  readonly span: Span;
}

/** `a.b.c`: a declaration, a `let`, a family, a component name or (in grids) an axis. */
export interface Path {
  readonly kind: "Path";
  readonly segments: readonly Name[];
  readonly span: Span;
}

export interface Unary {
  readonly kind: "Unary";
  readonly op: "-" | "not";
  readonly operand: Expr;
  readonly span: Span;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "==" | "!=" | "and" | "or";

export interface Binary {
  readonly kind: "Binary";
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly opSpan: Span;
  readonly span: Span;
}

export interface InExpr {
  readonly kind: "In";
  readonly value: Expr;
  readonly list: ListExpr;
  readonly span: Span;
}

/** `base { overrides }`: an anonymous declaration made from a base. */
export interface Refine {
  readonly kind: "Refine";
  readonly base: Expr;
  readonly body: Block;
  readonly span: Span;
}

export interface Paren {
  readonly kind: "Paren";
  readonly expr: Expr;
  readonly span: Span;
}

/** `label(PATH)`: the label an axis has at a grid point (only in `exclude` conditions). */
export interface AxisLabel {
  readonly kind: "Label";
  readonly path: Path;
  readonly span: Span;
}

/** What the parser could not read (a syntax error was reported there). */
export interface Missing {
  readonly kind: "Missing";
  readonly span: Span;
}

export function pathText(path: Path): string {
  return path.segments.map((s) => s.text).join(".");
}

export function assertNever(x: never): never {
  throw new Error(`unexpected node ${JSON.stringify((x as { kind?: string }).kind ?? x)}`);
}
