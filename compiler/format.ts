/**
 * `mmfmc fmt`: AST -> text in the canonical layout of docs/fmt.md, keeping every comment.
 *
 * The printer walks the tree in source order and prints each comment exactly once, where it was:
 * - in a sequence (the file's items, a block's members, an ablate's axes, a list's or record's
 *   entries) a comment on a line of its own leads the next element (or, after the last one, stays
 *   before the closing bracket); a comment that follows code on its line (an element, its `,`, an
 *   opening bracket) stays at the end of that line;
 * - anywhere else (between `=` and a value, inside an arithmetic expression) a comment is printed
 *   inline where it was, a line comment ending the line.
 * A group (list, record, refinement body) is printed on one line when it holds no comments and fits
 * in `maxWidth` columns, else one entry per line. The layout depends only on the tokens, the
 * comments and where the user left blank lines, so the result is canonical and formatting twice
 * gives the same text as once.
 *
 * `formatText` re-parses what it printed and checks the tree and the comments are the same as the
 * input's; a difference is a bug in the printer and throws rather than returning a changed spec.
 */
import type * as A from "../grammar/ast.js";
import { assertNever } from "../grammar/ast.js";
import { parseSource } from "../grammar/index.js";
import { Diagnostics } from "../core/diagnostics.js";
import { codePointLength, SourceFile, spanText, type Span } from "../core/source.js";

/** Groups stay on one line when they end by this column. */
export const maxWidth = 100;
/** A top-level declaration's body stays on one line with at most this many fields. */
export const maxInlineDeclFields = 2;
const indentUnit = "  ";
/** Between code and a comment trailing it on the same line. */
const trailingGap = "  ";

export interface FormatResult {
  /** the formatted text; undefined when the file has syntax errors (see `diagnostics`) */
  readonly text?: string;
  readonly diagnostics: Diagnostics;
  /** whether the formatted text differs from the input */
  readonly changed: boolean;
}

/** Parses `text` and prints it in canonical layout; a file with syntax errors is not formatted. */
export function formatText(text: string, path = "<stdin>"): FormatResult {
  const diagnostics = new Diagnostics();
  const file = parseSource(new SourceFile(path, text), diagnostics);
  if (diagnostics.hasErrors) return { diagnostics, changed: false };
  const formatted = format(file);
  verify(file, formatted);
  return { text: formatted, diagnostics, changed: formatted !== text };
}

/** Prints a parsed file (without syntax errors) in canonical layout. */
export function format(file: A.File): string {
  return new Printer(file).print();
}

function indentText(level: number): string {
  return indentUnit.repeat(level);
}

function width(text: string): number {
  return codePointLength(text);
}

function isMultiline(text: string): boolean {
  return text.includes("\n");
}

/** The file's comments in order, each printed once: `take` hands them out and never again. */
class Comments {
  private next = 0;
  private readonly byStart = new Map<number, A.Comment>();

  constructor(private readonly list: readonly A.Comment[]) {
    for (const c of list) this.byStart.set(c.span.start, c);
  }

  /** Every comment not printed yet that starts before `offset`. */
  takeBefore(offset: number): A.Comment[] {
    const taken: A.Comment[] = [];
    while (this.next < this.list.length && this.list[this.next].span.start < offset) taken.push(this.list[this.next++]);
    return taken;
  }

  /** The next comment not printed yet, if it starts before `offset` and `accept` holds. */
  takeIf(offset: number, accept: (c: A.Comment) => boolean): A.Comment | undefined {
    const c = this.list[this.next];
    if (c && c.span.start < offset && accept(c)) {
      this.next++;
      return c;
    }
    return undefined;
  }

  /** Whether a comment starts in [start, end) (printed or not). */
  within(start: number, end: number): boolean {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid].span.start < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.list.length && this.list[lo].span.start < end;
  }

  /** The comment starting at `offset`, if any. */
  at(offset: number): A.Comment | undefined {
    return this.byStart.get(offset);
  }

  get left(): number {
    return this.list.length - this.next;
  }
}

