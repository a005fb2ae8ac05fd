/**
 * Parsing for the language server: the compiler's parser, reused where an edit left the text alone.
 *
 * The server keeps the last tree of every file it parsed. Unchanged text gives the same tree back
 * (with its diagnostics replayed). Other text is compared with the file's last text that parsed
 * cleanly (the previous one, or the one before a syntax error that is now repaired), and only the
 * top-level items the difference touches are parsed again: the items wholly on lines before it and
 * wholly on lines after it are kept, and the text between them is parsed alone (the rest of the file
 * blanked to spaces, so every offset stays where it is). If that middle part has any lexical or
 * syntax error, the whole file is parsed again, so the diagnostics are exactly those of a full parse.
 *
 * Why the pieces agree with a full parse: every top-level item starts with `import`, `let` or a
 * declaration kind, and no expression or declaration continues with one of those keywords; so when
 * the middle part parses cleanly on its own, a full parse splits the token stream at the same item
 * boundaries. A kept item is separated from the edit by a line break, so no comment or string of the
 * edit can reach into it (an unclosed one is an error in the middle part, which falls back).
 */
import type * as A from "../grammar/ast.js";
import { parseSource } from "../grammar/index.js";
import { Diagnostics, type Diagnostic } from "../core/diagnostics.js";
import { SourceFile, type Span } from "../core/source.js";

interface Parsed {
  readonly text: string;
  readonly path: string;
  readonly file: A.File;
  readonly diagnostics: readonly Diagnostic[];
}

export interface ParseStats {
  /** parses answered by a kept tree (text unchanged) */
  reused: number;
  /** parses that reparsed only the edited items */
  incremental: number;
  /** whole-file parses */
  full: number;
}

export class IncrementalParser {
  private readonly last = new Map<string, Parsed>();
  /** the last text of each file that parsed without errors: a repair is an edit of it */
  private readonly clean = new Map<string, Parsed>();
  readonly stats: ParseStats = { reused: 0, incremental: 0, full: 0 };

  /** What `parseSource` gives for this source, reporting the same diagnostics. */
  parse(source: SourceFile, diagnostics: Diagnostics): A.File {
    const key = source.absolutePath ?? source.path;
    const previous = this.last.get(key);
    if (previous && previous.text === source.text && previous.path === source.path) {
      this.stats.reused++;
      for (const d of previous.diagnostics) diagnostics.add(d);
      return previous.file;
    }
    const base = this.clean.get(key);
    if (base && base.path === source.path) {
      const file = reparse(base.file, source);
      if (file) {
        this.stats.incremental++;
        this.remember(key, { text: source.text, path: source.path, file, diagnostics: [] });
        return file;
      }
    }
    this.stats.full++;
    const local = new Diagnostics();
    const file = parseSource(source, local);
    for (const d of local.items) diagnostics.add(d);
    this.remember(key, { text: source.text, path: source.path, file, diagnostics: local.items });
    return file;
  }

  private remember(key: string, parsed: Parsed): void {
    this.last.set(key, parsed);
    if (parsed.diagnostics.length === 0) this.clean.set(key, parsed);
  }

  /** Forgets a file (closed and not imported by an open one). */
  forget(path: string): void {
    this.last.delete(path);
    this.clean.delete(path);
  }
}

/** The tree of `source` from the tree of an earlier, error-free text of the same file; undefined to parse in full. */
export function reparse(old: A.File, source: SourceFile): A.File | undefined {
  const before = old.source;
  const oldText = before.text;
  const newText = source.text;
  let prefix = 0;
  const shortest = Math.min(oldText.length, newText.length);
  while (prefix < shortest && oldText.charCodeAt(prefix) === newText.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < shortest - prefix && oldText.charCodeAt(oldText.length - 1 - suffix) === newText.charCodeAt(newText.length - 1 - suffix)) suffix++;
  const delta = newText.length - oldText.length;
  const editEnd = oldText.length - suffix;

  // kept: items ending before the edit's first line, and items starting after its last line
  const firstLine = before.lineStart(before.lineIndex(prefix));
  const lastLine = before.lineIndex(editEnd);
  const afterEdit = lastLine + 1 < before.lineCount ? before.lineStart(lastLine + 1) : Infinity;
  const head = old.items.filter((item) => item.span.end <= firstLine);
  const tail = old.items.filter((item) => item.span.start >= afterEdit);
  const from = head.length ? head[head.length - 1].span.end : 0;
  const toOld = tail.length ? tail[0].span.start : oldText.length;
  const to = toOld + delta;
  if (from > to) return undefined;

  const blank = (s: string) => s.replace(/[^\r\n]/g, " ");
  const middleText = blank(newText.slice(0, from)) + newText.slice(from, to) + blank(newText.slice(to));
  const middleSource = new SourceFile(source.path, middleText, source.absolutePath);
  const local = new Diagnostics();
  const middle = parseSource(middleSource, local);
  if (local.items.length > 0) return undefined;

  const items = [
    ...head.map((item) => moved(item, source, 0)),
    ...middle.items.map((item) => moved(item, source, 0)),
    ...tail.map((item) => moved(item, source, delta)),
  ];
  const comments = [
    ...old.comments.filter((c) => c.span.end <= from).map((c) => moved(c, source, 0)),
    ...middle.comments.map((c) => moved(c, source, 0)),
    ...old.comments.filter((c) => c.span.start >= toOld).map((c) => moved(c, source, delta)),
  ];
  return { kind: "File", source, items, comments, span: source.span(0, newText.length) };
}

function isSpan(x: object): x is Span {
  return "file" in x && "start" in x && "end" in x;
}

/** A copy of a tree whose spans point into `file`, `shift` code units further on. */
function moved<T>(node: T, file: SourceFile, shift: number): T {
  if (Array.isArray(node)) return node.map((n) => moved(n, file, shift)) as T;
  if (node === null || typeof node !== "object") return node;
  if (isSpan(node)) return { file, start: node.start + shift, end: node.end + shift } as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(node)) out[key] = moved((node as Record<string, unknown>)[key], file, shift);
  return out as T;
}
