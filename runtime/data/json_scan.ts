/**
 * A byte-level streaming scan of a JSON file whose top level is an array: it finds where each element
 * starts and ends without building one string of the file (V8 strings stop near 512 MB, LLaVA's
 * 665K-sample file is about 1 GB), so that a dataset can parse one sample when it is asked for.
 *
 * The scanner checks the structure (brackets, commas, colons, strings and escapes) and reports the
 * byte and line of the first structural error; the contents of numbers and literals are left to
 * `JSON.parse` of each element. For each element it also notes whether it is an object with a
 * top-level `"image"` key whose value is not `null` (for modality grouping without parsing).
 */
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { DataError } from "./errors.js";

export interface ArrayIndex {
  /** number of elements */
  readonly count: number;
  /** byte offset of each element's first byte */
  readonly starts: Float64Array;
  /** byte offset just after each element's last byte */
  readonly ends: Float64Array;
  /** 1-based line of each element's first byte */
  readonly lines: Uint32Array;
  /** 1 where the element is an object with a top-level `"image"` that is not `null` */
  readonly hasImage: Uint8Array;
  readonly fileBytes: number;
}

export interface ScanOptions {
  /** bytes read at a time (default 4 MiB) */
  readonly chunkBytes?: number;
  /** called with each element's bytes, in order, as soon as it is complete */
  readonly onElement?: (bytes: Uint8Array, index: number, line: number, start: number) => void;
  /** the file name used in messages (default: the path's base name) */
  readonly displayName?: string;
}

// What the scanner allows next.
const enum Expect {
  TopOpen, // whitespace, then `[`
  ValueOrClose, // after `[`
  Value, // after `,` in an array or `:` in an object
  KeyOrClose, // after `{`
  Key, // after `,` in an object
  Colon,
  CommaOrClose, // after a value
  End, // after the top-level `]`: whitespace only
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const IMAGE_KEY = [0x69, 0x6d, 0x61, 0x67, 0x65]; // "image"

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isLiteralByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2b || c === 0x2d || c === 0x2e;
}

function show(c: number): string {
  if (c >= 0x20 && c < 0x7f) return `\`${String.fromCharCode(c)}\``;
  return `byte 0x${c.toString(16).padStart(2, "0")}`;
}