/**
 * Text being printed on a line (and the lines a line comment or a broken group adds to it). What the
 * layout asks of the last line (its width, whether it holds only indentation, its last character) is
 * kept as the text grows, so a long line (a chain of 100,000 `+`) costs nothing to ask about.
 */
class Out {
  private parts: string[] = [];
  private joined: string | undefined = "";
  private hasNewline = false;
  /** width of the text after the last newline */
  private tailWidth = 0;
  /** the text after the last newline is only spaces and tabs */
  private tailBlank = true;
  private lastChar = "";

  constructor(
    private readonly printer: Printer,
    /** the indentation level of the line's statement; continuation lines go one deeper */
    readonly indent: number,
    private readonly startCol: number = indent * indentUnit.length,
    /** columns reserved after the text on its last line (a list's `,`) */
    readonly reserve: number = 0,
    /** print every group on one line, whatever its width (the caller measures the result) */
    readonly flat: boolean = false,
  ) {}

  get text(): string {
    if (this.joined === undefined) {
      this.joined = this.parts.join("");
      this.parts = [this.joined];
    }
    return this.joined;
  }

  /** The column the next character goes to (0-based). */
  get col(): number {
    return this.hasNewline ? this.tailWidth : this.startCol + this.tailWidth;
  }

  /** Whether nothing but indentation is on the line so far. */
  private get atLineStart(): boolean {
    return this.tailBlank && (this.hasNewline || this.lastChar === "");
  }

  raw(text: string): void {
    if (text === "") return;
    this.parts.push(text);
    this.joined = undefined;
    this.lastChar = text[text.length - 1];
    const nl = text.lastIndexOf("\n");
    const tail = nl < 0 ? text : text.slice(nl + 1);
    const blank = /^[ \t]*$/.test(tail);
    if (nl < 0) {
      this.tailWidth += width(text);
      this.tailBlank = this.tailBlank && blank;
    } else {
      this.hasNewline = true;
      this.tailWidth = width(tail);
      this.tailBlank = blank;
    }
  }

  /** One space, unless the line is empty so far or already ends with one. */
  space(): void {
    if (!this.atLineStart && this.lastChar !== " ") this.raw(" ");
  }

  /** Prints the comments before `offset`, then `text` (the token at `offset`). */
  tok(offset: number, text: string): void {
    this.comments(offset);
    this.raw(text);
  }

  /** Prints inline the comments that come before `offset` in the source. */
  comments(offset: number): void {
    for (const c of this.printer.comments.takeBefore(offset)) {
      this.space();
      this.raw(c.text);
      this.raw(c.block ? " " : "\n" + indentText(this.indent + 1));
    }
  }
}

/**
 * One element of a sequence as printed: `text` may span lines (later lines carry their own
 * indentation); `key` is where alignment padding goes (after a field's name, an axis's `:`); rows
 * align with neighbours of the same `align` class (fields; axes; top-level items of one kind).
 */
interface Row {
  readonly text: string;
  readonly key?: number;
  readonly align?: string;
}

interface SequenceSpec<T extends { readonly span: Span }> {
  readonly items: readonly T[];
  /** offset of the opening bracket; undefined for the file itself */
  readonly open?: number;
  /** offset of the closing bracket, or the end of the file */
  readonly close: number;
  /** indentation level of the elements */
  readonly indent: number;
  readonly row: (item: T) => Row;
  /** a `,` after every element (lists) */
  readonly commas?: boolean;
  /** a `,` between two elements that whitespace alone would not separate */
  readonly needsComma?: (item: T, next: T) => boolean;
  /** the file: multi-line items get a blank line before and after */
  readonly top?: boolean;
}

interface Unit {
  readonly comment: string;
  /** the source had a blank line before it */
  readonly blank: boolean;
}

interface Entry {
  readonly leading: Unit[];
  row?: Row;
  rowBlank: boolean;
  trailing: string[];
  comma: boolean;
  /** filled by the layout: a blank line is printed before the unit at this index (leading..., row) */
  blanks: boolean[];
  code: string;
}

