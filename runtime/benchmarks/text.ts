// Python-compatible string helpers for the benchmark scorers.
//
// The official scoring scripts are Python; where Python's string semantics differ from
// JavaScript's, the scorers must follow Python's (evals.md, "General conventions").
// Strings are handled by code point, as Python's `str` is.

/**
 * The code points for which CPython 3.11 `str.isspace()` is true (Unicode 14): the set that
 * `str.split()`, `str.strip()` and the `\s` of a `re` str pattern use. It differs from JS `\s`:
 * Python includes U+001C..U+001F and U+0085 and excludes U+FEFF.
 */
const PY_SPACE = new Set<number>([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
  0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** A regex character class (for a `u`-flag RegExp) matching exactly Python's whitespace. */
export const PY_SPACE_CLASS = "[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/** Python `ch.isspace()` for one code point. */
export function isPySpace(ch: string): boolean {
  return PY_SPACE.has(ch.codePointAt(0) ?? -1);
}

/** The code points of `s` (Python indexes a `str` by code point, JS by UTF-16 unit). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/** Python `s.split()` with no argument: runs of whitespace separate, no empty pieces. */
export function pySplit(s: string): string[] {
  const words: string[] = [];
  let word = "";
  for (const ch of s) {
    if (isPySpace(ch)) {
      if (word !== "") words.push(word);
      word = "";
    } else {
      word += ch;
    }
  }
  if (word !== "") words.push(word);
  return words;
}

/** Python `s.strip()` with no argument. */
export function pyStrip(s: string): string {
  const cps = codePoints(s);
  let start = 0;
  let end = cps.length;
  while (start < end && isPySpace(cps[start])) start++;
  while (end > start && isPySpace(cps[end - 1])) end--;
  return cps.slice(start, end).join("");
}

/** Python `s.rstrip(chars)`: removes trailing code points that are in `chars`. */
export function pyRstrip(s: string, chars: string): string {
  const set = new Set(codePoints(chars));
  const cps = codePoints(s);
  let end = cps.length;
  while (end > 0 && set.has(cps[end - 1])) end--;
  return cps.slice(0, end).join("");
}

/**
 * Python 3 `s.lower()`: full Unicode lower-casing with the final-sigma rule. JS `toLowerCase`
 * implements the same mappings (differences come only from Unicode version skew).
 */
export function pyLower(s: string): string {
  return s.toLowerCase();
}

/** Python `s.upper()`. */
export function pyUpper(s: string): string {
  return s.toUpperCase();
}

/** Python 3 `\d` for str patterns: any Unicode decimal digit (category Nd). */
export function isUnicodeDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

/** Python 2 `\d` for a pattern compiled without `re.UNICODE`: the ASCII digits only. */
export function isAsciiDigit(ch: string): boolean {
  return ch.length === 1 && ch >= "0" && ch <= "9";
}

/**
 * Python 2 `round(x, 2)`: rounds the exact binary value of the double to 2 decimals, ties away
 * from zero (17/32 = 53.125 -> 53.13, while 2.675, really 2.67499999..., -> 2.67). `toFixed`
 * rounds the exact value and picks the larger magnitude on a tie, which is the same rule.
 * Python 3's `round` (ties to even) and `Math.round(x * 100) / 100` both differ.
 */
export function roundPy2(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  return Number(x.toFixed(digits));
}
