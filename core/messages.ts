/**
 * The message catalog, as TypeScript's `diagnosticMessages`: every diagnostic the compiler reports is
 * one entry of `M`, under a stable code of `catalog` (diagnostics.ts; several messages may share a
 * code, and the code gives the severity). An entry holds the templates of the message's text, of the
 * label under its primary span and of its `help:` notes, as functions of the message's arguments;
 * `L` holds the labels of secondary spans. Code reports a message with its arguments and places only:
 *
 *     diagnostics.report(M.unknownField, { field, owner, guess }, { span, secondary: [{ span, text: L.usedBy(owner) }] });
 *
 * To add a message: add an entry here (an identifier saying what is wrong, the code of its phase, the
 * templates in rustc's style: lowercase, no full stop, names in backticks; `help:` says what to do),
 * report it where the problem is found, and test it. A new code also needs a row in `catalog` and in
 * the codes table of docs/language.md. test/compiler/catalog.test.ts checks that every message is used
 * and that no diagnostic is made outside this catalog.
 */
import { listNames, type Code, type Diagnostic, type Label, type LabelText, type Message } from "./diagnostics.js";
import type { Span } from "./source.js";

/** `a` or `an`, for the word that follows. */
export function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/** A value as shown in a message, in backticks; nothing when it is unknown. */
function quoted(shown: string | undefined): string {
  return shown === undefined ? "" : `\`${shown}\``;
}

/** `an integer`, `a vision`. */
function a(noun: string): string {
  return `${article(noun)} ${noun}`;
}

function message<Args = Record<string, never>>(
  code: Code,
  text: (args: Args) => string,
  more: { label?: (args: Args) => string | undefined; help?: (args: Args) => string | readonly string[] | undefined } = {},
): Message<Args> {
  return { code, text, ...more };
}

/** The label of a guess at what was meant, under the misspelt name. */
export function didYouMean(name: string): LabelText {
  return `did you mean \`${name}\`?` as LabelText;
}

const label = (text: string): LabelText => text as LabelText;

/** Labels of secondary spans. */
export const L = {
  seedAxis: label("the `seed` axis"),
  firstGivenHere: label("first given here"),
  broughtInByAxis: (path: string) => label(`brought into this variant by the axis \`${path}\``),
  firstSetHere: label("first set here"),
  firstHere: label("first here"),
  firstListedHere: label("first listed here"),
  sameLabelHere: label("the same label here"),
  sameLabelsHere: label("the same labels here"),
  importedHere: label("imported here"),
  declaredAgainToo: label("and declared again here"),
  firstDeclaredHere: (name: string) => label(`\`${name}\` first declared here`),
  declaredHere: (name: string) => label(`\`${name}\` is declared here`),
  setHere: (field: string) => label(`\`${field}\` set here`),
  /** a component that inherits the value at fault */
  usedBy: (component: string) => label(`used by ${component}`),
  /** the component a value set in its base is checked in */
  inComponent: (component: string) => label(`in ${component}`),
  valueCount: (n: number) => label(`${n} values`),
  typedValue: (type: string, shown: string) => label(`${type} \`${shown}\``),
  widthSetHere: (part: string) => label(`${part} width set here`),
  backbone: (part: string, name: string) => label(`${part} backbone \`${name}\``),
  withThisValueOf: (what: string) => label(`with this value of ${what}`),
};

/** What a value is checked on behalf of, for `onBehalfOf`. */
export const onBehalf = {
  axis: (path: string) => `axis \`${path}\``,
  set: (raw: string) => `--set ${raw}`,
};

/**
 * A diagnostic found while checking a value on behalf of `what` (an axis, a --set flag): pointing
 * inside the value, its message ends with `(in what)`; else the value becomes a secondary span.
 */
export function onBehalfOf(d: Diagnostic, what: string, value: Span, secondary: readonly Label[]): Diagnostic {
  const inside = d.span && d.span.file === value.file && d.span.start >= value.start && d.span.end <= value.end;
  return inside
    ? { ...d, message: `${d.message} (in ${what})`, secondary }
    : { ...d, secondary: [...secondary, { span: value, text: L.withThisValueOf(what) }] };
}

/** What a syntax error found, and where in the grammar (a rule name), from the parser. */
export type SyntaxProblem =
  | { readonly kind: "keywordAsName"; readonly keyword: string }
  | { readonly kind: "expectedToken"; readonly expected: string; readonly rule: string; readonly found: string }
  | { readonly kind: "expectedItem"; readonly found: string }
  | { readonly kind: "unexpectedToken"; readonly found: string; readonly rule: string };

/** Where in the grammar an unexpected token was, after the message: ` in a list`. */
function inRule(rule: string): string {
  switch (rule) {
    case "item":
      return " (a file holds `import`, `let` and declarations like `vision NAME = BASE { ... }`)";
    case "declaration":
      return " in a declaration";
    case "field":
    case "member":
      return " in a block of fields";
    case "axis":
    case "ablate":
      return " in an `ablate` block (`AXIS: VALUES`)";
    case "zipGroup":
      return " in a `zip` group (`AXIS: VALUES`)";
    case "axisLabel":
      return " in `label(AXIS)`";
    case "primary":
    case "unary":
    case "postfix":
      return " where a value is expected";
    case "list":
      return " in a list";
    case "record":
    case "entry":
      return " in a record";
    case "path":
      return " in a path";
    default:
      return "";
  }
}

/** `--set PATH=VALUE` that does not parse: why. */
export type AssignmentProblem =
  | SyntaxProblem
  | { readonly kind: "noEquals" }
  | { readonly kind: "notAPath"; readonly text: string }
  | { readonly kind: "noValue" }
  | { readonly kind: "nestedTooDeep"; readonly limit: number };

/** Why a `--set` value does not parse, in words: a syntax error as its message says it. */
function assignmentText(p: AssignmentProblem): string {
  switch (p.kind) {
    case "noEquals":
      return "expected PATH=VALUE";
    case "notAPath":
      return `\`${p.text}\` is not a path like \`finetune.lr\``;
    case "noValue":
      return "the value is missing";
    case "nestedTooDeep":
      return M.nestedTooDeep.text(p);
    case "keywordAsName":
      return M.keywordAsName.text(p);
    case "expectedToken":
      return M.expectedToken.text(p);
    case "expectedItem":
      return M.expectedItem.text(p);
    case "unexpectedToken":
      return M.unexpectedToken.text(p);
  }
}

type Bound = "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum";
const bounds: Record<Bound, string> = { minimum: "at least", maximum: "at most", exclusiveMinimum: "greater than", exclusiveMaximum: "less than" };