interface Sequence {
  /** comments printed after the opening bracket on its line, with their leading gap */
  readonly head: string;
  /** the element lines, indented */
  readonly lines: string[];
}

class Printer {
  readonly comments: Comments;
  private readonly source: SourceFile;
  private readonly text: string;

  constructor(private readonly file: A.File) {
    this.source = file.source;
    this.text = file.source.text;
    this.comments = new Comments([...file.comments].sort((a, b) => a.span.start - b.span.start));
  }

  print(): string {
    const seq = this.sequence({
      items: this.file.items,
      close: this.text.length,
      indent: 0,
      row: (item) => this.item(item),
      top: true,
    });
    if (this.comments.left > 0) throw new Error(`fmt: ${this.comments.left} comment(s) left unprinted`);
    return seq.lines.length > 0 ? seq.lines.join("\n") + "\n" : "";
  }

  // ---- positions -------------------------------------------------------------------------------

  private line(offset: number): number {
    return this.source.lineIndex(offset);
  }

  /** Whether a comment follows something on its line (else it starts its own line). */
  private followsCode(comment: A.Comment): boolean {
    const start = this.source.lineStart(this.line(comment.span.start));
    return this.text.slice(start, comment.span.start).trim() !== "";
  }

  /** The offset of the next token at or after `offset` (skipping whitespace and comments). */
  private nextToken(offset: number): number {
    let i = offset;
    for (;;) {
      while (i < this.text.length && /\s/.test(this.text[i])) i++;
      const c = this.comments.at(i);
      if (!c) return i;
      i = c.span.end;
    }
  }

  /** Whether the source has a blank line between two offsets (separators like `,` are not blank). */
  private blankBetween(from: number, to: number): boolean {
    const lines = this.text.slice(from, Math.max(from, to)).split(/\r\n|\r|\n/);
    return lines.slice(1, -1).some((line) => line.trim() === "");
  }

  // ---- sequences -------------------------------------------------------------------------------

  private sequence<T extends { readonly span: Span }>(spec: SequenceSpec<T>): Sequence {
    const { items, close } = spec;
    let prev = spec.open === undefined ? 0 : spec.open + 1;
    let head = "";
    if (spec.open !== undefined) {
      const firstStart = items[0]?.span.start ?? close;
      const onOpenLine: string[] = [];
      for (let c; (c = this.comments.takeIf(firstStart, (x) => this.followsCode(x))); ) {
        onOpenLine.push(c.text);
        prev = c.span.end;
        if (!c.block) break; // it ends the line
      }
      if (onOpenLine.length) head = trailingGap + onOpenLine.join(" ");
    }

    const entries: Entry[] = [];
    const newEntry = (): Entry => ({ leading: [], rowBlank: false, trailing: [], comma: false, blanks: [], code: "" });
    items.forEach((item, i) => {
      const entry = newEntry();
      for (const c of this.comments.takeBefore(item.span.start)) {
        entry.leading.push({ comment: c.text, blank: this.blankBetween(prev, c.span.start) });
        prev = c.span.end;
      }
      entry.rowBlank = this.blankBetween(prev, item.span.start);
      entry.row = spec.row(item);
      const missed = this.comments.takeBefore(item.span.end)[0];
      if (missed) throw new Error(`fmt: the comment at offset ${missed.span.start} of ${this.source.path} was not placed`);
      const next = items[i + 1];
      prev = item.span.end;
      for (let c; (c = this.comments.takeIf(next?.span.start ?? close, (x) => this.followsCode(x))); ) {
        entry.trailing.push(c.text);
        prev = c.span.end;
        if (!c.block) break; // it ends the line
      }
      entry.comma = spec.commas === true || (next !== undefined && spec.needsComma?.(item, next) === true);
      entries.push(entry);
    });
    const dangling = newEntry();
    for (const c of this.comments.takeBefore(close)) {
      dangling.leading.push({ comment: c.text, blank: this.blankBetween(prev, c.span.start) });
      prev = c.span.end;
    }
    if (dangling.leading.length) entries.push(dangling);

    this.placeBlankLines(entries, spec.top === true);
    alignKeys(entries);
    for (const e of entries) if (e.row) e.code = e.row.text + (e.comma ? "," : "");
    alignTrailing(entries);

    const pad = indentText(spec.indent);
    const lines: string[] = [];
    for (const e of entries) {
      e.leading.forEach((u, j) => {
        if (e.blanks[j]) lines.push("");
        lines.push(pad + u.comment);
      });
      if (e.row) {
        if (e.blanks[e.leading.length]) lines.push("");
        lines.push(pad + e.code + (e.trailing.length ? trailingGap + e.trailing.join(" ") : ""));
      }
    }
    return { head, lines };
  }

