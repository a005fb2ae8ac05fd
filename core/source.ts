/**
 * Source files and spans. Inside the compiler a span is a pair of offsets into the file's text
 * (UTF-16 code units, as JavaScript strings index); only the renderer and `--json` turn offsets into
 * 1-based lines and columns, where a column counts Unicode code points (a tab is one column).
 */

export interface Span {
  readonly file: SourceFile;
  readonly start: number;
  /** exclusive */
  readonly end: number;
}

export interface Position {
  /** 1-based */
  readonly line: number;
  /** 1-based, in code points */
  readonly column: number;
}

export class SourceFile {
  /** offsets at which each line starts */
  private lineStarts: number[] | undefined;

  constructor(
    /** the path as shown to people (relative to the working directory when possible) */
    readonly path: string,
    readonly text: string,
    /** the absolute path on disk, when the text came from a file */
    readonly absolutePath?: string,
  ) {}

  private starts(): number[] {
    if (!this.lineStarts) {
      const starts = [0];
      const text = this.text;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10) starts.push(i + 1);
        else if (c === 13) {
          if (text.charCodeAt(i + 1) === 10) i++;
          starts.push(i + 1);
        }
      }
      this.lineStarts = starts;
    }
    return this.lineStarts;
  }

  get lineCount(): number {
    return this.starts().length;
  }

  /** The 0-based line index holding `offset`. */
  lineIndex(offset: number): number {
    const starts = this.starts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  position(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    const line = this.lineIndex(clamped);
    const start = this.starts()[line];
    return { line: line + 1, column: codePointLength(this.text.slice(start, clamped)) + 1 };
  }

  /** The text of a 0-based line, without its line break. */
  lineText(line: number): string {
    const starts = this.starts();
    const start = starts[line];
    let end = line + 1 < starts.length ? starts[line + 1] : this.text.length;
    while (end > start && (this.text.charCodeAt(end - 1) === 10 || this.text.charCodeAt(end - 1) === 13)) end--;
    return this.text.slice(start, end);
  }

  lineStart(line: number): number {
    return this.starts()[line];
  }

  span(start: number, end: number): Span {
    return { file: this, start, end };
  }
}

export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export function spanText(span: Span): string {
  return span.file.text.slice(span.start, span.end);
}
