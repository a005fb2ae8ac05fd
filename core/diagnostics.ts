/**
 * Diagnostics: values collected along the pipeline, never exceptions. Every diagnostic is a message of
 * the catalog in `messages.ts` (its wording) under one of the codes below (stable code, severity,
 * summary), with a primary span, an optional label under it, labelled secondary spans (where a value
 * came from) and `help:` notes. Code reports one with `diagnostics.report(M.name, args, { span })`.
 *
 * Codes are grouped by phase: E01xx syntax, E02xx names, imports and fields, E03xx types, values and
 * shapes, E04xx ablation grids, E05xx build and command line, Wxxxx warnings. `docs/language.md` lists
 * them all; a test checks each is used, unique and documented.
 */
import type { Span } from "./source.js";

export type Severity = "error" | "warning";

export interface Label {
  readonly span: Span;
  readonly text: string;
}

/** An edit that fixes a diagnostic: replace `span` with `text` (editors offer it as a quick fix). */
export interface Fix {
  readonly span: Span;
  readonly text: string;
}

export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  readonly message: string;
  readonly span?: Span;
  /** text under the primary span, e.g. "did you mean `select_layer`?" */
  readonly label?: string;
  readonly secondary: readonly Label[];
  readonly help: readonly string[];
  /** machine-applicable fixes, e.g. the replacement a "did you mean" label suggests */
  readonly fixes?: readonly Fix[];
}