  /** At most one blank line where the source had one; at the top, around every multi-line item. */
  private placeBlankLines(entries: Entry[], top: boolean): void {
    let first = true;
    entries.forEach((e, i) => {
      const multiline = (x: Entry | undefined) => x?.row !== undefined && isMultiline(x.row.text);
      const forced = top && i > 0 && (multiline(e) || multiline(entries[i - 1]));
      const units = [...e.leading.map((u) => u.blank), ...(e.row ? [e.rowBlank] : [])];
      e.blanks = units.map((blank, j) => {
        const b = !first && (blank || (j === 0 && forced));
        first = false;
        return b;
      });
    });
  }

  /** `{` ... `}` (or `[` ... `]`) around a broken sequence; `{}` when it is empty. */
  private wrap(seq: Sequence, indent: number, open: string, close: string): string {
    if (seq.lines.length === 0 && seq.head === "") return open + close;
    return `${open}${seq.head}\n${seq.lines.length ? seq.lines.join("\n") + "\n" : ""}${indentText(indent)}${close}`;
  }

  // ---- items and members -----------------------------------------------------------------------

  private item(item: A.Item): Row {
    const o = new Out(this, 0);
    switch (item.kind) {
      case "Import":
        o.tok(item.span.start, "import");
        o.raw(" ");
        o.tok(item.path.span.start, item.path.text);
        return { text: o.text };
      case "Let": {
        o.tok(item.span.start, "let");
        o.raw(" ");
        o.tok(item.name.span.start, item.name.text);
        const key = this.equals(o, item.name.span.end);
        this.expr(item.value, o);
        return { text: o.text, key, align: "let" };
      }
      case "Decl": {
        o.tok(item.keywordSpan.start, item.declKind);
        o.raw(" ");
        o.tok(item.name.span.start, item.name.text);
        let key: number | undefined;
        if (item.base) {
          key = this.equals(o, item.name.span.end);
          this.expr(item.base, o);
        }
        if (item.body) {
          o.space();
          this.block(item.body, o, true);
        }
        return { text: o.text, key, align: key === undefined ? undefined : item.declKind };
      }
      default:
        return assertNever(item);
    }
  }

  /** ` = ` after a name ending at `nameEnd`; returns where alignment padding goes. */
  private equals(o: Out, nameEnd: number): number {
    o.comments(this.nextToken(nameEnd));
    const key = o.text.trimEnd().length;
    o.space();
    o.raw("= ");
    return key;
  }

  private member(member: A.Member, indent: number): Row {
    const o = new Out(this, indent);
    switch (member.kind) {
      case "Field": {
        o.tok(member.name.span.start, member.name.text);
        const key = this.equals(o, member.name.span.end);
        this.expr(member.value, o);
        return { text: o.text, key, align: "=" };
      }
      case "Exclude":
        o.tok(member.span.start, "exclude");
        o.raw(" ");
        this.expr(member.condition, o);
        return { text: o.text };
      case "Ablate": {
        o.tok(member.span.start, "ablate");
        let at = member.span.start + "ablate".length;
        if (member.zip) {
          const zip = this.nextToken(at);
          o.raw(" ");
          o.tok(zip, "zip");
          at = zip + "zip".length;
        }
        const brace = this.nextToken(at);
        o.raw(" ");
        o.comments(brace);
        const seq = this.sequence<A.Axis | A.ZipGroup>({
          items: member.members,
          open: brace,
          close: member.span.end - 1,
          indent: indent + 1,
          row: (m) => (m.kind === "Axis" ? this.axis(m, indent + 1) : this.zipGroup(m, indent + 1)),
        });
        o.raw(this.wrap(seq, indent, "{", "}"));
        return { text: o.text };
      }
      default:
        return assertNever(member);
    }
  }