/** Scans `path` once, reading `chunkBytes` at a time. Throws a `DataError` (`broken-json`) on a structural error. */
export async function scanJsonArray(path: string, options: ScanOptions = {}): Promise<ArrayIndex> {
  const file = options.displayName ?? basename(path);
  const chunkBytes = options.chunkBytes ?? 4 << 20;
  const onElement = options.onElement;

  let cap = 1024;
  let starts = new Float64Array(cap);
  let ends = new Float64Array(cap);
  let lines = new Uint32Array(cap);
  let images = new Uint8Array(cap);
  let count = 0;

  // container stack: 1 = object, 0 = array; stack[0] is the top-level array
  let stack = new Uint8Array(64);
  let depth = 0;
  let expect: Expect = Expect.TopOpen;
  let inString = false;
  let escaped = false;
  let inLiteral = false;
  let stringIsKey = false;
  // key tracking for `"image"` at depth 2 (keys of the element object)
  let keyPos = 0;
  let keyMatches = false;
  let lastKeyIsImage = false;

  let line = 1;
  let base = 0; // absolute offset of buf[0]
  let elementStart = -1;
  let elementLine = 0;
  let elementHasImage = 0;
  let pending: Buffer[] = [];

  function fail(message: string, at: number, atLine: number): never {
    throw new DataError({
      reason: "broken-json",
      message,
      file,
      // inside a sample, or between samples (then the one that should come next)
      index: elementStart >= 0 || depth === 1 ? count : undefined,
      byte: at,
      line: atLine,
    });
  }

  const grow = (): void => {
    cap *= 2;
    const s = new Float64Array(cap);
    s.set(starts);
    starts = s;
    const e = new Float64Array(cap);
    e.set(ends);
    ends = e;
    const l = new Uint32Array(cap);
    l.set(lines);
    lines = l;
    const h = new Uint8Array(cap);
    h.set(images);
    images = h;
  };

  const handle = await open(path, "r");
  try {
    const fileBytes = (await handle.stat()).size;
    let first = true;
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await handle.read(buf, 0, chunkBytes, base);
      if (bytesRead === 0) break;
      const n = bytesRead;
      let i = 0;
      if (first) {
        first = false;
        if (n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 byte order mark
      }

      // called when an element of the top-level array ends just before position `end` of this chunk
      const finishElement = (end: number): void => {
        if (count === cap) grow();
        starts[count] = elementStart;
        ends[count] = base + end;
        lines[count] = elementLine;
        images[count] = elementHasImage;
        if (onElement) {
          const from = Math.max(0, elementStart - base);
          const tail = buf.subarray(from, end);
          const bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
          onElement(bytes, count, elementLine, elementStart);
        }
        pending = [];
        count++;
        elementStart = -1;
      };

      while (i < n) {
        if (inString) {
          if (escaped) {
            escaped = false;
            keyMatches = false;
            i++;
            continue;
          }
          // fast path: skip ordinary bytes
          const trackKey = stringIsKey && depth === 2;
          for (; i < n; i++) {
            const c = buf[i];
            if (c === QUOTE || c === BACKSLASH || c === NEWLINE) break;
            if (trackKey) {
              if (keyMatches && keyPos < IMAGE_KEY.length && c === IMAGE_KEY[keyPos]) keyPos++;
              else keyMatches = false;
            }
          }
          if (i >= n) break;
          const c = buf[i];
          if (c === NEWLINE) {
            line++;
            i++;
            continue;
          }
          if (c === BACKSLASH) {
            escaped = true;
            i++;
            continue;
          }
          // closing quote
          inString = false;
          i++;
          if (stringIsKey) {
            lastKeyIsImage = depth === 2 && keyMatches && keyPos === IMAGE_KEY.length;
            expect = Expect.Colon;
          } else {
            expect = Expect.CommaOrClose;
            if (depth === 1) finishElement(i);
          }
          continue;
        }

        const c = buf[i];
        if (inLiteral) {
          if (isLiteralByte(c)) {
            i++;
            continue;
          }
          inLiteral = false;
          expect = Expect.CommaOrClose;
          if (depth === 1) finishElement(i);
          continue; // process `c` again as the next token
        }
        if (c === NEWLINE) {
          line++;
          i++;
          continue;
        }
        if (isSpace(c)) {
          i++;
          continue;
        }
        const at = base + i;
        switch (expect) {
          case Expect.TopOpen:
            if (c !== OPEN_BRACKET) fail(`expected the file to start with \`[\` (a JSON array of samples), found ${show(c)}`, at, line);
            stack[depth++] = 0;
            expect = Expect.ValueOrClose;
            i++;
            continue;
          case Expect.End:
            fail(`unexpected ${show(c)} after the end of the top-level array`, at, line);
            break;
          case Expect.Colon:
            if (c !== 0x3a) fail(`expected \`:\` after an object key, found ${show(c)}`, at, line);
            expect = Expect.Value;
            i++;
            continue;
          case Expect.KeyOrClose:
          case Expect.Key:
            if (c === CLOSE_BRACE && expect === Expect.KeyOrClose) break; // handled below
            if (c !== QUOTE) fail(`expected a string key${expect === Expect.KeyOrClose ? " or `}`" : ""}, found ${show(c)}`, at, line);
            inString = true;
            stringIsKey = true;
            keyPos = 0;
            keyMatches = true;
            i++;
            continue;
          case Expect.CommaOrClose:
            if (c === 0x2c) {
              expect = stack[depth - 1] === 1 ? Expect.Key : Expect.Value;
              i++;
              continue;
            }
            if (c !== CLOSE_BRACE && c !== CLOSE_BRACKET) {
              fail(`expected \`,\` or \`${stack[depth - 1] === 1 ? "}" : "]"}\`, found ${show(c)}`, at, line);
            }
            break; // handled below
          case Expect.Value:
          case Expect.ValueOrClose:
            if (c === CLOSE_BRACKET && expect === Expect.ValueOrClose) break; // handled below
            if (c === CLOSE_BRACKET || c === CLOSE_BRACE || c === 0x2c || c === 0x3a) {
              fail(`expected a value, found ${show(c)}`, at, line);
            }
            // a value starts here
            if (depth === 1) {
              elementStart = at;
              elementLine = line;
              elementHasImage = 0;
            } else if (depth === 2 && stack[1] === 1 && lastKeyIsImage) {
              elementHasImage = c === 0x6e /* n(ull) */ ? 0 : 1;
            }
            lastKeyIsImage = false;
            if (c === QUOTE) {
              inString = true;
              stringIsKey = false;
              i++;
              continue;
            }
            if (c === OPEN_BRACE || c === OPEN_BRACKET) {
              if (depth === stack.length) {
                const s = new Uint8Array(stack.length * 2);
                s.set(stack);
                stack = s;
              }
              stack[depth++] = c === OPEN_BRACE ? 1 : 0;
              expect = c === OPEN_BRACE ? Expect.KeyOrClose : Expect.ValueOrClose;
              i++;
              continue;
            }
            if (isLiteralByte(c)) {
              inLiteral = true;
              i++;
              continue;
            }
            fail(`expected a value, found ${show(c)}`, at, line);
        }
        // a closing bracket or brace
        const isObject = stack[depth - 1] === 1;
        if ((c === CLOSE_BRACE) !== isObject) {
          fail(`\`${String.fromCharCode(c)}\` does not match the open \`${isObject ? "{" : "["}\``, at, line);
        }
        depth--;
        i++;
        if (depth === 0) {
          expect = Expect.End;
        } else {
          expect = Expect.CommaOrClose;
          if (depth === 1) finishElement(i);
        }
      }
      if (elementStart >= 0 && onElement) pending.push(buf.subarray(Math.max(0, elementStart - base), n));
      base += n;
    }
    if (inLiteral && depth === 1) {
      // a literal at the very end cannot be valid: the array is not closed
      inLiteral = false;
    }
    if (expect !== Expect.End) {
      const what =
        expect === Expect.TopOpen
          ? "the file is empty (expected a JSON array of samples)"
          : inString
            ? "the file ends inside a string"
            : `the file ends before the top-level array is closed (${depth} bracket${depth === 1 ? "" : "s"} still open)`;
      fail(what, base, line);
    }
    return {
      count,
      starts: starts.subarray(0, count),
      ends: ends.subarray(0, count),
      lines: lines.subarray(0, count),
      hasImage: images.subarray(0, count),
      fileBytes,
    };
  } finally {
    await handle.close();
  }
}

/** Reads bytes `[start, end)` of a file. */
export async function readRange(path: string, start: number, end: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(end - start);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await handle.read(buf, done, buf.length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === buf.length ? buf : buf.subarray(0, done);
  } finally {
    await handle.close();
  }
}
