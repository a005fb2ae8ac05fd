/**
 * The TextMate grammar of editors/vscode, run by the engine VS Code uses (vscode-textmate with the
 * Oniguruma wasm of vscode-oniguruma), on every example and standard library file and on lines that
 * exercise each construct.
 *
 * "Unmatched" means: a non-blank character whose token has no scope but the grammar's root
 * (`source.mmfm`), i.e. no rule of the grammar claimed it; or a token scoped `invalid.*` (the
 * grammar's catch-all for characters the language does not allow) in a file that is valid.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";
import { golden, repo } from "../helpers.js";
import { casesDir, mmfmFiles } from "../language/harness.js";

const grammarPath = join(repo, "editors", "vscode", "syntaxes", "mmfm.tmLanguage.json");
let grammar: textmate.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope: string) => (scope === "source.mmfm" ? textmate.parseRawGrammar(readFileSync(grammarPath, "utf8"), grammarPath) : null),
  });
  grammar = (await registry.loadGrammar("source.mmfm"))!;
});

interface Token {
  readonly line: number;
  readonly text: string;
  readonly scopes: readonly string[];
}

function tokenize(text: string): Token[] {
  let state = textmate.INITIAL;
  const out: Token[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, i) => {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) out.push({ line: i + 1, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    state = r.ruleStack;
  });
  return out;
}

/** The scope of a token holding exactly `text` (the first such), without the root. */
function scopeOf(tokens: readonly Token[], text: string, nth = 0): string {
  const found = tokens.filter((t) => t.text === text)[nth];
  if (!found) throw new Error(`no token \`${text}\` in ${JSON.stringify(tokens.map((t) => t.text))}`);
  return found.scopes.slice(1).join(" ");
}

const files = [
  ...readdirSync(join(repo, "examples")).filter((f) => f.endsWith(".mmfm")).map((f) => join(repo, "examples", f)),
  ...readdirSync(join(repo, "std")).filter((f) => f.endsWith(".mmfm")).map((f) => join(repo, "std", f)),
  // the valid spec cases: every construct of the language, in files that check
  ...mmfmFiles(join(casesDir, "valid")),
];