  /** `zip { AXIS: VALUES ... }`, one axis per line like the block around it. */
  private zipGroup(group: A.ZipGroup, indent: number): Row {
    const o = new Out(this, indent);
    o.tok(group.span.start, "zip");
    const brace = this.nextToken(group.span.start + "zip".length);
    o.raw(" ");
    o.comments(brace);
    const seq = this.sequence({
      items: group.axes,
      open: brace,
      close: group.span.end - 1,
      indent: indent + 1,
      row: (axis) => this.axis(axis, indent + 1),
    });
    o.raw(this.wrap(seq, indent, "{", "}"));
    return { text: o.text };
  }

  private axis(axis: A.Axis, indent: number): Row {
    const o = new Out(this, indent);
    this.expr(axis.path, o);
    o.tok(this.nextToken(axis.path.span.end), ":");
    const key = o.text.length;
    o.raw(" ");
    this.expr(axis.values, o);
    return { text: o.text, key, align: ":" };
  }

  // ---- groups ----------------------------------------------------------------------------------

  /**
   * Prints `node` on one line if it can be (no comments inside, no `ablate` or `exclude`) and fits;
   * returns whether it did.
   */
  private tryFlat(node: A.Expr | A.Block, o: Out, render: (flat: Out) => void): boolean {
    if (this.comments.within(node.span.start, node.span.end) || !flattenable(node)) return false;
    const flat = new Out(this, o.indent, o.col, 0, true);
    render(flat);
    if (!o.flat && o.col + width(flat.text) + o.reserve > maxWidth) return false;
    o.raw(flat.text);
    return true;
  }

  /** A declaration's or refinement's body; `top`: a top-level declaration's. */
  private block(body: A.Block, o: Out, top: boolean): void {
    const start = body.span.start;
    o.comments(start);
    const fields = body.members.filter((m): m is A.Field => m.kind === "Field");
    const mayInline = !top || fields.length <= maxInlineDeclFields;
    if (mayInline && this.tryFlat(body, o, (f) => this.entriesFlat(fields.map((x) => ({ key: x.name.text, value: x.value })), f))) return;
    const seq = this.sequence({
      items: body.members,
      open: start,
      close: body.span.end - 1,
      indent: o.indent + 1,
      row: (m) => this.member(m, o.indent + 1),
      needsComma: (a, b) => a.kind !== "Ablate" && b.kind === "Field" && b.name.text === "in",
    });
    o.raw(this.wrap(seq, o.indent, "{", "}"));
  }

  private list(list: A.ListExpr, o: Out): void {
    o.comments(list.span.start);
    const flat = (f: Out) => {
      f.raw("[");
      list.items.forEach((item, i) => {
        if (i > 0) f.raw(", ");
        this.expr(item, f);
      });
      f.raw("]");
    };
    if (this.tryFlat(list, o, flat)) return;
    const indent = o.indent + 1;
    const seq = this.sequence({
      items: list.items,
      open: list.span.start,
      close: list.span.end - 1,
      indent,
      commas: true,
      row: (item) => {
        const r = new Out(this, indent, indent * indentUnit.length, 1);
        this.expr(item, r);
        return { text: r.text };
      },
    });
    o.raw(this.wrap(seq, o.indent, "[", "]"));
  }