/** The fields of a family, for help notes: its name (or kind, for the kinds without families) and fields. */
interface FamilyFields {
  readonly name: string;
  readonly kind: string;
  readonly implicit: boolean;
  readonly fields: readonly string[];
}

interface NotDivisible {
  readonly owner: string;
  readonly big: string;
  readonly small: string;
  readonly a: number;
  readonly b: number;
}

const notDivisibleHelp = (x: NotDivisible) => `${x.a} / ${x.b} = ${(x.a / x.b).toFixed(2)}; pick values where \`${x.small}\` divides \`${x.big}\``;

interface CannotRead {
  readonly path: string;
  /** the system's reason; absent for a file that does not exist */
  readonly reason?: string;
}

const cannotRead = (x: CannotRead) => `cannot read \`${x.path}\`: ${x.reason ?? "no such file"}`;

interface WrongType {
  readonly field: string;
  readonly owner: string;
  /** `an integer`, `a list of strings`, `one of ...` */
  readonly expected: string;
  /** the type (or kind) of the value found; absent when unknown */
  readonly found?: string;
  readonly shown?: string;
  /** a string that holds a number of the expected type (`"128"`): the number to write instead */
  readonly unquoted?: string;
}

const wrongType = (x: WrongType) => `\`${x.field}\` of ${x.owner} must be ${x.expected}, found ${x.found ? a(x.found) : "another type"}${x.shown !== undefined ? ` ${quoted(x.shown)}` : ""}`;

interface Compared {
  readonly left: string;
  readonly right: string;
}

const cannotCompare = (x: Compared) => `cannot compare ${a(x.left)} with ${a(x.right)}`;