describe("the TextMate grammar", () => {
  it.each(files.map((f) => [f.slice(repo.length + 1), f]))("tokenizes %s with no unmatched region", (_name, file) => {
    const tokens = tokenize(readFileSync(file, "utf8"));
    const unmatched = tokens.filter((t) => t.text.trim() !== "" && t.scopes.length === 1);
    expect(unmatched.map((t) => `${t.line}: ${t.text}`)).toEqual([]);
    const invalid = tokens.filter((t) => t.scopes.some((s) => s.startsWith("invalid")));
    expect(invalid.map((t) => `${t.line}: ${t.text} ${t.scopes.join(" ")}`)).toEqual([]);
    expect(tokens.filter((t) => t.text.trim() !== "").length).toBeGreaterThan(20);
  });

  it("scopes declarations, fields, values and comments", () => {
    const t = tokenize(
      [
        'import "std"',
        "// a line comment",
        "let batch = 16 * 8",
        "vision clip = clip_vit_l14_336 { select_layer = -2  feature = \"patch\" }  /* trailing",
        "   block comment */",
        "model m {",
        "  vision = clip",
        "  template = \"gemma\"",
        "}",
        "stage s { data = d, train = [connector], lr = 1e-5, batch = 256_000, schedule = cosine { warmup = 0.03 } }",
        "experiment e {",
        "  ablate zip {",
        "    model.vision: [clip, dino]",
        '    seed: { "2b" = 1, seven = 2 }',
        "  }",
        "  exclude model.vision == dino and not true",
        "}",
      ].join("\n"),
    );
    expect(scopeOf(t, "import")).toBe("keyword.control.import.mmfm");
    expect(scopeOf(t, "std")).toBe("string.quoted.double.mmfm");
    expect(scopeOf(t, "//")).toBe("comment.line.double-slash.mmfm punctuation.definition.comment.mmfm");
    expect(scopeOf(t, " a line comment")).toBe("comment.line.double-slash.mmfm");
    expect(scopeOf(t, "let")).toBe("storage.type.let.mmfm");
    expect(scopeOf(t, "batch")).toBe("variable.other.constant.mmfm");
    expect(scopeOf(t, "16")).toBe("constant.numeric.integer.mmfm");
    expect(scopeOf(t, "*")).toBe("keyword.operator.arithmetic.mmfm");
    expect(scopeOf(t, "vision")).toBe("storage.type.vision.mmfm");
    expect(scopeOf(t, "clip")).toBe("entity.name.type.mmfm");
    expect(scopeOf(t, "clip_vit_l14_336")).toBe("entity.other.inherited-class.mmfm");
    expect(scopeOf(t, "select_layer")).toBe("meta.block.mmfm variable.other.property.mmfm");
    expect(scopeOf(t, "2")).toBe("meta.block.mmfm constant.numeric.integer.mmfm");
    expect(scopeOf(t, "   block comment ")).toBe("comment.block.mmfm");
    // a kind used as a field name is a field
    expect(scopeOf(t, "vision", 1)).toBe("meta.block.mmfm variable.other.property.mmfm");
    expect(scopeOf(t, "1e-5")).toBe("meta.block.mmfm constant.numeric.float.mmfm");
    expect(scopeOf(t, "256_000")).toBe("meta.block.mmfm constant.numeric.integer.mmfm");
    expect(scopeOf(t, "0.03")).toBe("meta.block.mmfm meta.block.mmfm constant.numeric.float.mmfm");
    expect(scopeOf(t, "connector")).toBe("meta.block.mmfm meta.list.mmfm storage.type.connector.mmfm");
    expect(scopeOf(t, "zip")).toBe("meta.block.mmfm meta.ablate.mmfm keyword.control.zip.mmfm");
    expect(scopeOf(t, "model", 1)).toBe("meta.block.mmfm meta.ablate.mmfm variable.other.property.axis.mmfm");
    expect(scopeOf(t, ".")).toBe("meta.block.mmfm meta.ablate.mmfm variable.other.property.axis.mmfm punctuation.accessor.mmfm");
    expect(scopeOf(t, ":")).toBe("meta.block.mmfm meta.ablate.mmfm punctuation.separator.key-value.mmfm");
    expect(scopeOf(t, '"2b"')).toBe("meta.block.mmfm meta.ablate.mmfm meta.block.mmfm string.quoted.double.key.mmfm");
    expect(scopeOf(t, "seven")).toBe("meta.block.mmfm meta.ablate.mmfm meta.block.mmfm variable.other.property.mmfm");
    expect(scopeOf(t, "exclude")).toBe("meta.block.mmfm keyword.control.exclude.mmfm");
    expect(scopeOf(t, "==")).toBe("meta.block.mmfm keyword.operator.comparison.mmfm");
    expect(scopeOf(t, "model", 2)).toBe("meta.block.mmfm meta.path.mmfm variable.other.mmfm");
    expect(scopeOf(t, "vision", 3)).toBe("meta.block.mmfm meta.path.mmfm variable.other.mmfm");
    expect(scopeOf(t, "not")).toBe("meta.block.mmfm keyword.operator.logical.mmfm");
    expect(scopeOf(t, "true")).toBe("meta.block.mmfm constant.language.boolean.mmfm");
  });

  it("scopes escapes, and marks what the language does not allow", () => {
    const t = tokenize(['let s = "a\\"b\\\\c\\n\\u{1F600}\\q"', "let n = 1__0", "let c = 'x'", 'let open = "never closed', "let after = 1"].join("\n"));
    expect(scopeOf(t, '\\"')).toBe("string.quoted.double.mmfm constant.character.escape.mmfm");
    expect(scopeOf(t, "\\\\")).toBe("string.quoted.double.mmfm constant.character.escape.mmfm");
    expect(scopeOf(t, "\\n")).toBe("string.quoted.double.mmfm constant.character.escape.mmfm");
    expect(scopeOf(t, "\\u{1F600}")).toBe("string.quoted.double.mmfm constant.character.escape.unicode.mmfm");
    expect(scopeOf(t, "\\q")).toBe("string.quoted.double.mmfm invalid.illegal.escape.mmfm");
    expect(scopeOf(t, "1__0")).toBe("invalid.illegal.numeric.mmfm");
    expect(scopeOf(t, "'")).toBe("invalid.illegal.character.mmfm");
    // an unterminated string ends with its line
    expect(scopeOf(t, "after")).toBe("variable.other.constant.mmfm");
  });
});

/** A JSON grammar as the XML property list Sublime Text reads (`.tmLanguage`). */
function plist(value: unknown, indent = ""): string {
  const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const inner = indent + "  ";
  if (typeof value === "string") return `${indent}<string>${escape(value)}</string>`;
  if (typeof value === "number") return `${indent}<integer>${value}</integer>`;
  if (typeof value === "boolean") return `${indent}<${value}/>`;
  if (Array.isArray(value)) return [`${indent}<array>`, ...value.map((v) => plist(v, inner)), `${indent}</array>`].join("\n");
  const entries = Object.entries(value as Record<string, unknown>).filter(([k]) => k !== "$schema");
  return [`${indent}<dict>`, ...entries.flatMap(([k, v]) => [`${inner}<key>${escape(k)}</key>`, plist(v, inner)]), `${indent}</dict>`].join("\n");
}

describe("the Sublime Text copy of the grammar", () => {
  it("is the TextMate grammar as a property list (MMFM_UPDATE_GOLDEN=1 rewrites it)", () => {
    const json = JSON.parse(readFileSync(grammarPath, "utf8"));
    const text = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
      "<!-- generated from editors/vscode/syntaxes/mmfm.tmLanguage.json (MMFM_UPDATE_GOLDEN=1 npx vitest run test/lsp/grammar.test.ts); do not edit -->",
      '<plist version="1.0">',
      plist(json),
      "</plist>",
      "",
    ].join("\n");
    const { expected, actual } = golden(join(repo, "editors", "sublime", "mmfm.tmLanguage"), text);
    expect(actual).toBe(expected);
  });
});