  private record(record: A.RecordExpr, o: Out): void {
    o.comments(record.span.start);
    const keyText = (e: A.RecordEntry) => (e.quoted ? spanText(e.key.span) : e.key.text);
    if (this.tryFlat(record, o, (f) => this.entriesFlat(record.entries.map((e) => ({ key: keyText(e), value: e.value })), f))) return;
    const indent = o.indent + 1;
    const seq = this.sequence({
      items: record.entries,
      open: record.span.start,
      close: record.span.end - 1,
      indent,
      row: (e) => {
        const r = new Out(this, indent);
        r.tok(e.key.span.start, keyText(e));
        const key = this.equals(r, e.key.span.end);
        this.expr(e.value, r);
        return { text: r.text, key, align: "=" };
      },
      needsComma: (_a, b) => !b.quoted && b.key.text === "in",
    });
    o.raw(this.wrap(seq, o.indent, "{", "}"));
  }

  /** `{ a = 1, b = 2 }` or `{}` (the caller checked there are no comments inside). */
  private entriesFlat(entries: readonly { key: string; value: A.Expr }[], f: Out): void {
    if (entries.length === 0) {
      f.raw("{}");
      return;
    }
    f.raw("{ ");
    entries.forEach((e, i) => {
      if (i > 0) f.raw(", ");
      f.raw(`${e.key} = `);
      this.expr(e.value, f);
    });
    f.raw(" }");
  }

  // ---- expressions -----------------------------------------------------------------------------

  private expr(e: A.Expr, o: Out): void {
    switch (e.kind) {
      case "Int":
      case "Float":
      case "String":
        o.tok(e.span.start, e.text);
        return;
      case "Bool":
        o.tok(e.span.start, e.value ? "true" : "false");
        return;
      case "Path":
        e.segments.forEach((s, i) => {
          if (i > 0) o.tok(this.nextToken(e.segments[i - 1].span.end), ".");
          o.tok(s.span.start, s.text);
        });
        return;
      case "Unary":
        o.tok(e.span.start, e.op);
        if (e.op === "not" || (e.operand.kind === "Unary" && e.operand.op === "-")) o.raw(" ");
        this.expr(e.operand, o);
        return;
      case "Binary": {
        // a loop down the left spine: a long chain (`1 + 2 + ... + 2000`) is a tree as deep as it is long
        const spine: A.Binary[] = [];
        let leftmost: A.Expr = e;
        for (; leftmost.kind === "Binary"; leftmost = leftmost.left) spine.push(leftmost);
        this.expr(leftmost, o);
        for (let i = spine.length - 1; i >= 0; i--) {
          o.space();
          o.tok(spine[i].opSpan.start, spine[i].op);
          o.raw(" ");
          this.expr(spine[i].right, o);
        }
        return;
      }
      case "In":
        this.expr(e.value, o);
        o.space();
        o.tok(this.nextToken(e.value.span.end), "in");
        o.raw(" ");
        this.list(e.list, o);
        return;
      case "Paren":
        o.tok(e.span.start, "(");
        this.expr(e.expr, o);
        o.tok(e.span.end - 1, ")");
        return;
      case "Label":
        o.tok(e.span.start, "label");
        o.tok(this.nextToken(e.span.start + "label".length), "(");
        this.expr(e.path, o);
        o.tok(e.span.end - 1, ")");
        return;
      case "List":
        this.list(e, o);
        return;
      case "Record":
        this.record(e, o);
        return;
      case "Refine":
        this.expr(e.base, o);
        o.space();
        this.block(e.body, o, false);
        return;
      case "Missing":
        throw new Error("fmt: cannot print a file with syntax errors");
      default:
        assertNever(e);
    }
  }
}

/** Whether a group can go on one line at all: `ablate` and `exclude` always take their own lines. */
function flattenable(node: A.Expr | A.Block): boolean {
  switch (node.kind) {
    case "Block":
      return node.members.every((m) => m.kind === "Field" && flattenable(m.value));
    case "List":
      return node.items.every(flattenable);
    case "Record":
      return node.entries.every((e) => flattenable(e.value));
    case "Refine":
      return flattenable(node.base) && flattenable(node.body);
    case "Unary":
      return flattenable(node.operand);
    case "Binary": {
      let leftmost: A.Expr = node;
      for (; leftmost.kind === "Binary"; leftmost = leftmost.left) if (!flattenable(leftmost.right)) return false;
      return flattenable(leftmost);
    }
    case "In":
      return flattenable(node.value) && flattenable(node.list);
    case "Paren":
      return flattenable(node.expr);
    case "Int":
    case "Float":
    case "String":
    case "Bool":
    case "Path":
    case "Label":
    case "Missing":
      return true;
    default:
      return assertNever(node);
  }
}

