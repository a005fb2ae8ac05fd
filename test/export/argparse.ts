/**
 * Python's argparse, as far as the eval scripts of LLaVA use it (optional arguments only), over the
 * argument specs of test/fixtures/llava_eval_args.json: the parse a script does of the argv bash gave
 * it, or the error argparse would exit with.
 *
 * Followed: `--flag value` and `--flag=value`; a unique prefix of a flag stands for it (allow_abbrev);
 * a value must not look like a flag (a negative number may); `store_true`; `type` converts as Python
 * does (`int("08")` is 8, `float("1e-3")`, `bool(text)` is true for any non-empty text, `list(text)`
 * is its characters); `required`; anything left over is "unrecognized arguments".
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repo } from "../helpers.js";

export interface ArgumentSpec {
  readonly flags: readonly string[];
  readonly type?: "str" | "int" | "float" | "bool" | "list";
  readonly action?: string;
  readonly default?: unknown;
  readonly required?: boolean;
}

export interface ScriptSpec {
  readonly repository: string;
  readonly commit: string;
  readonly file: string;
  readonly arguments: readonly ArgumentSpec[];
}

const fixture = JSON.parse(readFileSync(join(repo, "test", "fixtures", "llava_eval_args.json"), "utf8"));

/** The parsers of the files LLaVA-Gemma's scripts run, by path in its checkout. */
export const parsers: Readonly<Record<string, ScriptSpec>> = fixture.scripts;

/** The parsers of the files stock LLaVA's scripts run, by path in haotian-liu/LLaVA's checkout. */
export const llavaParsers: Readonly<Record<string, ScriptSpec>> = fixture.llava_scripts;

/** The names of each code base's conversation templates (what `--conv-mode` and `--version` look up). */
export const convTemplates: Readonly<Record<"llava" | "llava-gemma", readonly string[]>> = fixture.conv_templates;

export type Parsed = { ok: true; args: Record<string, unknown> } | { ok: false; error: string };

const dest = (a: ArgumentSpec) => a.flags.find((f) => f.startsWith("--"))!.slice(2).replace(/-/g, "_");

function convert(type: ArgumentSpec["type"], text: string): { value: unknown } | { error: string } {
  switch (type) {
    case undefined:
    case "str":
      return { value: text };
    case "int":
      return /^\s*[-+]?\d+(_\d+)*\s*$/.test(text) ? { value: Number(text.replace(/_/g, "")) } : { error: `invalid int value: '${text}'` };
    case "float": {
      const t = text.trim().toLowerCase();
      if (/^[-+]?((\d+(_\d+)*)?\.?\d*(_\d+)*(e[-+]?\d+)?)$/.test(t) && /\d/.test(t)) return { value: Number(t.replace(/_/g, "")) };
      if (/^[-+]?(inf|infinity|nan)$/.test(t)) return { value: t.includes("nan") ? NaN : t.startsWith("-") ? -Infinity : Infinity };
      return { error: `invalid float value: '${text}'` };
    }
    case "bool":
      return { value: text !== "" };
    case "list":
      return { value: [...text] };
  }
}

const looksLikeFlag = (text: string) => text.startsWith("-") && !/^-\d+(\.\d*)?$/.test(text);

/** The parse of `argv` by `script` of a code base's checkout (LLaVA-Gemma's unless `codeBase` says otherwise). */
export function parse(script: string, argv: readonly string[], codeBase: "llava" | "llava-gemma" = "llava-gemma"): Parsed {
  const spec = (codeBase === "llava" ? llavaParsers : parsers)[script];
  if (!spec) return { ok: false, error: `no parser for ${script}` };
  const args: Record<string, unknown> = {};
  for (const a of spec.arguments) args[dest(a)] = a.action === "store_true" ? false : (a.default ?? null);
  const seen = new Set<ArgumentSpec>();
  const unrecognized: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!looksLikeFlag(token)) {
      unrecognized.push(token);
      continue;
    }
    const eq = token.indexOf("=");
    const name = eq >= 0 ? token.slice(0, eq) : token;
    const exact = spec.arguments.filter((a) => a.flags.includes(name));
    const matches = exact.length ? exact : spec.arguments.filter((a) => a.flags.some((f) => f.startsWith(name)));
    if (matches.length > 1) return { ok: false, error: `ambiguous option: ${name}` };
    if (matches.length === 0) {
      unrecognized.push(token);
      continue;
    }
    const a = matches[0];
    seen.add(a);
    if (a.action === "store_true") {
      if (eq >= 0) return { ok: false, error: `argument ${a.flags.join("/")}: ignored explicit argument '${token.slice(eq + 1)}'` };
      args[dest(a)] = true;
      continue;
    }
    let text: string;
    if (eq >= 0) text = token.slice(eq + 1);
    else if (i + 1 < argv.length && !looksLikeFlag(argv[i + 1])) text = argv[++i];
    else return { ok: false, error: `argument ${a.flags.join("/")}: expected one argument` };
    const converted = convert(a.type, text);
    if ("error" in converted) return { ok: false, error: `argument ${a.flags.join("/")}: ${converted.error}` };
    args[dest(a)] = converted.value;
  }
  const missing = spec.arguments.filter((a) => a.required && !seen.has(a));
  if (missing.length) return { ok: false, error: `the following arguments are required: ${missing.map((a) => a.flags.join("/")).join(", ")}` };
  if (unrecognized.length) return { ok: false, error: `unrecognized arguments: ${unrecognized.join(" ")}` };
  return { ok: true, args };
}