/** The catalog: one entry per code, with the summary documented in docs/language.md. */
export const catalog = {
  // E01xx: syntax
  E0101: { severity: "error", summary: "unexpected character" },
  E0102: { severity: "error", summary: "unterminated string" },
  E0103: { severity: "error", summary: "invalid escape in a string" },
  E0104: { severity: "error", summary: "unterminated block comment" },
  E0105: { severity: "error", summary: "malformed number" },
  E0106: { severity: "error", summary: "syntax error: unexpected token" },
  E0107: { severity: "error", summary: "a keyword where a name is expected" },
  E0108: { severity: "error", summary: "brackets nested too deeply" },
  // E02xx: names, imports, declarations and fields
  E0201: { severity: "error", summary: "unknown name" },
  E0202: { severity: "error", summary: "name declared twice" },
  E0203: { severity: "error", summary: "unknown field" },
  E0204: { severity: "error", summary: "missing required field" },
  E0205: { severity: "error", summary: "field set twice in one block" },
  E0206: { severity: "error", summary: "import not found or unreadable" },
  E0207: { severity: "error", summary: "import cycle" },
  E0208: { severity: "error", summary: "import outside the project root" },
  E0209: { severity: "error", summary: "base of the wrong kind" },
  E0210: { severity: "error", summary: "declaration needs a base family" },
  E0211: { severity: "error", summary: "refinement of something that is not a declaration or family" },
  E0212: { severity: "error", summary: "definition refers to itself" },
  E0213: { severity: "error", summary: "`ablate` or `exclude` outside an experiment" },
  E0214: { severity: "error", summary: "a family or kind name used where a value is expected" },
  E0215: { severity: "error", summary: "a file that is not an mmfm spec" },
  // E03xx: types, values and shapes
  E0301: { severity: "error", summary: "mismatched types" },
  E0302: { severity: "error", summary: "value out of range" },
  E0303: { severity: "error", summary: "value not among the allowed ones" },
  E0304: { severity: "error", summary: "reference to a declaration of the wrong kind" },
  E0305: { severity: "error", summary: "width not divisible by the number of heads" },
  E0306: { severity: "error", summary: "heads not divisible by key/value heads" },
  E0307: { severity: "error", summary: "patch larger than the image" },
  E0308: { severity: "error", summary: "connector width disagrees with the model" },
  E0309: { severity: "error", summary: "identity connector between different widths" },
  E0310: { severity: "error", summary: "invalid arithmetic" },
  E0311: { severity: "error", summary: "integer too large" },
  E0312: { severity: "error", summary: "vision layer out of range" },
  E0313: { severity: "error", summary: "conflicting fields" },
  E0314: { severity: "error", summary: "invalid list of trainable components" },
  E0315: { severity: "error", summary: "batch not divisible by the micro batch" },
  E0316: { severity: "error", summary: "wrong kind of dataset for the stage" },
  E0317: { severity: "error", summary: "image tokens exceed the maximum length" },
  E0318: { severity: "error", summary: "a feature the vision family does not have" },
  // E04xx: experiments and ablation grids
  E0401: { severity: "error", summary: "unknown ablation axis" },
  E0402: { severity: "error", summary: "axis values must be a list or a record" },
  E0403: { severity: "error", summary: "zipped axes of different lengths" },
  E0404: { severity: "error", summary: "`exclude` drops every variant" },
  E0405: { severity: "error", summary: "two variants with the same id" },
  E0406: { severity: "error", summary: "an axis without values" },
  E0407: { severity: "error", summary: "axis given twice" },
  E0408: { severity: "error", summary: "label is not a safe file name" },
  E0409: { severity: "error", summary: "condition is not a boolean" },
  E0410: { severity: "error", summary: "no label can be derived for a value" },
  E0411: { severity: "error", summary: "`repeats` together with a `seed` axis" },
  E0412: { severity: "error", summary: "`label(...)` outside an `exclude` condition" },
  E0413: { severity: "error", summary: "a `zip` group inside `ablate zip`" },
  // E05xx: command line and build
  E0501: { severity: "error", summary: "invalid --set or --only" },
  E0502: { severity: "error", summary: "--only or --variant matches no variant" },
  E0503: { severity: "error", summary: "cannot read the input file" },
  E0504: { severity: "error", summary: "the target cannot express a setting" },
  E0505: { severity: "error", summary: "global batch does not divide over the devices" },
  // warnings
  W0101: { severity: "warning", summary: "unused `let` constant" },
  W0201: { severity: "warning", summary: "import brings nothing that is used" },
  W0301: { severity: "warning", summary: "a field the stage's objective does not read" },
  W0401: { severity: "warning", summary: "`exclude` drops nothing" },
  W0402: { severity: "warning", summary: "two grid points give the same configuration" },
  W0501: { severity: "warning", summary: "a stage will not fit in device memory" },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type Code = keyof typeof catalog;

/** The text of a label, made only by the label templates of the catalog (`L` in messages.ts). */
export type LabelText = string & { readonly [labelText]: true };
declare const labelText: unique symbol;

/**
 * A message of the catalog: its code and the templates of its text, of the label under its primary
 * span and of its `help:` notes, all functions of the message's arguments.
 */
export interface Message<Args> {
  readonly code: Code;
  readonly text: (args: Args) => string;
  readonly label?: (args: Args) => string | undefined;
  readonly help?: (args: Args) => string | readonly string[] | undefined;
}

/** A labelled secondary span of a reported message. */
export interface Secondary {
  readonly span: Span;
  readonly text: LabelText;
}

/** Where a reported message points: its primary span and labelled secondary spans. */
export interface At {
  readonly span?: Span;
  readonly secondary?: readonly Secondary[];
  /** the edits that fix it (a "did you mean" names its replacement), for editors' quick fixes */
  readonly fixes?: readonly Fix[];
}

/** A catalog message with its arguments, placed: the one way the compiler makes a diagnostic. */
export function diagnosticOf<Args>(message: Message<Args>, args: Args, at: At = {}): Diagnostic {
  return diagnostic(message.code, message.text(args), { span: at.span, label: message.label?.(args), secondary: at.secondary, help: message.help?.(args), fixes: at.fixes });
}

export interface DiagnosticInit {
  readonly span?: Span;
  readonly label?: string;
  readonly secondary?: readonly Label[];
  readonly help?: string | readonly string[];
  readonly fixes?: readonly Fix[];
}

/**
 * A diagnostic from its parts, for `diagnosticOf` and for tests of the renderer. The compiler does not
 * call it: its messages come from the catalog (a test checks no source does, but compiler/export.ts
 * until its messages move into the catalog).
 */
export function diagnostic(code: Code, message: string, init: DiagnosticInit = {}): Diagnostic {
  const help = init.help === undefined ? [] : typeof init.help === "string" ? [init.help] : init.help;
  return {
    code,
    severity: catalog[code].severity,
    message,
    span: init.span,
    label: init.label,
    secondary: init.secondary ?? [],
    help,
    ...(init.fixes?.length ? { fixes: init.fixes } : {}),
  };
}

/** A growing list of diagnostics, passed along the pipeline. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];
  private seen = new Set<string>();

  add(d: Diagnostic): void {
    // the same message at the same place is reported once (e.g. a shared base checked for two variants)
    const key = `${d.code}|${d.span?.file.path}|${d.span?.start}|${d.span?.end}|${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(d);
  }

  /** Reports a message of the catalog (`M` in messages.ts) with its arguments at a place. */
  report<Args>(message: Message<Args>, args: Args, at?: At): void {
    this.add(diagnosticOf(message, args, at));
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === "error").length;
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }

  /** In file order (by path, then offset), errors and warnings interleaved as they appear. */
  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => {
      const pa = a.span?.file.path ?? "";
      const pb = b.span?.file.path ?? "";
      if (pa !== pb) return pa < pb ? -1 : 1;
      return (a.span?.start ?? -1) - (b.span?.start ?? -1);
    });
  }
}

/** `a`, `a` and `b`, `a`, `b` and `c`: names in backticks for messages. */
export function listNames(names: readonly string[], conjunction = "or"): string {
  const quoted = names.map((n) => `\`${n}\``);
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} ${conjunction} ${quoted[quoted.length - 1]}`;
}