/** Pads the keys of runs of consecutive one-line rows so their `=` (or axis values) line up. */
function alignKeys(entries: Entry[]): void {
  let run: Entry[] = [];
  const finish = () => {
    if (run.length > 1) {
      const widest = run.reduce((w, e) => Math.max(w, width(e.row!.text.slice(0, e.row!.key))), 0);
      for (const e of run) {
        const r = e.row!;
        const pad = " ".repeat(widest - width(r.text.slice(0, r.key)));
        e.row = { ...r, text: r.text.slice(0, r.key) + pad + r.text.slice(r.key), key: r.key! + pad.length };
      }
    }
    run = [];
  };
  for (const e of entries) {
    const r = e.row;
    const alignable = r !== undefined && r.key !== undefined && !isMultiline(r.text);
    const continues = alignable && run.length > 0 && run[0].row!.align === r!.align && !e.blanks.some((b) => b);
    if (!continues) finish();
    if (alignable) run.push(e);
  }
  finish();
}

/** Lines up the comments trailing consecutive one-line rows, two spaces after the longest. */
function alignTrailing(entries: Entry[]): void {
  let run: Entry[] = [];
  const finish = () => {
    if (run.length > 1) {
      const widest = run.reduce((w, e) => Math.max(w, width(e.code)), 0);
      for (const e of run) e.code += " ".repeat(widest - width(e.code));
    }
    run = [];
  };
  for (const e of entries) {
    const alignable = e.row !== undefined && e.trailing.length > 0 && !isMultiline(e.code);
    const continues = alignable && run.length > 0 && e.leading.length === 0 && !e.blanks.some((b) => b);
    if (!continues) finish();
    if (alignable) run.push(e);
  }
  finish();
}

// ---- the check that formatting changed nothing but layout ---------------------------------------

const layoutKeys = new Set(["span", "opSpan", "keywordSpan", "source", "comments"]);

/**
 * Whether two syntax trees are the same apart from their spans. A loop over pairs still to compare,
 * not recursion: a long chain of operators is a tree as deep as it is long.
 */
export function sameTree(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]];
  for (let pair; (pair = pending.pop()); ) {
    const [x, y] = pair;
    if (typeof x !== "object" || x === null || typeof y !== "object" || y === null) {
      if (x !== y) return false;
      continue;
    }
    if (Array.isArray(x) || Array.isArray(y)) {
      if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) pending.push([x[i], y[i]]);
      continue;
    }
    const rx = x as Record<string, unknown>;
    const ry = y as Record<string, unknown>;
    const kx = Object.keys(rx).filter((k) => !layoutKeys.has(k) && rx[k] !== undefined);
    const ky = Object.keys(ry).filter((k) => !layoutKeys.has(k) && ry[k] !== undefined);
    if (kx.length !== ky.length) return false;
    for (const k of kx) pending.push([rx[k], ry[k]]);
  }
  return true;
}

function commentTexts(file: A.File): string[] {
  return file.comments.map((c) => c.text).sort();
}

function verify(original: A.File, formatted: string): void {
  const diagnostics = new Diagnostics();
  const again = parseSource(new SourceFile(original.source.path, formatted), diagnostics);
  const where = original.source.path;
  if (diagnostics.hasErrors) {
    throw new Error(`fmt produced text that does not parse for ${where} (${diagnostics.items[0].message})`);
  }
  if (!sameTree(original.items, again.items)) throw new Error(`fmt changed the meaning of ${where}`);
  if (!sameTree(commentTexts(original), commentTexts(again))) throw new Error(`fmt changed the comments of ${where}`);
}