/** The messages, by phase and code. */
export const M = {
  // ---- E01xx: syntax ---------------------------------------------------------------------------------
  unexpectedCharacter: message("E0101", (x: { char: string; shown: string }) => `unexpected character \`${x.shown}\``, {
    help: (x) => (x.char === "'" ? "strings use double quotes" : x.char === "#" ? "comments start with `//`" : undefined),
  }),
  unterminatedString: message("E0102", () => "unterminated string", {
    label: () => "the closing `\"` is missing on this line",
    help: () => "strings cannot span lines; write `\\n` for a line break",
  }),
  invalidUnicodeEscape: message("E0103", (x: { escape: string }) => `invalid unicode escape \`${x.escape}\``, {
    help: () => "write a code point as `\\u{1F600}`: 1 to 6 hex digits, at most 10FFFF, not a surrogate",
  }),
  unknownEscape: message("E0103", (x: { char: string }) => `unknown escape \`\\${x.char}\``, {
    help: () => "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t` and `\\u{...}`",
  }),
  unterminatedComment: message("E0104", () => "unterminated block comment", {
    label: () => "this comment is never closed",
    help: () => "close it with `*/` (block comments do not nest)",
  }),
  malformedNumber: message("E0105", (x: { text: string; startsLikeName: boolean }) => `malformed number \`${x.text}\``, {
    help: (x) =>
      x.startsLikeName
        ? `a name cannot start with a digit; to use it as a label, quote it: "${x.text}"`
        : "numbers look like `42`, `-2`, `0.03`, `2e-5`, `256_000` (underscores only between digits)",
  }),
  /** `expected` is written after the line that lacks it when `after` (a missing closer) */
  expectedToken: message("E0106", (x: { expected: string; rule: string; found: string; after?: boolean }) => `expected ${x.expected}${inRule(x.rule)}, found ${x.found}`, {
    label: (x) => (x.after ? `expected ${x.expected} after this` : undefined),
  }),
  expectedItem: message("E0106", (x: { found: string }) => `expected a declaration, \`import\` or \`let\`, found ${x.found}`),
  unexpectedToken: message("E0106", (x: { found: string; rule: string }) => `unexpected ${x.found}${inRule(x.rule)}`),
  keywordAsName: message("E0107", (x: { keyword: string }) => `\`${x.keyword}\` is a keyword and cannot be used as a name`, {
    help: () => "pick another name; keywords are listed in docs/language.md",
  }),

  nestedTooDeep: message("E0108", (x: { limit: number }) => `brackets and prefix operators nest more than ${x.limit} levels deep`, {
    label: (x) => `level ${x.limit + 1} opens here`,
    help: () => "give inner values names with `let` and refer to them (every `(`, `[`, `{` and prefix `-` or `not` is a level)",
  }),

  // ---- E02xx: names, imports, declarations and fields --------------------------------------------
  unknownName: message("E0201", (x: { name: string; guess?: string; missingStd: boolean }) => `unknown name \`${x.name}\``, {
    label: (x) => (x.guess ? didYouMean(x.guess) : "not declared in this file or its imports"),
    help: (x) => (x.missingStd ? 'the standard library is not imported: add `import "std"`' : undefined),
  }),
  unknownBase: message("E0201", (x: { kind: string; name: string; guess?: string; families: readonly string[]; importsStd: boolean }) => `unknown ${x.kind} \`${x.name}\``, {
    label: (x) => (x.guess ? didYouMean(x.guess) : undefined),
    help: (x) =>
      x.guess ? undefined : `the ${x.kind} families are ${listNames(x.families)}${x.importsStd ? "" : '; presets such as `clip_vit_l14_336` need `import "std"`'}`,
  }),
  fieldHasNoValue: message("E0201", (x: { field: string; owner: string; computedDefault?: string }) => `field \`${x.field}\` of ${x.owner} has no value here`, {
    help: (x) => (x.computedDefault ? `its default (${x.computedDefault}) is computed when the model is resolved` : "set it in the declaration"),
  }),
  declaredTwice: message("E0202", (x: { name: string }) => `\`${x.name}\` is declared twice`, {
    label: () => "declared again here",
    help: () => "rename one of them; names share one scope across a file and its imports",
  }),
  /** `family` gives the help listing its fields, when there is no guess */
  unknownField: message("E0203", (x: { field: string; owner: string; guess?: string; family?: FamilyFields }) => `unknown field \`${x.field}\` in ${x.owner}`, {
    label: (x) => (x.guess ? didYouMean(x.guess) : undefined),
    help: (x) =>
      x.guess || !x.family ? undefined : `the fields of ${x.family.implicit ? `a ${x.family.kind}` : `\`${x.family.name}\``} are ${listNames(x.family.fields, "and")}`,
  }),
  missingField: message("E0204", (x: { field: string; owner: string; type: string; description?: string }) => `missing required field \`${x.field}\` in ${x.owner}`, {
    label: (x) => `\`${x.field}\` (${x.type}) is required`,
    help: (x) => (x.description !== undefined ? `${x.field}: ${x.description}` : undefined),
  }),
  fieldSetTwice: message("E0205", (x: { field: string }) => `field \`${x.field}\` is set twice`, {
    label: () => "set again here",
    help: () => "a field may be set once per block; remove one",
  }),
  keyTwice: message("E0205", (x: { key: string }) => `key \`${x.key}\` appears twice in this record`),
  cannotReadImport: message("E0206", cannotRead),
  emptyImport: message("E0206", () => "empty import path", {
    help: () => 'write `import "std"` or a relative path such as `import "./common.mmfm"`',
  }),
  importNotFound: message("E0206", (x: { spec: string; resolved: string }) => `cannot find \`${x.spec}\``, {
    label: (x) => `no file at \`${x.resolved}\``,
    help: (x) => (x.spec.startsWith(".") ? undefined : 'paths are relative to this file: write `"./' + x.spec + '"`; the standard library is `"std"`'),
  }),
  importCycle: message("E0207", (x: { cycle: readonly string[] }) => `import cycle: ${x.cycle.join(" -> ")}`, {
    help: () => "move the shared declarations into a file that both import",
  }),
  /** a file read as a spec that is not one: binary (not UTF-8 text, or holding NUL bytes), or an import that does not begin like a spec */
  notASpec: message("E0215", (x: { path: string; binary: boolean }) => `\`${x.path}\` is not an mmfm spec: ${x.binary ? "it is binary, not UTF-8 text" : "it does not begin with `import`, `let` or a declaration"}`, {
    help: (x) => `its content is not shown; ${x.binary ? "a spec is a UTF-8 text file" : "check the path: an import names another `.mmfm` file of the project"}`,
  }),
  importOutsideRoot: message("E0208", (x: { spec: string; resolved: string; root: string }) => `import \`${x.spec}\` reaches outside the project root`, {
    label: (x) => `resolves to \`${x.resolved}\``,
    help: (x) => `imports stay inside \`${x.root || "."}\` (the nearest folder with mmfm.json or package.json); only "std" is shared`,
  }),
  baseNotAName: message("E0209", (x: { kind: string; name: string }) => `the base of ${x.kind} \`${x.name}\` must be a family or a ${x.kind} declaration`),
  baseOfWrongType: message("E0209", (x: { name: string; type: string; kind: string; families: readonly string[] }) => `\`${x.name}\` is ${a(x.type)}, not a ${x.kind}`, {
    label: (x) => `expected a ${x.kind} family or declaration`,
    help: (x) => `the ${x.kind} families are ${listNames(x.families)}`,
  }),
  baseFamilyOfWrongKind: message("E0209", (x: { name: string; actual: string; kind: string; families: readonly string[] }) => `\`${x.name}\` is a ${x.actual} family, not a ${x.kind} family`, {
    help: (x) => `the ${x.kind} families are ${listNames(x.families)}`,
  }),
  needsFamily: message("E0210", (x: { kind: string; name: string; families: readonly string[] }) => `${x.kind} \`${x.name}\` needs a base family`, {
    help: (x) => `write \`${x.kind} ${x.name} = FAMILY { ... }\`; the ${x.kind} families are ${listNames(x.families)}`,
  }),
  cannotRefine: message("E0211", (x: { type: string; shown: string }) => `${a(x.type)} cannot be refined`, {
    label: (x) => `\`${x.shown}\` is not a declaration or family`,
    help: () => "`BASE { field = value }` needs a family (`cosine`) or a declaration (`clip_vit_l14_336`) as BASE",
  }),
  declarationCycle: message("E0212", (x: { name: string }) => `\`${x.name}\` is defined in terms of itself`, {
    help: () => "a declaration's base and fields cannot lead back to the declaration",
  }),
  letCycle: message("E0212", (x: { name: string }) => `\`${x.name}\` is defined in terms of itself`),
  /** `example` is the owner's name, or its kind */
  gridOutsideExperiment: message("E0213", (x: { member: "ablate" | "exclude"; kind: string; example: string }) => `\`${x.member}\` is only allowed in an experiment`, {
    help: (x) => `move it into the \`experiment\` that varies this ${x.kind}, e.g. \`ablate { ${x.example}.FIELD: [...] }\``,
  }),
  ambiguousFamily: message("E0214", (x: { name: string; kinds: readonly string[] }) => `\`${x.name}\` is ${listNames(x.kinds.map((k) => `${k} family`), "and")} here; which one is meant is unclear`, {
    help: (x) => `use it where the kind is known (e.g. in a \`schedule\` or \`connector\` field), or declare it: \`connector c = ${x.name}\``,
  }),
  /** `component`: a component name (`vision`) rather than a declaration kind */
  kindAsValue: message("E0214", (x: { name: string; component: boolean }) => `\`${x.name}\` is a kind, not a value`, {
    help: (x) => (x.component ? "component names are only values in a stage's `train` list" : "refer to a declaration by its name"),
  }),

  // ---- E03xx: types, values and shapes -----------------------------------------------------------
  wrongType: message("E0301", wrongType, {
    label: (x) => `expected ${x.expected}`,
    help: (x) => (x.unquoted !== undefined ? `a number in quotes is a string: write \`${x.unquoted}\` without the quotes` : undefined),
  }),
  /** `whole`: the float's value when it is a whole number, to write as an integer */
  integerExpected: message("E0301", (x: { field: string; shown: string; whole?: number }) => `\`${x.field}\` must be an integer, found float \`${x.shown}\``, {
    help: (x) => (x.whole !== undefined ? `write \`${x.whole}\`` : undefined),
  }),
  /** a schema error without a message of its own (`reason` is the validator's) */
  invalidValue: message("E0301", (x: { field: string; owner: string; reason?: string }) => `\`${x.field || "?"}\` of ${x.owner}: ${x.reason ?? "invalid value"}`),
  noFields: message("E0301", (x: { field: string; type: string }) => `\`${x.field}\` cannot be read from ${a(x.type)}`, {
    help: () => "only declarations have fields",
  }),
  /** `declarations`: one side is a declaration, which compares only with declarations */
  cannotCompare: message("E0301", (x: Compared & { declarations: boolean }) => cannotCompare(x), {
    help: (x) => (x.declarations ? "declarations compare with declarations, by identity (e.g. `model.vision == clip`)" : undefined),
  }),
  /** `VALUE in [ITEMS]` with an item of another type */
  cannotCompareInList: message("E0301", cannotCompare),
  rangeReversed: message("E0302", (x: { field: string; owner: string; min: number; max: number }) => `\`${x.field}\` of ${x.owner} is a range [min, max], found [${x.min}, ${x.max}]: its first bound is the larger`, {
    help: (x) => `write the smaller bound first: [${x.max}, ${x.min}]`,
  }),
  outOfRange: message("E0302", (x: { field: string; owner: string; bound: Bound; limit: unknown; shown?: string }) => `\`${x.field}\` of ${x.owner} must be ${bounds[x.bound]} ${x.limit}, found ${quoted(x.shown)}`),
  itemCount: message("E0302", (x: { field: string; owner: string; bound: "minItems" | "maxItems"; limit: unknown; count: number | "?" }) =>
    `\`${x.field}\` of ${x.owner} needs ${x.bound === "minItems" ? `at least ${x.limit}` : `at most ${x.limit}`} item${x.limit === 1 ? "" : "s"}, found ${x.count}`,
  ),
  /** `allowed` as written in a spec (strings quoted) */
  notAllowed: message("E0303", (x: { field: string; owner: string; allowed: readonly string[]; shown?: string; guess?: string }) => `\`${x.field}\` of ${x.owner} must be one of ${listNames(x.allowed)}, found ${quoted(x.shown)}`, {
    label: (x) => (x.guess ? didYouMean(`"${x.guess}"`) : undefined),
  }),
  /** `train = connector`: one component name where `train` takes a list */
  componentAlone: message("E0301", (x: { name: string }) => `\`train\` takes a list of components, found \`${x.name}\` alone`, {
    label: () => "expected a list",
    help: (x) => `write \`train = [${x.name}]\``,
  }),
  /** `train = [conector]`: `guess` the nearest component, by spelling or by LLaVA's word for it (`projector`) */
  notAComponent: message("E0303", (x: { name: string; guess?: string; components: readonly string[] }) => `\`${x.name}\` is not a component`, {
    label: (x) => (x.guess ? didYouMean(x.guess) : undefined),
    help: (x) => `\`train\` lists the components the stage updates: ${listNames(x.components)}`,
  }),
  wrongKind: message("E0304", wrongType, { label: (x) => `expected ${x.expected}` }),
  widthNotDivisibleByHeads: message("E0305", (x: NotDivisible) => `width not divisible by heads in ${x.owner}: \`${x.big}\` ${x.a} is not divisible by \`${x.small}\` ${x.b}`, {
    help: notDivisibleHelp,
  }),
  headsNotDivisibleByKvHeads: message("E0306", (x: NotDivisible) => `query heads not divisible by key/value heads in ${x.owner}: \`${x.big}\` ${x.a} is not divisible by \`${x.small}\` ${x.b}`, {
    help: notDivisibleHelp,
  }),
  patchLargerThanImage: message("E0307", (x: { patch: number; image: number; owner: string }) => `the patch (${x.patch} px) is larger than the image (${x.image} px) in ${x.owner}`, {
    help: () => "an image gives floor(image / patch)² patches; make `patch` at most `image`",
  }),
  connectorWidth: message("E0308", (x: { field: string; shown: string; part: string; width: number }) => `connector \`${x.field}\` is ${x.shown} but the ${x.part} width is ${x.width}`, {
    label: (x) => `the model's ${x.part} backbone gives ${x.width}`,
    help: (x) => `remove \`${x.field}\` (it is inferred from the model) or set it to ${x.width}`,
  }),
  identityWidths: message("E0309", (x: { vision: number; language: number }) => `the identity connector cannot map vision width ${x.vision} to language width ${x.language}`, {
    help: () => "use `linear_proj` or `mlp2x_gelu`, or backbones of equal width",
  }),
  cannotNegate: message("E0310", (x: { type: string }) => `cannot negate ${a(x.type)}`),
  notNumbers: message("E0310", (x: { op: string; type: string; shown: string }) => `\`${x.op}\` works on numbers only, found ${a(x.type)}`, {
    label: (x) => `\`${x.shown}\``,
  }),
  divisionByZero: message("E0310", () => "division by zero"),
  inexactDivision: message("E0310", (x: { a: bigint; b: bigint }) => `${x.a} / ${x.b} is not a whole number`, {
    help: (x) => `integer division must be exact; write \`${x.a}.0 / ${x.b}\` for a float`,
  }),
  notFinite: message("E0310", () => "the result is not a finite number"),
  integerTooLarge: message("E0311", (x: { value: bigint }) => `${x.value} is too large (integers are exact up to 2^53 - 1)`),
  selectLayerOutOfRange: message("E0312", (x: { layer: number; owner: string; depth: number }) => `\`select_layer\` ${x.layer} is out of range for ${x.owner} with ${x.depth} layers`, {
    help: (x) => `hidden states are numbered 0 (embeddings) to ${x.depth}, or -1 (last) to -${x.depth + 1}`,
  }),
  epochsAndSteps: message("E0313", (x: { owner: string }) => `${x.owner} sets both \`epochs\` and \`steps\``, {
    help: () => "give one: `epochs` passes over the data, or `steps` optimizer steps",
  }),
  loraWithoutLanguage: message("E0313", (x: { owner: string }) => `${x.owner} sets \`lora\` but does not train \`language\``, {
    label: () => "LoRA adapts the language model",
    help: () => "add `language` to `train` (its adapters are then trained, not its weights), or remove `lora = true`",
  }),
  mixtureLength: message("E0313", (x: { owner: string; weights: number; datasets: number }) => `\`mixture\` of ${x.owner} has ${x.weights} weight${x.weights === 1 ? "" : "s"} for ${x.datasets} dataset${x.datasets === 1 ? "" : "s"}`, {
    help: () => "give one weight per dataset of `data`, in the same order",
  }),
  listedTwice: message("E0314", (x: { field: string; owner: string; item?: string }) => `\`${x.field}\` of ${x.owner} lists \`${x.item ?? "an item"}\` twice`, {
    label: () => "listed again here",
  }),
  /** `valid`: the micro batches that divide the batch, smallest first */
  batchNotMultiple: message("E0315", (x: { batch: number; micro: number; owner: string; valid: readonly number[] }) => `\`batch\` ${x.batch} is not a multiple of \`micro_batch\` ${x.micro} in ${x.owner}`, {
    help: (x) => [
      "gradients are accumulated over batch / micro_batch forward passes, which must be whole",
      `\`micro_batch\` values that divide ${x.batch}: ${x.valid.length > 24 ? `${x.valid.slice(0, 24).join(", ")} and ${x.valid.length - 24} more` : x.valid.join(", ")}`,
    ],
  }),
  objectiveTrains: message(
    "E0314",
    (x: { objective: string; component: string; owner: string; trains: string }) =>
      `\`objective = "${x.objective}"\` pretrains the ${x.component} backbone alone, but ${x.owner} trains ${x.trains}`,
    {
      help: (x) => `set \`train = [${x.component}]\`, or use \`objective = "llava"\` to train several components on LLaVA's loss`,
    },
  ),
  fieldNotRead: message(
    "W0301",
    (x: { field: string; reader: string; owner: string; objective: string }) =>
      `\`${x.field}\` is read by \`objective = "${x.reader}"\` alone; ${x.owner} has \`objective = "${x.objective}"\`, so it changes nothing`,
    { help: (x) => `remove \`${x.field}\`, or set \`objective = "${x.reader}"\` if this stage is to pretrain the vision tower` },
  ),
  objectiveWithoutImages: message("E0316", (x: { objective: string; dataset: string }) => `\`objective = "${x.objective}"\` trains on images, but \`${x.dataset}\` is the text split of \`synthetic_shapes\` (no images)`, {
    help: () => 'use the `caption` split: images with their descriptions (`synthetic_shapes { split = "caption" }`)',
  }),
  trainsOnBenchmark: message("E0316", (x: { owner: string; dataset: string }) => `${x.owner} trains on the benchmark \`${x.dataset}\``, {
    help: () => "benchmarks are evaluated by an `eval`; training data is `llava_json` or `synthetic_shapes`",
  }),
  notABenchmark: message("E0316", (x: { dataset: string; family: string; benchmarks: readonly string[] }) => `\`${x.dataset}\` (${x.family}) is not a benchmark`, {
    help: (x) => `an eval scores benchmarks: ${listNames(x.benchmarks)} or \`synthetic_shapes { split = "test" }\``,
  }),
  noRoomForText: message("E0317", (x: { tokens: number; maxLength: number; owner: string }) => `${x.tokens} image tokens leave no room for text in \`max_length\` ${x.maxLength} of ${x.owner}`, {
    help: (x) => `raise \`max_length\` above ${x.tokens}, or use a vision backbone with fewer tokens`,
  }),
  noClassToken: message("E0318", (x: { owner: string }) => `SigLIP has no class token, so \`feature = "cls_patch"\` is not available in ${x.owner}`, {
    help: () => 'use `feature = "patch"`: all patch tokens',
  }),

  // ---- E04xx: experiments and ablation grids -----------------------------------------------------
  unknownAxis: message("E0401", (x: { path: string; experiment: string; guess?: string; candidates: readonly string[] }) => `unknown axis \`${x.path}\` in experiment \`${x.experiment}\``, {
    label: (x) => (x.guess ? didYouMean(x.guess) : undefined),
    help: (x) => (x.guess ? undefined : `an axis is ${listNames(x.candidates)} or a deeper path such as \`model.connector.depth\``),
  }),
  axisOfUnusedDeclaration: message("E0401", (x: { name: string; experiment: string }) => `\`${x.name}\` is not used by experiment \`${x.experiment}\``, {
    help: () => `an axis \`NAME.FIELD\` names a ${listNames(["stage", "eval", "dataset", "vision", "connector", "language"])} the experiment uses`,
  }),
  /** `shown`: the field's value, absent when it is not set */
  axisIntoValue: message("E0401", (x: { field: string; experiment: string; shown?: string }) => `\`${x.field}\` of experiment \`${x.experiment}\` has no fields to vary`, {
    help: (x) => `\`${x.field}\` is ${x.shown ?? "not set"}; vary it as a whole with \`${x.field}: [...]\``,
  }),
  axisUnknownField: message("E0401", (x: { path: string; owner: string; field: string; guess?: string; fields: readonly string[] }) => `unknown axis \`${x.path}\`: ${x.owner} has no field \`${x.field}\``, {
    label: (x) => (x.guess ? didYouMean(x.guess) : undefined),
    help: (x) => (x.guess ? undefined : `its fields are ${listNames(x.fields, "and")}`),
  }),
  axisFieldWithoutFields: message("E0401", (x: { path: string; field: string; owner: string }) => `unknown axis \`${x.path}\`: \`${x.field}\` of ${x.owner} has no fields`),
  unknownAxisInExclude: message("E0401", (x: { path: string; guess?: string; experiment: string; axes: readonly string[] }) => `unknown axis \`${x.path}\` in \`exclude\``, {
    label: (x) => (x.guess ? didYouMean(x.guess) : undefined),
    help: (x) => (x.guess ? undefined : `the axes of \`${x.experiment}\` are ${listNames(x.axes)}`),
  }),
  axisNotListOrRecord: message("E0402", (x: { path: string; shown: string }) => `the values of axis \`${x.path}\` must be a list or a record, found ${x.shown}`, {
    help: (x) => `write \`${x.path}: [a, b]\` or \`${x.path}: { label = a, other = b }\``,
  }),
  /** `group`: the axes of a `zip { }` group inside `ablate { }` (else of an `ablate zip` block) */
  zipLengths: message("E0403", (x: { first: string; n: number; other: string; m: number; group?: boolean }) => `zipped axes have different lengths: \`${x.first}\` has ${x.n}, \`${x.other}\` has ${x.m}`, {
    help: (x) => `${x.group ? "a `zip` group" : "`ablate zip`"} pairs the i-th values of every axis, so all need the same number`,
  }),
  excludeDropsAll: message("E0404", (x: { experiment: string; before: number }) => `the \`exclude\` conditions drop every variant of experiment \`${x.experiment}\``, {
    help: (x) => `${x.before} variant${x.before === 1 ? "" : "s"} before excluding, none after`,
  }),
  sameLabel: message("E0405", (x: { path: string; label: string }) => `two values of axis \`${x.path}\` have the label \`${x.label}\``, {
    help: (x) => `variant ids would collide; give distinct labels with a record: \`${x.path}: { a = ..., b = ... }\``,
  }),
  sameRowLabels: message("E0405", (x: { labels: string; row: number; first: number }) => `rows ${x.first} and ${x.row} of \`ablate zip\` have the same labels \`${x.labels}\``, {
    help: () => "variant ids would collide; give one of the rows distinct labels with a record (`{ label = value }`)",
  }),
  sameId: message("E0405", (x: { id: string }) => `two different variants have the id \`${x.id}\``, {
    help: () => "give the values distinct labels with a record (`{ label = value }`)",
  }),
  axisWithoutValues: message("E0406", (x: { path: string }) => `axis \`${x.path}\` has no values`, {
    help: () => "an axis needs at least one value",
  }),
  axisTwice: message("E0407", (x: { path: string }) => `axis \`${x.path}\` is given twice in one \`ablate\` block`, {
    help: () => "put all its values in one list, or use separate `ablate` blocks for a union",
  }),
  /** `fixed`: the label with its leading `-` spelt out (`neg1`), for one that starts with `-` */
  unsafeLabel: message("E0408", (x: { label: string; fixed?: string }) => `label \`${x.label}\` cannot be part of a variant id and folder name`, {
    label: (x) => (x.fixed ? `labels cannot start with \`-\`` : undefined),
    help: (x) =>
      x.label === "default"
        ? "`default` is the id of an experiment without axes; pick another label"
        : x.fixed
          ? `spell the sign: \`${x.fixed}\` (as the label derived from a negative number is)`
          : "labels are letters, digits and `_ . + = @ -` (not starting with `.` or `-`); give a safe label with a record: `{ safe_name = value }`",
  }),
  notNeedsBoolean: message("E0409", (x: { type: string }) => `\`not\` needs a boolean, found ${a(x.type)}`),
  logicNeedsBooleans: message("E0409", (x: { op: string; type: string }) => `\`${x.op}\` needs booleans, found ${a(x.type)}`),
  /** `type` is the value's type (`int`, `component`), `kind` a component's kind */
  excludeNotBoolean: message("E0409", (x: { type: string; kind?: string; shown: string }) => `an \`exclude\` condition must be a boolean, found ${article(x.type)} ${x.kind ?? x.type} \`${x.shown}\``, {
    help: () => "compare axes with values: `exclude model.vision == dino and model.language == gemma_7b_it`",
  }),
  labelOutsideExclude: message("E0412", (x: { path: string }) => `\`label(${x.path})\` is only meaningful in an \`exclude\` condition`, {
    help: () => "`label(AXIS)` is the label an axis has at a grid point; elsewhere refer to values directly",
  }),
  zipInZip: message("E0413", () => "a `zip` group inside `ablate zip`", {
    help: () => "`ablate zip` already pairs all its axes; write `ablate { zip { ... } OTHER: [...] }` to cross a group with other axes",
  }),
  noLabel: message("E0410", (x: { shown: string; path: string }) => `no label can be derived for \`${x.shown}\``, {
    help: (x) => `give labels with a record: \`${x.path}: { name = ${x.shown}, ... }\``,
  }),

  // ---- E05xx: command line and build -------------------------------------------------------------
  flagNotAssignment: message("E0501", (x: { flag: string; raw: string }) => `${x.flag} \`${x.raw}\` is not PATH=VALUE`, {
    help: (x) => `e.g. ${x.flag} finetune.lr=1e-5 or ${x.flag} model.vision=clip`,
  }),
  flagNotAValue: message("E0501", (x: { flag: string; raw: string; value: string; problem?: AssignmentProblem }) => `${x.flag} \`${x.raw}\`: \`${x.value}\` is not an mmfm value${x.problem ? ` (${assignmentText(x.problem)})` : ""}`, {
    help: () => 'values are written as in a spec: 1e-5, 42, "text", clip, [a, b]',
  }),
  setOnAxis: message("E0501", (x: { raw: string; path: string; experiment: string }) => `--set ${x.raw}: \`${x.path}\` is an axis of experiment \`${x.experiment}\``, {
    help: (x) => `keep only some of its values with --only ${x.path}=LABEL`,
  }),
  setUnused: message("E0501", (x: { raw: string; name: string }) => `--set ${x.raw}: no experiment of the file uses \`${x.name}\``, {
    help: () => "an --set path is an experiment field (`seed`, `model.vision`) or NAME.FIELD of a declaration an experiment uses",
  }),
  onlyNotAnAxis: message("E0501", (x: { path: string; experiment: string; guess?: string; axes: readonly string[] }) => `--only: \`${x.path}\` is not an axis of experiment \`${x.experiment}\``, {
    help: (x) => (x.guess ? didYouMean(x.guess) : x.axes.length ? `its axes are ${listNames(x.axes)}` : "it has no axes"),
  }),
  /** `labels`: per --only path, the labels its axis has without the --only flags, and the nearest to the one asked for */
  noVariantMatchesOnly: message(
    "E0502",
    (x: { only: readonly string[]; labels: readonly { path: string; labels: readonly string[]; guess?: string }[] }) => `no variant matches ${x.only.map((o) => `--only ${o}`).join(" ")}`,
    {
      help: (x) => [
        ...x.labels.map((l) => `\`${l.path}\` has the labels ${listNames(l.labels, "and")}${l.guess ? `; did you mean \`${l.path}=${l.guess}\`?` : ""}`),
        "`mmfmc grid FILE` lists the variants and their labels",
      ],
    },
  ),
  noVariantMatches: message("E0502", (x: { variant: string; ids: readonly string[] }) => `--variant \`${x.variant}\` matches no variant`, {
    help: (x) => `the variants are ${x.ids.join(", ")}`,
  }),
  cannotReadInput: message("E0503", cannotRead),

  // ---- warnings ----------------------------------------------------------------------------------
  unusedLet: message("W0101", (x: { name: string }) => `\`${x.name}\` is never used`, {
    help: () => "remove it, or refer to it",
  }),
  unusedImport: message("W0201", (x: { path: string }) => `nothing imported by \`import ${x.path}\` is used`, {
    help: () => "remove the import",
  }),
  excludeDropsNothing: message("W0401", (x: { experiment: string }) => "this `exclude` drops no variant", {
    label: (x) => `no variant of \`${x.experiment}\` satisfies the condition`,
    help: () => "check the condition's names and values; remove it if it is no longer needed",
  }),
  sameConfiguration: message("W0402", (x: { first: string; second: string }) => `variants \`${x.first}\` and \`${x.second}\` have the same configuration; keeping the first`),
  /** sizes as `61.3 GiB`; `variants` each with its need (`needs`, `breakdown`: the largest); `fix` the smallest change that fits, if any */
  stageDoesNotFit: message(
    "W0501",
    (x: { stage: string; variants: readonly { id: string; needs: string }[]; needs: string; available: string; breakdown: string; fix?: { change: string; needs: string } }) =>
      x.variants.length === 1
        ? `stage \`${x.stage}\` of \`${x.variants[0].id}\` needs about ${x.needs} per device but devices have ${x.available} (${x.breakdown})`
        : `stage \`${x.stage}\` of ${x.variants.length} variants needs up to ${x.needs} per device but devices have ${x.available} (${x.breakdown}, the largest)`,
    {
      help: (x) => [
        ...(x.variants.length > 1 ? [`the variants: ${x.variants.map((v) => `\`${v.id}\` ${v.needs}`).join(", ")}`] : []),
        x.fix
          ? `the smallest change that fits: \`${x.fix.change}\` (about ${x.fix.needs} per device)`
          : "no change of ZeRO stage, micro batch, checkpointing or device count makes it fit; use devices with more memory",
      ],
    },
  ),

  repeatsWithSeedAxis: message("E0411", () => "`repeats` and a `seed` axis both vary the seed", {
    help: () => "keep one: `repeats = N` runs seeds seed..seed+N-1; a `seed` axis runs exactly the seeds it lists",
  }),

  // ---- export: what a trainer cannot run (E0504), batch splits (E0505) ------------------------------
  checkpointFile: message("E0504", (x: { backbone: string; file: string }) => `the LLaVA trainer cannot express ${x.backbone} from the file \`${x.file}\``, {
    help: () => [
      "LLaVA loads checkpoints with from_pretrained, which reads a Hugging Face folder (config.json and weights)",
      "point `weights` at that folder, or remove it to use `hub_id`",
    ],
  }),
  noCheckpoint: message("E0504", (x: { backbone: string }) => `the LLaVA trainer cannot express ${x.backbone} without a checkpoint: it has neither \`weights\` nor \`hub_id\``, {
    help: () => "set `hub_id` to the Hugging Face id of the real checkpoint, or `weights` to a local Hugging Face folder",
  }),
  architectureMismatch: message(
    "E0504",
    (x: { part: string; field: string; actual: unknown; hub: string; expected: unknown }) =>
      `the LLaVA trainer cannot express \`${x.field}\` = ${JSON.stringify(x.actual)} of the ${x.part} backbone: it loads \`${x.hub}\`, whose \`${x.field}\` is ${JSON.stringify(x.expected)}`,
    { help: (x) => `the trainer takes the architecture from the checkpoint; remove \`${x.field}\` or use a checkpoint that has it (\`weights\`)` },
  ),
  /** `family`: the vision family as people write it (`SigLIP`) */
  visionFamily: message("E0504", (x: { family: string }) => `the LLaVA trainer cannot express a ${x.family} vision tower`, {
    help: () => [
      "LLaVA's build_vision_tower accepts CLIP (an `openai`/`laion` id or a folder), LLaVA-Gemma's CLIP and DINOv2 (an id containing `dino`)",
      "use `clip_vit` or `dinov2`, or run this variant on the tfjs runtime (`mmfmc run`)",
    ],
  }),
  dinoFromFolder: message("E0504", () => "the LLaVA trainer cannot express a DINOv2 tower from a local folder", {
    help: () => [
      "LLaVA-Gemma's build_vision_tower loads every existing folder as CLIP; DINOv2 is chosen only by a hub id containing `dino`",
      "remove `weights` and set `hub_id`, e.g. `facebook/dinov2-giant`",
    ],
  }),
  /** `codeBase`: the code base the variant is exported for (`LLaVA`, `LLaVA-Gemma`) */
  towerId: message("E0504", (x: { family: string; id: string; codeBase: string }) => `the LLaVA trainer cannot express the ${x.family} tower \`${x.id}\``, {
    help: (x) =>
      x.family === "clip_vit"
        ? `${x.codeBase}'s build_vision_tower loads CLIP from an id starting with \`openai\` or \`laion\`, or from an existing folder (\`weights\`)`
        : `${x.codeBase}'s build_vision_tower loads DINOv2 only from an id containing \`dino\``,
  }),
  languageFamily: message("E0504", (x: { family: string }) => `the LLaVA trainer cannot express a \`${x.family}\` language model`, {
    help: () => [
      "LLaVA's train.py trains LLaMA/Vicuna (`llama`), LLaVA-Gemma's Gemma and LLaMA",
      "use one of those families, or run this variant on the tfjs runtime (`mmfmc run`)",
    ],
  }),
  notGemmaPath: message("E0504", (x: { path: string }) => `the LLaVA trainer cannot express the Gemma checkpoint \`${x.path}\``, {
    help: () => [
      "LLaVA-Gemma's train.py loads Gemma only when --model_name_or_path contains `gemma` (and not `mpt`)",
      "name the folder so that it does, e.g. `checkpoints/gemma-2b-it`",
    ],
  }),
  /** `loadedAs`: the class train.py would pick for the path; `fork`: the code base also loads Gemma */
  llamaPath: message("E0504", (x: { path: string; loadedAs: string; codeBase: string; fork: boolean }) => `the LLaVA trainer cannot express the LLaMA checkpoint \`${x.path}\``, {
    label: (x) => `${x.codeBase}'s train.py would load it as ${x.loadedAs}`,
    help: (x) => [
      `${x.codeBase}'s train.py picks the model class by substring: --model_name_or_path loads as LLaMA only when it contains neither \`mpt\`${x.fork ? " nor `gemma`" : ""}`,
      "name the folder so that it does not, e.g. `checkpoints/vicuna-7b-v1.5`",
    ],
  }),
  /** a chat template the code base has no conversation template for (train.py would fall back to vicuna_v1) */
  missingTemplate: message("E0504", (x: { template: string; codeBase: string; known: readonly string[] }) => `the LLaVA trainer cannot express the \`${x.template}\` template in ${x.codeBase}`, {
    help: (x) => [
      `${x.codeBase}'s conversation templates are ${x.known.map((t) => `\`${t}\``).join(", ")}; train.py would silently train with vicuna_v1 instead`,
      x.template === "gemma" ? 'use `template = "vicuna_v1"` with a LLaMA/Vicuna model (a Gemma language model goes to LLaVA-Gemma, which has `gemma`)' : `use one of ${x.known.map((t) => `\`${t}\``).join(", ")}`,
    ],
  }),
  separateTokenizer: message("E0504", () => "the LLaVA trainer cannot express a tokenizer apart from the model's checkpoint", {
    help: () => "LLaVA loads the tokenizer from --model_name_or_path; put tokenizer files in the `weights` folder and remove `tokenizer`",
  }),
  imageTokenNotImage: message("E0504", (x: { token: string }) => `the LLaVA trainer cannot express the image token \`${x.token}\``, {
    help: () => "LLaVA's data files and code use `<image>`",
  }),
  evalBeforeTraining: message("E0504", (x: { stage: string }) => `the LLaVA trainer cannot express the evaluation \`${x.stage}\` before any training stage`, {
    help: () => "LLaVA's eval scripts evaluate a checkpoint the trainer wrote; put a training stage first",
  }),
  syntheticBenchmark: message("E0504", () => "the LLaVA trainer cannot express an evaluation on `synthetic_shapes`", {
    help: () => "evaluate it with `mmfmc run`; LLaVA's eval scripts read the benchmarks' own files",
  }),
  unknownBenchmark: message("E0504", (x: { family: string }) => `the LLaVA trainer cannot express the benchmark \`${x.family}\``, {
    help: () => "LLaVA's scripts/v1_5/eval has no script for it; score answers made elsewhere with `mmfmc score`",
  }),
  partOfBenchmark: message("E0504", (x: { size: number; name: string }) => `the LLaVA trainer cannot express \`size\` = ${x.size} of the benchmark \`${x.name}\``, {
    help: () => "LLaVA's eval scripts evaluate the whole question file; remove `size` or point `annotations` at a shorter file",
  }),
  notConversations: message("E0504", (x: { family: string }) => `the LLaVA trainer cannot express training on \`${x.family}\``, {
    help: () => "LLaVA trains on a conversation file: write it with `mmfmc data shapes --out DIR` and use `llava_json`",
  }),
  noImages: message("E0504", (x: { dataset: string | null | undefined }) => `the LLaVA trainer cannot express the dataset${x.dataset ? ` \`${x.dataset}\`` : ""} without \`images\``, {
    help: () => "--image_folder is where LLaVA finds the samples' images; set `images`",
  }),
  pretrainingObjective: message("E0504", (x: { objective: string; stage: string }) => `the LLaVA trainer cannot express \`objective = "${x.objective}"\` of stage \`${x.stage}\``, {
    help: () => [
      "LLaVA's trainer minimises LLaVA's loss only (`objective = \"llava\"`)",
      "pretrain the backbone with `mmfmc run` (the stage writes it as a Hugging Face folder) and point the backbone's `weights` at that folder",
    ],
  }),
  /** `codeBase`: the code base the variant is exported for */
  trainsVision: message("E0504", (x: { stage: string; codeBase: string }) => `the LLaVA trainer cannot express training the vision backbone in stage \`${x.stage}\``, {
    label: (x) => `${x.codeBase}'s train.py keeps the vision tower frozen`,
    help: () => [
      "neither LLaVA's nor LLaVA-Gemma's train.py has an argument that unfreezes it: the tower's load_model freezes it (requires_grad_(False)), and the `unfreeze_mm_vision_tower` it reads only makes it load early; so neither has a vision learning rate (`vision_lr`)",
      "train `connector` and/or `language` in this stage, or run this variant on the tfjs runtime (`mmfmc run`)",
    ],
  }),
  /** `field`: `data` (several datasets) or `mixture` */
  severalDatasets: message(
    "E0504",
    (x: { stage: string; field: string; codeBase: string }) =>
      x.field === "data" ? `the LLaVA trainer cannot express several datasets in stage \`${x.stage}\`` : `the LLaVA trainer cannot express a \`mixture\` in stage \`${x.stage}\``,
    {
      label: (x) => `${x.codeBase}'s train.py reads one \`--data_path\``,
      help: (x) => [
        `${x.codeBase}'s LazySupervisedDataset loads one JSON file and trains on its samples in the sampler's order: it has no list of files and no weights`,
        x.field === "data"
          ? "merge the datasets into one LLaVA JSON (as llava_v1_5_mix665k.json merges LLaVA-1.5's) and give the stage that one dataset, or run this variant with `mmfmc run`"
          : "remove `mixture` (one dataset is trained on as it is), or run this variant with `mmfmc run`",
      ],
    },
  ),
  /** `lora`: the LoRA stage before it */
  trainAfterLora: message("E0504", (x: { stage: string; lora: string; codeBase: string }) => `the LLaVA trainer cannot express training stage \`${x.stage}\` after the LoRA stage \`${x.lora}\``, {
    label: (x) => `${x.codeBase}'s train.py would start from the adapters \`${x.lora}\` saves`,
    help: (x) => [
      `a LoRA stage saves its adapters and non_lora_trainables.bin, not merged weights; ${x.codeBase}'s train.py loads --model_name_or_path with from_pretrained, which needs a full checkpoint`,
      `make \`${x.lora}\` the last training stage, or train it without \`lora\``,
    ],
  }),
  /** `from`: where the projector came from (`the previous stage's mm_projector.bin`, `its random initialisation`) */
  loraFrozenConnector: message("E0504", (x: { stage: string; from: string; codeBase: string }) => `the LLaVA trainer cannot express evaluating the LoRA stage \`${x.stage}\` with the connector frozen`, {
    label: () => "`connector` is not trained here, so its LoRA checkpoint holds no projector",
    help: (x) => [
      `${x.codeBase}'s train.py saves a LoRA stage's adapters and what it trained (non_lora_trainables.bin); the projector, ${x.from}, is in neither that folder nor the base model load_pretrained_model rebuilds it over`,
      `train \`connector\` in \`${x.stage}\` too, as scripts/v1_5/finetune_lora.sh does`,
    ],
  }),
  loraEval: message("E0504", (x: { stage: string; family: string; codeBase: string }) => `the LLaVA trainer cannot express evaluating a \`${x.family}\` model trained with LoRA in stage \`${x.stage}\``, {
    help: (x) => [
      `${x.codeBase}'s load_pretrained_model rebuilds a LoRA checkpoint as LlavaLlamaForCausalLM only, whatever the language model`,
      "evaluate it on the tfjs runtime (`mmfmc run`), or train that stage without `lora`",
    ],
  }),
  gaudiPrecision: message("E0504", (x: { precision: string }) => `the LLaVA trainer cannot express \`precision\` = "${x.precision}" on Gaudi`, {
    help: () => 'LLaVA-Gemma\'s zero2_gaudi.json trains in bf16; use `precision = "bf16"` or `accelerator = "gpu"`',
  }),
  mixedAccelerators: message("E0504", () => "the LLaVA trainer cannot express stages of one experiment on both GPUs and Gaudi", {
    help: () => "the Slurm script asks for one kind of node: give every stage the same `accelerator`",
  }),
  batchSplit: message(
    "E0505",
    (x: { stage: string; batch: number; devices: number; microBatch: number; valid: readonly number[] }) =>
      `global batch ${x.batch} of stage \`${x.stage}\` does not split over ${x.devices} devices at micro_batch ${x.microBatch}: ${x.batch} / (${x.microBatch} × ${x.devices}) is not a whole number of accumulation steps`,
    {
      help: (x) => [
        "the trainer runs micro_batch samples per device and accumulates gradients until the global batch: batch = micro_batch × devices × accumulation",
        x.valid.length ? `micro_batch values that split it over ${x.devices} devices: ${x.valid.join(", ")}` : `${x.devices} devices need a batch that is a multiple of ${x.devices}`,
      ],
    },
  ),
} as const;
